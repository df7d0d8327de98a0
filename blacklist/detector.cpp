// blacklist/detector.cpp — findings per script and frame, signals per visit, the decision table.
#include "blacklist/detector.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "blacklist/hot_code.hpp"
#include "blacklist/pool_protocol.hpp"
#include "blacklist/pool_shape.hpp"
#include "blacklist/wasm.hpp"
#include "util/text.hpp"

namespace blacklist {
namespace {

bool is_worker(std::string_view target_type) {
  return target_type == "worker" || target_type == "shared_worker" || target_type == "service_worker";
}

bool is_web_url(std::string_view url) { return url.starts_with("http://") || url.starts_with("https://"); }

void add_unique(std::vector<Offender>& offenders, Offender offender) {
  if (offender.value.empty()) return;
  if (std::find(offenders.begin(), offenders.end(), offender) == offenders.end())
    offenders.push_back(std::move(offender));
}

std::string cpu_detail(const CpuRule& rule, const CpuOutcome& cpu) {
  if (cpu.decision == CpuDecision::fired)
    return fmt::format("{} of {} samples above {:g}% of one core (median {:.0f}%)", cpu.best_exceeding, rule.window,
                       rule.threshold_percent, cpu.median_percent);
  return fmt::format("{}: {} of {} samples above {:g}% of one core, {} of {} in a window needed (median {:.0f}%)",
                     cpu.decision == CpuDecision::cannot_fire ? "did not fire" : "undecided when the visit ended",
                     cpu.exceeding, cpu.intervals, rule.threshold_percent, rule.required(), rule.window,
                     cpu.median_percent);
}

}  // namespace

// Every signal of one visit, sorted by what it can decide.
struct Detector::Signals {
  std::vector<Reason> conclusive;  // known hits, a confirmed pool protocol or pool shape
  std::vector<Offender> conclusive_offenders;
  int conclusive_confidence = 0;

  std::vector<Reason> miner;  // combine with the CPU rule: Wasm structure, keywords, pool jobs
  std::vector<Offender> miner_offenders;
  bool wasm_miner = false;
  bool keyword_miner = false;
  bool pool_job = false;  // hashing jobs received on a channel that sent no share (yet)
  bool miner_signal() const { return wasm_miner || keyword_miner || pool_job; }
  // Weak signals that ask the visit to keep sampling until its deadline (late starters get caught).
  bool asks_for_watching() const { return keyword_miner || pool_job || worker_socket || wasm_unexplained; }

  // A worker's socket: keeps a visit watching, and with the CPU rule makes it suspicious, never
  // cryptojacking by itself (games, editors and trading screens do this). Its endpoint is named
  // when another signal makes the verdict and the CPU rule fired.
  std::vector<Reason> worker_sockets;
  std::vector<Offender> worker_socket_offenders;
  bool worker_socket = false;

  std::vector<Reason> weak;  // suspicious at most: IP hits, oversize scripts
  bool ip_listed = false;
  bool oversize = false;
  bool wasm_unexplained = false;  // Wasm that is a miner or could not be fingerprinted: keep watching

  // What a profile found busy (blacklist/hot_code): hash code of a mining module is conclusive;
  // busy code that is plainly not a hash lowers a CPU-only case.
  std::vector<Reason> hot;
  bool hot_mining = false;
  bool hot_not_hash = false;

