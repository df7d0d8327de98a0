// blacklist/judge.cpp — the seed method's decision table, with every signal named in the reasons.
#include "blacklist/judge.hpp"

#include <fmt/format.h>

namespace blacklist {
namespace {

constexpr int kConfidenceCpuAndSocket = 80;
constexpr int kConfidenceCpuAlone = 40;
constexpr int kConfidenceSocketAlone = 5;

Reason cpu_reason(const CpuRule& rule, const CpuOutcome& cpu) {
  if (cpu.decision == CpuDecision::fired)
    return {"cpu_rule",
            fmt::format("{} of {} samples above {:g}% of one core (median {:.0f}%)", cpu.best_exceeding, rule.window,
                        rule.threshold_percent, cpu.median_percent),
            "strong"};
  return {"cpu_rule",
          fmt::format("did not fire: {} of {} samples above {:g}% of one core, {} of {} in a window needed "
                      "(median {:.0f}%)",
                      cpu.exceeding, cpu.intervals, rule.threshold_percent, rule.required(), rule.window,
                      cpu.median_percent),
          "info"};
}

std::string socket_summary(const Evidence& evidence) {
  const auto& first = evidence.websockets.front();
  std::string text = fmt::format("{} opened by {}", first.url, first.target_type);
  if (evidence.websockets.size() > 1) text += fmt::format(" (+{} more)", evidence.websockets.size() - 1);
  return text;
}

}  // namespace

Judgement judge(const Evidence& evidence, const CpuRule& rule, const CpuOutcome& cpu) {
  Judgement out;
  if (evidence.status != Status::ok && evidence.status != Status::http_error && evidence.cpu_samples.empty()) {
    out.reasons.push_back({"status", fmt::format("not checked: {} ({})", to_string(evidence.status),
                                                 evidence.status_reason),
                           "info"});
    return out;
  }
  const bool cpu_fired = cpu.decision == CpuDecision::fired;
  const bool has_socket = !evidence.websockets.empty();
  out.reasons.push_back(cpu_reason(rule, cpu));
  if (has_socket)
    out.reasons.push_back({"websocket", socket_summary(evidence), cpu_fired ? "strong" : "weak"});

  if (cpu_fired && has_socket) {
    out.verdict = Verdict::cryptojacking;
    out.confidence = kConfidenceCpuAndSocket;
  } else if (cpu_fired) {
    out.verdict = Verdict::suspicious;
    out.confidence = kConfidenceCpuAlone;
  } else {
    out.verdict = Verdict::clean;
    out.confidence = has_socket ? kConfidenceSocketAlone : 0;
  }
  return out;
}

}  // namespace blacklist
