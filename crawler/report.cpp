// crawler/report.cpp — human and JSON renderings of a visit.
#include "crawler/report.hpp"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

namespace crawler {

nlohmann::json report_json(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                           const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu) {
  auto out = blacklist::to_json(evidence, judgement);
  out["cpu_rule"] = {{"decision", blacklist::to_string(cpu.decision)},
                     {"window", rule.window},
                     {"threshold_percent", rule.threshold_percent},
                     {"ratio", rule.ratio},
                     {"required", rule.required()},
                     {"exceeding", cpu.exceeding},
                     {"best_exceeding", cpu.best_exceeding},
                     {"fired_at", cpu.fired_at},
                     {"median_percent", cpu.median_percent}};
  return out;
}

std::string terminal_safe(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (unsigned char c : text.substr(0, max_bytes)) out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  if (text.size() > max_bytes) out += "…";
  return out;
}

std::string cpu_sparkline(const std::vector<double>& percents) {
  static constexpr std::array<std::string_view, 8> kBlocks{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::string out;
  for (double percent : percents) {
    const int level = std::clamp(static_cast<int>(percent / 100.0 * 7.0 + 0.5), 0, 7);
    out += kBlocks[static_cast<std::size_t>(level)];
  }
  return out;
}

std::string human_summary(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                          const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu) {
  std::string out = fmt::format("{}\n", terminal_safe(evidence.url, 500));
  out += fmt::format("  verdict  {} (confidence {})\n", blacklist::to_string(judgement.verdict), judgement.confidence);
  out += fmt::format("  status   {}{}\n", blacklist::to_string(evidence.status),
                     evidence.status_reason.empty() ? "" : " — " + terminal_safe(evidence.status_reason));
  if (evidence.final_url != evidence.url) out += fmt::format("  final    {}\n", terminal_safe(evidence.final_url, 500));
  for (std::size_t i = 0; i < judgement.reasons.size(); ++i) {
    const auto& reason = judgement.reasons[i];
    out += fmt::format("  {}  [{}] {}: {}\n", i == 0 ? "why    " : "       ", reason.strength, reason.signal,
                       terminal_safe(reason.detail, 300));
  }
  const auto percents = blacklist::interval_percentages(evidence.cpu_samples);
  if (!percents.empty())
    out +=
        fmt::format("  cpu      {}  {} samples × {} ms, threshold {:g}%, {} of {} needed; {}\n",
                    cpu_sparkline(percents), percents.size(), static_cast<int>(evidence.sample_period_seconds * 1000),
                    rule.threshold_percent, rule.required(), rule.window, blacklist::to_string(cpu.decision));
  constexpr std::size_t kHotListed = 4;
  for (std::size_t i = 0; i < std::min(evidence.hot_code.size(), kHotListed); ++i) {
    const auto& hot = evidence.hot_code[i];
    const std::string where =
        hot.language == "WebAssembly" ? "module " + hot.wasm_sha256.substr(0, 16) : terminal_safe(hot.script_url, 160);
    out += fmt::format("  {}  {:.0f}% {} ({} in {}): {}\n", i == 0 ? "hot    " : "       ", 100 * hot.share,
                       terminal_safe(hot.function, 80), where, hot.target_type, hot.code);
  }
  for (std::size_t i = 0; i < evidence.websockets.size(); ++i) {
    const auto& socket = evidence.websockets[i];
    out += fmt::format("  {}  {} ({}) sent {} / received {} frames\n", i == 0 ? "sockets" : "       ",
                       terminal_safe(socket.url), socket.target_type, socket.frames_sent, socket.frames_received);
  }
  std::map<std::string, int> per_target;
  for (const auto& script : evidence.scripts) ++per_target[script.target_type];
  if (!per_target.empty()) {
    std::string counts;
    for (const auto& [type, n] : per_target) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, type);
    out += fmt::format("  scripts  {}\n", counts);
    constexpr std::size_t kListed = 12;
    std::size_t listed = 0;
    for (const auto& script : evidence.scripts) {
      if (script.url.empty() || listed++ >= kListed) continue;
      out += fmt::format("           {:<8} {:<11} {}\n", script.target_type,
                         script.language == "WebAssembly" ? "wasm" : "js", terminal_safe(script.url, 160));
    }
    if (listed > kListed) out += fmt::format("           … {} more\n", listed - kListed);
  }
  if (!evidence.counters.empty()) {
    std::string counters;
    for (const auto& [name, value] : evidence.counters)
      counters += fmt::format("{}{}={}", counters.empty() ? "" : " ", name, value);
    out += fmt::format("  counters {}\n", counters);
  }
  out += fmt::format("  elapsed  {:.1f} s\n", static_cast<double>(evidence.elapsed_ms) / 1000.0);
  return out;
}

}  // namespace crawler