  std::vector<Reason> info;  // shown, decides nothing (a listed page)
};

void Detector::examine_script(ScriptRecord& script) const {
  if (script.source_state != "fetched") return;
  if (script.language == "WebAssembly") {
    const auto print = wasm::fingerprint(script.source);
    script.wasm_fingerprinted = print.ok;
    script.wasm_miner = print.miner;
    script.wasm_score = print.score;
    script.wasm_primitives = print.primitives;
    script.wasm_summary = print.ok ? print.summary : "not fingerprinted: " + print.error;
    script.wasm_hash_functions.clear();
    for (const auto& function : print.hash_functions)
      script.wasm_hash_functions.push_back({function.index, function.begin, function.end, function.what});
    return;
  }
  const auto scan = rules_.scan_script(script.source);
  script.keyword_score = scan.score;
  script.keyword_miner = scan.miner_signal();
  script.keyword_hits.clear();
  for (const auto& hit : scan.hits) script.keyword_hits.push_back({hit.pattern, hit.count});
  script.scan_note = scan.fallback_used ? "matched per pattern: " + scan.fallback_reason : std::string();
}

void Detector::examine_message(PoolTraffic& pool, std::string_view message, bool text, bool sent) const {
  if (text) {
    const auto named = classify_pool_frame(message, sent);
    if (named.kind != PoolMessageKind::none) {
      PoolSocketStats stats;
      stats.logins = pool.logins;
      stats.jobs = pool.jobs;
      stats.submits = pool.submits;
      stats.accepted = pool.accepted;
      stats.add(named);
      if (pool.protocol.empty()) pool.protocol = to_string(named.protocol);
      pool.logins = stats.logins;
      pool.jobs = stats.jobs;
      pool.submits = stats.submits;
      pool.accepted = stats.accepted;
      pool.confirmed = stats.confirmed();
    }
  }
  const auto shape = examine_pool_shape(message, text, sent);
  if (shape.job && pool.shape_jobs++ == 0) pool.shape_encoding = to_string(shape.encoding);
  if (shape.share) ++pool.shape_shares;
}

namespace {

// Sorts one visit's records into Signals. A host is looked up once per visit, however many scripts
// and sockets share it.
class SignalCollector {
 public:
  SignalCollector(const Rules& rules, const KnownEntries& known, Detector::Signals& out)
      : rules_(rules), known_(known), out_(out) {}

  void script(const ScriptRecord& script);
  void socket(const WebSocketRecord& socket);
  void remote_ips(const std::vector<std::string>& ips);
  void hot_code(const std::vector<HotCodeRecord>& records);

 private:
  void conclusive(std::string signal, std::string detail, int confidence) {
    out_.conclusive.push_back({std::move(signal), std::move(detail), "conclusive"});
    out_.conclusive_confidence = std::max(out_.conclusive_confidence, confidence);
  }
  std::string host_listed(const std::string& url, const char* role);
  bool host_allowed(const std::string& url) const {
    const std::string host = host_of(url);
    return known_.allowed(url) || (!host.empty() && rules_.match_host(host).listing == Listing::allowed);
  }
  void script_listed(const ScriptRecord& script);
  void script_keywords(const ScriptRecord& script);
  void script_wasm(const ScriptRecord& script);
  void pool_traffic(const PoolTraffic& pool, const std::string& channel, const char* channel_kind,
                    const std::string& url, const std::string& target_type);

 public:
  void http_channel(const HttpChannelRecord& channel);

