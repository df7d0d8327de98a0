// crawler/report.cpp — human and JSON renderings of a visit.
#include "crawler/report.hpp"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

#include "util/text.hpp"

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

namespace {

// Words for an analyst, not the code's names: the JSON keeps those.
std::string_view strength_words(std::string_view strength) {
  if (strength == "conclusive") return "decisive";
  if (strength == "strong") return "strong  ";
  if (strength == "weak") return "weak    ";
  return "note    ";
}

std::string signal_words(std::string_view signal) {
  static const std::map<std::string_view, std::string_view> kWords{
      {"known", "blacklisted"},
      {"pool_protocol", "mining-pool protocol"},
      {"pool_shape", "mining-pool traffic"},
      {"pool_job", "mining jobs"},
      {"worker_socket", "socket in a worker"},
      {"keywords", "miner code"},
      {"wasm", "WebAssembly"},
      {"hot_code", "busiest code"},
      {"ip_listed", "listed address"},
      {"page_listed", "seen before"},
      {"status", "not checked"},
  };
  const auto found = kWords.find(signal);
  if (found != kWords.end()) return std::string(found->second);
  return std::string(signal);
}

// "a worker", "the page": where a script, socket or hot function ran.
std::string target_words(std::string_view target_type) {
  if (target_type == "page") return "the page";
  if (target_type == "iframe") return "an iframe";
  if (target_type == "worker") return "a worker";
  if (target_type == "shared_worker") return "a shared worker";
  if (target_type == "service_worker") return "a service worker";
  return "a " + terminal_safe(target_type, 40);
}

std::string status_words(const blacklist::Evidence& evidence) {
  using blacklist::Status;
  std::string what;
  switch (evidence.status) {
    case Status::ok: return fmt::format("yes, watched for {:.1f} s", static_cast<double>(evidence.elapsed_ms) / 1000.0);
    case Status::timeout: what = "no: the site did not answer in time"; break;
    case Status::dns_error: what = "no: the host name does not resolve"; break;
    case Status::connection_error: what = "no: the connection failed"; break;
    case Status::tls_error: what = "no: the TLS certificate or handshake failed"; break;
    case Status::http_error:
      what = "partly: the server answered with an HTTP error page, which was still watched";
      break;
    case Status::redirect_loop: what = "no: the site redirects in a loop"; break;
    case Status::crash: what = "no: Chrome's renderer crashed on the page"; break;
    case Status::skipped: what = "no: not a site"; break;
    case Status::failed: what = "no: every attempt failed"; break;
    case Status::blocked: what = "no: the site is on a private network, which pages may not reach"; break;
  }
  if (!evidence.status_reason.empty()) what += " (" + terminal_safe(evidence.status_reason) + ")";
  return what;
}

// The CPU rule in words, and whether the verdict needed it.
std::string cpu_rule_words(const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu,
                           const blacklist::Judgement& judgement) {
  const std::string rule_text = fmt::format("{} of any {} consecutive samples above {:g}% of one core", rule.required(),
                                            rule.window, rule.threshold_percent);
  switch (cpu.decision) {
    case blacklist::CpuDecision::fired:
      return fmt::format("the mining rule fired: {} of {} samples above {:g}% (it needs {})", cpu.best_exceeding,
                         rule.window, rule.threshold_percent, rule_text);
    case blacklist::CpuDecision::cannot_fire:
      return fmt::format("the mining rule did not fire: {} above {:g}% (it needs {})",
                         util::count_of(static_cast<std::uint64_t>(cpu.exceeding), "sample"), rule.threshold_percent,
                         rule_text);
    case blacklist::CpuDecision::undecided: break;
  }
  std::string out = fmt::format(
      "the mining rule had not decided when the visit ended: {} of {} above {:g}% so far (it "
      "needs {})",
      cpu.exceeding, util::count_of(static_cast<std::uint64_t>(cpu.intervals), "sample"), rule.threshold_percent,
      rule_text);
  if (judgement.verdict == blacklist::Verdict::cryptojacking) out += "; the verdict did not need it";
  return out;
}

bool listed(const blacklist::KnownEntries& known, const blacklist::Offender& offender) {
  if (offender.kind == "page") return known.pages.contains(offender.value);
  if (offender.kind == "script_url") return known.script_urls.contains(offender.value);
  if (offender.kind == "ws_endpoint") return known.ws_endpoints.contains(offender.value);
  if (offender.kind == "domain") return known.domains.contains(util::to_lower(offender.value));
  if (offender.kind == "wasm_sha256") return known.wasm_sha256.contains(offender.value);
  return false;
}

constexpr std::string_view kIndent = "             ";

}  // namespace

