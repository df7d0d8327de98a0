// crawler/report.hpp — how a visit is shown: a human summary, or the versioned JSON object.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "blacklist/cpu_rule.hpp"
#include "blacklist/evidence.hpp"
#include "blacklist/known.hpp"

namespace crawler {

// The `check --json` object: blacklist::to_json plus the CPU rule's parameters and decision.
nlohmann::json report_json(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                           const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu);

// The summary `check` prints, for a security analyst: the verdict, whether the site could be checked,
// why (the evidence in plain words, the CPU rule as a sentence), the CPU trace and how it is measured,
// the busiest code, what the visit wrote to the blacklist (new, or already listed when
// `listed_before` is the blacklist as it was before the visit), sockets, and code by where it ran.
// `check --json` keeps every field under the code's own names.
std::string human_summary(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                          const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu,
                          const blacklist::KnownEntries* listed_before = nullptr);

// One line of the CPU trace: a block character per interval, 8 levels up to 100% of a core.
std::string cpu_sparkline(const std::vector<double>& percents);

// Page-controlled text made safe for a terminal: control characters (ESC sequences!) become '?',
// and the text is cut to `max_bytes`.
std::string terminal_safe(std::string_view text, std::size_t max_bytes = 200);

}  // namespace crawler