 private:
  const Rules& rules_;
  const KnownEntries& known_;
  Detector::Signals& out_;
  std::set<std::string> hosts_checked_;
};

// Returns the listed domain covering the URL's host (the host itself for the rules' list), or empty.
std::string SignalCollector::host_listed(const std::string& url, const char* role) {
  const std::string host = host_of(url);
  if (host.empty() || !hosts_checked_.insert(host).second) return {};
  if (known_.allowed(url)) return {};
  const auto listing = rules_.match_host(host);
  if (listing.listing == Listing::allowed) return {};
  if (listing.listing == Listing::blacklisted) {
    conclusive("known", fmt::format("{} host {} is listed ({} at {})", role, host, listing.rule, listing.where),
               kConfidenceKnown);
    return host;
  }
  if (const auto domain = known_.domain_covering(host); !domain.empty()) {
    conclusive("known", fmt::format("{} host {} is in the database blacklist (as {})", role, host, domain),
               kConfidenceKnown);
    return domain;
  }
  return {};
}

void SignalCollector::script(const ScriptRecord& script) {
  if (is_web_url(script.url) && !host_allowed(script.url)) script_listed(script);
  if (!script.sha256.empty() && known_.wasm_sha256.contains(script.sha256))
    conclusive("known", fmt::format("Wasm module {} is in the database blacklist", script.sha256), kConfidenceKnown);
  if (script.keyword_miner) script_keywords(script);
  if (script.language == "WebAssembly") script_wasm(script);
  if (script.source_state == "oversize" && !out_.oversize) {
    out_.oversize = true;
    out_.weak.push_back(
        {"oversize_script",
         fmt::format("{} script of {} characters was too large to read", script.target_type, script.length), "weak"});
  }
}

void SignalCollector::script_listed(const ScriptRecord& script) {
  const auto matched = rules_.match_script_url(script.url);
  if (!matched.patterns.empty()) {
    conclusive("known", fmt::format("script {} matches rule {}", script.url, matched.patterns.front()),
               kConfidenceKnown);
    add_unique(out_.conclusive_offenders, {"script_url", script.url});
  } else if (const auto entry = known_.script_listed(script.url); !entry.empty()) {
    conclusive("known", fmt::format("script {} is in the database blacklist (as {})", script.url, entry),
               kConfidenceKnown);
    add_unique(out_.conclusive_offenders, {"script_url", script.url});
  }
  if (!host_listed(script.url, "script").empty()) add_unique(out_.conclusive_offenders, {"script_url", script.url});
}

void SignalCollector::script_keywords(const ScriptRecord& script) {
  out_.keyword_miner = true;
  std::string names;
  for (const auto& hit : script.keyword_hits)
    names += fmt::format("{}{}×{}", names.empty() ? "" : ", ", hit.pattern, hit.count);
  out_.miner.push_back({"keywords",
                        fmt::format("{} in {} script {} (score {:.0f})", names, script.target_type,
                                    script.url.empty() ? "(inline)" : script.url, script.keyword_score),
                        "weak"});
  if (is_web_url(script.url)) add_unique(out_.miner_offenders, {"script_url", script.url});
}

void SignalCollector::script_wasm(const ScriptRecord& script) {
  if (script.wasm_miner) {
    out_.wasm_miner = true;
    out_.miner.push_back(
        {"wasm",
         fmt::format("{} module in {}: {}", script.sha256.substr(0, 16), script.target_type, script.wasm_summary),
         "weak"});
    add_unique(out_.miner_offenders, {"wasm_sha256", script.sha256});
  }
  // A module we could not read or fingerprint is unexplained; a copy of one already read
  // ("duplicate") is explained by that one, and one whose target ended before it could be read
  // ("gone") can no longer run.
  const bool unread = script.source_state == "unavailable" || script.source_state == "oversize" ||
                      (script.source_state == "fetched" && !script.wasm_fingerprinted);
  if (script.wasm_miner || unread) out_.wasm_unexplained = true;
}

void SignalCollector::socket(const WebSocketRecord& socket) {
  if (host_allowed(socket.url)) return;
  const std::string endpoint = endpoint_key(socket.url);
  const auto matched = rules_.match_ws_url(socket.url);
  if (!matched.patterns.empty()) {
    conclusive("known", fmt::format("socket {} matches rule {}", endpoint, matched.patterns.front()), kConfidenceKnown);
    add_unique(out_.conclusive_offenders, {"ws_endpoint", endpoint});
  } else if (const auto entry = known_.socket_listed(socket.url); !entry.empty()) {
    conclusive("known", fmt::format("socket {} is in the database blacklist (as {})", endpoint, entry),
               kConfidenceKnown);
    add_unique(out_.conclusive_offenders, {"ws_endpoint", endpoint});
  }
  if (const auto domain = host_listed(socket.url, "socket"); !domain.empty()) {
    add_unique(out_.conclusive_offenders, {"ws_endpoint", endpoint});
    add_unique(out_.conclusive_offenders, {"domain", domain});  // a sighting of the pool host
  }
  pool_traffic(socket.pool, endpoint, "ws_endpoint", socket.url, socket.target_type);
  if (is_worker(socket.target_type)) {
    out_.worker_socket = true;
    out_.worker_sockets.push_back({"worker_socket", fmt::format("{} opened {}", socket.target_type, endpoint), "weak"});
    add_unique(out_.worker_socket_offenders, {"ws_endpoint", endpoint});
  }
}

// What a channel's messages showed: a named pool protocol or pool-shaped content (jobs and shares)
// is conclusive; jobs alone are a miner signal (a throttled miner may not find a share in a visit).
// `channel_kind`: the offender kind naming the channel itself ("ws_endpoint"), or null (HTTP: the
// pool's host is named as a domain, the page entry covers a same-site endpoint).
void SignalCollector::pool_traffic(const PoolTraffic& pool, const std::string& channel, const char* channel_kind,
                                   const std::string& url, const std::string& target_type) {
  auto name_pool = [&](std::vector<Offender>& offenders) {
    if (channel_kind) add_unique(offenders, {channel_kind, channel});
    add_unique(offenders, {"domain", host_of(url)});
  };
  if (pool.confirmed) {
    conclusive("pool_protocol",
               fmt::format("{} pool protocol on {} from {}: {} received, {} submitted", pool.protocol, channel,
                           target_type, util::count_of(pool.jobs, "job"), util::count_of(pool.submits, "share")),
               kConfidencePoolProtocol);
    name_pool(out_.conclusive_offenders);
  } else if (pool.shape_jobs > 0 && pool.shape_shares > 0) {
    conclusive("pool_shape",
               fmt::format("pool traffic on {} from {}: {} received ({}), {} sent", channel, target_type,
                           util::count_of(pool.shape_jobs, "hashing job"), pool.shape_encoding,
                           util::count_of(pool.shape_shares, "difficulty-meeting hash", "difficulty-meeting hashes")),
               kConfidencePoolShape);
    name_pool(out_.conclusive_offenders);
  } else if (pool.shape_jobs > 0) {
    out_.pool_job = true;
    out_.miner.push_back(
        {"pool_job",
         fmt::format("{} ({}) received on {} from {}, no share sent", util::count_of(pool.shape_jobs, "hashing job"),
                     pool.shape_encoding, channel, target_type),
         "weak"});
    name_pool(out_.miner_offenders);
  }
}

void SignalCollector::http_channel(const HttpChannelRecord& channel) {
  if (host_allowed(channel.endpoint)) return;
  host_listed(channel.endpoint, "pool endpoint");
  pool_traffic(channel.pool, channel.endpoint, nullptr, channel.endpoint, channel.target_type);
}

void SignalCollector::remote_ips(const std::vector<std::string>& ips) {
  for (const auto& ip : ips) {
    const auto listing = rules_.match_ip(ip);
    if (listing.listing == Listing::blacklisted || known_.ips.contains(ip)) {
      out_.ip_listed = true;
      out_.weak.push_back(
          {"ip_listed", fmt::format("a response came from listed IP {} (shared hosting makes this weak)", ip), "weak"});
      return;
    }
  }
}

std::string describe(const HotCodeRecord& hot) {
  const std::string where =
      hot.language == "WebAssembly"
          ? fmt::format("module {}", hot.wasm_sha256.empty() ? hot.script_url : hot.wasm_sha256.substr(0, 16))
          : fmt::format("{}:{}", hot.script_url.empty() ? "(inline)" : hot.script_url, hot.line + 1);
  return fmt::format("{:.0f}% of a core in {} ({}, {} in {}): {} — {}", 100 * hot.share, hot.function, where,
                     hot.language, hot.target_type, hot.code, hot.why);
}

// Hot code in a module with mining structure names the module, and the worker script that ran it.
void SignalCollector::hot_code(const std::vector<HotCodeRecord>& records) {
  const auto summary = summarize_hot_code(records);
  if (summary.mining()) {
    const HotCodeRecord& top = *summary.hottest_mining;
    conclusive(
        "hot_code",
        fmt::format("{:.0f}% of a core in mining-hash code; hottest: {}", 100 * summary.mining_share, describe(top)),
        kConfidenceHotMiningCode);
    out_.hot_mining = true;
    if (!top.wasm_sha256.empty()) add_unique(out_.conclusive_offenders, {"wasm_sha256", top.wasm_sha256});
    else if (is_web_url(top.script_url)) add_unique(out_.conclusive_offenders, {"script_url", top.script_url});
    if (is_worker(top.target_type) && is_web_url(top.target_url))
      add_unique(out_.conclusive_offenders, {"script_url", top.target_url});
  }
  out_.hot_not_hash = summary.plainly_not_hash();
  std::set<std::string> shown;  // the same function found again by a later round is not repeated
  if (summary.hottest_mining) shown.insert(summary.hottest_mining->target_url + summary.hottest_mining->function);
  for (const auto& hot : records)
    if (hot.share >= kHotMinShare && out_.hot.size() < 6 && shown.insert(hot.target_url + hot.function).second)
      out_.hot.push_back(
          {"hot_code", describe(hot), code_kind_from_string(hot.code) == CodeKind::mining_hash ? "strong" : "info"});
}

}  // namespace

Detector::Signals Detector::collect(const Evidence& evidence) const {
  Signals signals;
  SignalCollector collector(rules_, known_, signals);
  for (const auto& script : evidence.scripts) collector.script(script);
  for (const auto& socket : evidence.websockets) collector.socket(socket);
  for (const auto& channel : evidence.http_channels) collector.http_channel(channel);
  collector.remote_ips(evidence.remote_ips);
  collector.hot_code(evidence.hot_code);
  if (known_.pages.contains(evidence.url) || known_.pages.contains(evidence.final_url))
    signals.info.push_back({"page_listed", "this page was blacklisted before; today's evidence decides", "info"});
  return signals;
}

int Detector::horizon(const Evidence& evidence, const CpuRule& rule, int intervals_left) const {
  const auto signals = collect(evidence);
  const int seen = std::max(0, static_cast<int>(evidence.cpu_samples.size()) - 1);
  const bool keep = watch_late_starters_ && signals.conclusive.empty() && signals.asks_for_watching();
  return keep ? std::max(rule.window, seen + std::max(0, intervals_left)) : rule.window;
}

Assessment Detector::assess(const Evidence& evidence, const CpuRule& rule, int intervals_left) const {
  const auto signals = collect(evidence);
  const int seen = std::max(0, static_cast<int>(evidence.cpu_samples.size()) - 1);
  Assessment out;
  if (!signals.conclusive.empty()) {
    out.settled = seen >= kConfirmingIntervals;
    out.mining = out.settled;
    out.why = "conclusive evidence";
    return out;
  }
  out.keep_watching = watch_late_starters_ && signals.asks_for_watching();
  const int horizon = out.keep_watching ? std::max(rule.window, seen + std::max(0, intervals_left)) : rule.window;
  const auto cpu = decide(rule, evidence.cpu_samples, horizon);
  if (cpu.decision == CpuDecision::fired && signals.miner_signal()) {
    out.settled = true;
    out.mining = true;
    out.why = "CPU rule fired with a miner signal";
  } else if (cpu.decision != CpuDecision::undecided && !out.keep_watching) {
    out.settled = true;
    out.why = "CPU rule decided and nothing asks for more watching";
  } else if (cpu.decision == CpuDecision::fired && !signals.wasm_unexplained) {
    // Busy, with at most a worker's socket: its pool traffic (a job) would be in by now, and a
    // socket alone cannot make the verdict cryptojacking, so watching longer changes nothing.
    out.settled = true;
    out.why = "CPU rule fired; a worker socket alone is not mining";
  } else {
    out.why = out.keep_watching ? "weak signals: watching until the deadline" : "CPU rule undecided";
  }
  return out;
}

namespace {

// The strongest weak signal. Busy code that is plainly not a hash explains the CPU: the case for
// mining weakens.
int suspicious_confidence(const Detector::Signals& signals, bool cpu_fired) {
  const int cpu = !cpu_fired              ? 0
                  : signals.hot_not_hash  ? kConfidenceCpuNotHash
                  : signals.worker_socket ? kConfidenceCpuAndWorkerSocket
                                          : kConfidenceCpuAlone;
  return std::max({cpu, signals.wasm_miner ? kConfidenceWasmAlone : 0, signals.pool_job ? kConfidencePoolJobAlone : 0,
                   signals.keyword_miner ? kConfidenceKeywordsAlone : 0, signals.ip_listed ? kConfidenceIpListed : 0,
                   signals.oversize ? kConfidenceOversize : 0});
}

}  // namespace

Judgement Detector::judge(const Evidence& evidence, const CpuRule& rule, const CpuOutcome& cpu) const {
  Judgement out;
  const bool checked = evidence.status == Status::ok || evidence.status == Status::http_error ||
                       !evidence.scripts.empty() || !evidence.websockets.empty() || !evidence.http_channels.empty();
  if (!checked) {
    out.reasons.push_back(
        {"status", fmt::format("not checked: {} ({})", to_string(evidence.status), evidence.status_reason), "info"});
    return out;
  }
  auto signals = collect(evidence);
  const bool cpu_fired = cpu.decision == CpuDecision::fired;
  const bool miner_signal = signals.miner_signal();
  const std::string page = evidence.final_url.empty() ? evidence.url : evidence.final_url;

  if (!signals.conclusive.empty()) {
    out.verdict = Verdict::cryptojacking;
    out.confidence = signals.conclusive_confidence;
    out.offenders = signals.conclusive_offenders;
    for (const auto& offender : signals.miner_offenders) add_unique(out.offenders, offender);
    if (cpu_fired)
      for (const auto& offender : signals.worker_socket_offenders) add_unique(out.offenders, offender);
    if (cpu_fired && signals.hot_mining) out.confidence = std::max(out.confidence, kConfidenceCpuAndWasm);
  } else if (cpu_fired && miner_signal) {
    out.verdict = Verdict::cryptojacking;
    out.confidence = signals.wasm_miner ? kConfidenceCpuAndWasm
                     : signals.pool_job ? kConfidenceCpuAndPoolJob
                                        : kConfidenceCpuAndKeywords;
    out.offenders = signals.miner_offenders;
    for (const auto& offender : signals.worker_socket_offenders) add_unique(out.offenders, offender);
    for (auto& reason : signals.miner) reason.strength = "strong";
  } else if (cpu_fired || signals.keyword_miner || signals.ip_listed || signals.wasm_miner || signals.pool_job ||
             signals.oversize) {
    out.verdict = Verdict::suspicious;
    out.confidence = suspicious_confidence(signals, cpu_fired);
  } else {
    out.verdict = Verdict::clean;
    out.confidence = 0;
  }
  if (out.verdict == Verdict::cryptojacking) out.offenders.insert(out.offenders.begin(), Offender{"page", page});

  // Reasons: what decided first, then the CPU trace, then the rest.
  auto append = [&](std::vector<Reason>& from) {
    for (auto& reason : from) out.reasons.push_back(std::move(reason));
  };
  append(signals.conclusive);
  if (!evidence.cpu_samples.empty() || cpu.intervals > 0)
    out.reasons.push_back({"cpu_rule", cpu_detail(rule, cpu), cpu_fired ? "strong" : "info"});
  append(signals.miner);
  append(signals.hot);
  append(signals.worker_sockets);
  append(signals.weak);
  append(signals.info);
  return out;
}

}  // namespace blacklist
