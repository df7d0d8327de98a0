// crawler/report.hpp — how a visit is shown: a human summary, or the versioned JSON object.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "blacklist/cpu_rule.hpp"
#include "blacklist/evidence.hpp"

namespace crawler {

// The `check --json` object: blacklist::to_json plus the CPU rule's parameters and decision.
nlohmann::json report_json(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                           const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu);

// Verdict, status, why, a compact CPU trace, sockets, and scripts by target.
std::string human_summary(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                          const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu);

// One line of the CPU trace: a block character per interval, 8 levels up to 100% of a core.
std::string cpu_sparkline(const std::vector<double>& percents);

// Page-controlled text made safe for a terminal: control characters (ESC sequences!) become '?',
// and the text is cut to `max_bytes`.
std::string terminal_safe(std::string_view text, std::size_t max_bytes = 200);

}  // namespace crawler