std::string human_summary(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                          const blacklist::CpuRule& rule, const blacklist::CpuOutcome& cpu,
                          const blacklist::KnownEntries* listed_before) {
  std::string out = fmt::format("{}\n", terminal_safe(evidence.url, 500));
  const bool judged = evidence.status == blacklist::Status::ok || evidence.status == blacklist::Status::http_error;
  std::string verdict;
  switch (judgement.verdict) {
    case blacklist::Verdict::cryptojacking:
      verdict = fmt::format("CRYPTOJACKING, confidence {} of 100", judgement.confidence);
      break;
    case blacklist::Verdict::suspicious:
      verdict = fmt::format("suspicious, confidence {} of 100 (not enough to blacklist)", judgement.confidence);
      break;
    case blacklist::Verdict::clean:
      verdict = judged ? "clean: no sign of mining" : "none: the site could not be checked (recorded as clean)";
      break;
  }
  out += fmt::format("  Verdict    {}\n", verdict);
  out += fmt::format("  Checked    {}\n", status_words(evidence));
  if (evidence.final_url != evidence.url)
    out += fmt::format("  Ended at   {}\n", terminal_safe(evidence.final_url, 500));

  // Why: the evidence in the order it counted, the CPU rule in words.
  bool first = true;
  for (const auto& reason : judgement.reasons) {
    if (reason.signal == "status") continue;  // the Checked line says it
    const std::string detail =
        reason.signal == "cpu_rule" ? cpu_rule_words(rule, cpu, judgement) : terminal_safe(reason.detail, 300);
    const std::string name = reason.signal == "cpu_rule" ? std::string("CPU") : signal_words(reason.signal);
    out += fmt::format("  {}  {} {}: {}\n", first ? "Why      " : "         ", strength_words(reason.strength), name,
                       detail);
    first = false;
  }

  // The CPU trace, and how it is measured.
  const auto percents = blacklist::interval_percentages(evidence.cpu_samples);
  if (!percents.empty()) {
    const auto above = std::count_if(percents.begin(), percents.end(),
                                     [&](double percent) { return percent > rule.threshold_percent; });
    out += fmt::format("  CPU        {}  {}, one every {} ms; {} above {:g}%; median {:.0f}% of one core\n",
                       cpu_sparkline(percents), util::count_of(percents.size(), "sample"),
                       static_cast<int>(evidence.sample_period_seconds * 1000), above, rule.threshold_percent,
                       cpu.median_percent);
    out += fmt::format(
        "{}demand of the page's renderer processes (CPU time plus time waiting for a core):\n{}100% "
        "is one core kept busy, 200% two\n",
        kIndent, kIndent);
  }
  constexpr std::size_t kHotListed = 4;
  for (std::size_t i = 0; i < std::min(evidence.hot_code.size(), kHotListed); ++i) {
    const auto& hot = evidence.hot_code[i];
    const std::string where =
        hot.language == "WebAssembly" ? "module " + hot.wasm_sha256.substr(0, 16) : terminal_safe(hot.script_url, 160);
    out += fmt::format("  {}  {:.0f}% {} ({} in {}): {}\n", i == 0 ? "Hot code " : "         ", 100 * hot.share,
                       terminal_safe(hot.function, 80), where, target_words(hot.target_type), hot.code);
  }

  // What the visit wrote to the blacklist.
  if (judgement.offenders.empty()) {
    out += "  Blacklist  nothing recorded (only a cryptojacking verdict writes entries)\n";
  } else {
    out += fmt::format("  Blacklist  {} recorded by this visit:\n",
                       util::count_of(judgement.offenders.size(), "entry", "entries"));
    for (const auto& offender : judgement.offenders) {
      const char* age = listed_before == nullptr           ? ""
                        : listed(*listed_before, offender) ? " (already listed)"
                                                           : " (new)";
      out += fmt::format("{}{:<12} {}{}\n", kIndent, offender.kind, terminal_safe(offender.value, 300), age);
    }
  }

  for (std::size_t i = 0; i < evidence.websockets.size(); ++i) {
    const auto& socket = evidence.websockets[i];
    out += fmt::format("  {}  {} opened by {}: {} sent, {} received\n", i == 0 ? "Sockets  " : "         ",
                       terminal_safe(socket.url), target_words(socket.target_type),
                       util::count_of(socket.frames_sent, "frame"), util::count_of(socket.frames_received, "frame"));
  }

  // Private networks: what the egress guard refused (a page probing internal addresses).
  if (!evidence.blocked_connections.empty()) {
    const auto refused = evidence.counters.contains("network_blocked") ? evidence.counters.at("network_blocked")
                                                                       : evidence.blocked_connections.size();
    out += fmt::format("  Refused    {} to private networks, which pages may not reach:\n",
                       util::count_of(refused, "connection"));
    constexpr std::size_t kListed = 8;
    for (std::size_t i = 0; i < evidence.blocked_connections.size() && i < kListed; ++i) {
      const auto& blocked = evidence.blocked_connections[i];
      const std::string where = blocked.addresses.empty() ? std::string()
                                                          : fmt::format(" ({} {})", blocked.addresses[0].address_class,
                                                                        terminal_safe(blocked.addresses[0].ip, 60));
      out += fmt::format("{}{}:{}{}{}\n", kIndent, terminal_safe(blocked.host, 120), blocked.port, where,
                         blocked.attempts > 1 ? fmt::format(", {} times", blocked.attempts) : "");
    }
    if (evidence.blocked_connections.size() > kListed)
      out += fmt::format("{}and {} more (--json lists them)\n", kIndent,
                         util::count_of(evidence.blocked_connections.size() - kListed, "host"));
  }

  // Code: scripts by where they ran, WebAssembly modules apart.
  std::map<std::string, std::uint64_t> scripts_in;
  std::uint64_t modules = 0;
  for (const auto& script : evidence.scripts) {
    if (script.language == "WebAssembly") ++modules;
    else ++scripts_in[script.target_type];
  }
  if (!evidence.scripts.empty()) {
    std::string counts;
    for (const auto& [type, n] : scripts_in)
      counts += fmt::format("{}{} script", counts.empty() ? "" : ", ", n) + (n == 1 ? "" : "s") + " in " +
                (type == "page" ? "the page" : (type == "iframe" ? "iframes" : terminal_safe(type, 40) + "s"));
    if (modules > 0) counts += (counts.empty() ? "" : ", ") + util::count_of(modules, "WebAssembly module");
    out += fmt::format("  Code       {}\n", counts);
    constexpr std::size_t kListed = 12;
    std::size_t listed_count = 0;
    for (const auto& script : evidence.scripts) {
      if (script.url.empty() || listed_count++ >= kListed) continue;
      out += fmt::format("{}{:<11} {:<18} {}\n", kIndent, script.language == "WebAssembly" ? "WebAssembly" : "script",
                         "in " + target_words(script.target_type), terminal_safe(script.url, 160));
    }
    if (listed_count > kListed) out += fmt::format("{}… {} more\n", kIndent, listed_count - kListed);
  }
  out += fmt::format("  Took       {:.1f} s (--json gives every field; --report FILE.html a page to send)\n",
                     static_cast<double>(evidence.elapsed_ms) / 1000.0);
  return out;
}

}  // namespace crawler
