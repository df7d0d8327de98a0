// blacklist/evidence.cpp — names of statuses and verdicts, and the versioned JSON shape of a visit.
#include "blacklist/evidence.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace blacklist {
namespace {

constexpr std::array<std::pair<Status, std::string_view>, 11> kStatusNames{{
    {Status::ok, "ok"},
    {Status::timeout, "timeout"},
    {Status::dns_error, "dns_error"},
    {Status::connection_error, "connection_error"},
    {Status::tls_error, "tls_error"},
    {Status::http_error, "http_error"},
    {Status::redirect_loop, "redirect_loop"},
    {Status::crash, "crash"},
    {Status::skipped, "skipped"},
    {Status::failed, "failed"},
    {Status::blocked, "blocked"},
}};

constexpr std::array<std::pair<Verdict, std::string_view>, 3> kVerdictNames{{
    {Verdict::clean, "clean"},
    {Verdict::suspicious, "suspicious"},
    {Verdict::cryptojacking, "cryptojacking"},
}};

// CPU use between two samples, in percent of one core.
double interval_percent(const CpuSample& before, const CpuSample& after) {
  const double wall = after.t_seconds - before.t_seconds;
  if (wall <= 0) return 0;
  return 100.0 * (after.cpu_seconds - before.cpu_seconds) / wall;
}

// Frame payloads are page data: serialise text frames as text (invalid UTF-8 replaced by nlohmann's
// dump), binary frames as a note of their size only.
nlohmann::json frame_json(const FrameRecord& frame) {
  nlohmann::json out{{"direction", frame.sent ? "sent" : "received"},
                     {"t_ms", static_cast<std::int64_t>(frame.t_seconds * 1000)},
                     {"opcode", frame.opcode},
                     {"length", frame.length}};
  if (frame.opcode == 1) out["payload"] = frame.payload;
  return out;
}

}  // namespace

std::string to_string(Status status) {
  for (const auto& [value, name] : kStatusNames)
    if (value == status) return std::string(name);
  return "unknown";
}

std::string to_string(Verdict verdict) {
  for (const auto& [value, name] : kVerdictNames)
    if (value == verdict) return std::string(name);
  return "unknown";
}

std::optional<Status> status_from_string(std::string_view text) {
  for (const auto& [value, name] : kStatusNames)
    if (name == text) return value;
  return std::nullopt;
}

std::optional<Verdict> verdict_from_string(std::string_view text) {
  for (const auto& [value, name] : kVerdictNames)
    if (name == text) return value;
  return std::nullopt;
}

namespace {

nlohmann::json reasons_json(const std::vector<Reason>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& reason : reasons)
    out.push_back({{"signal", reason.signal}, {"detail", reason.detail}, {"strength", reason.strength}});
  return out;
}

nlohmann::json offenders_json(const std::vector<Offender>& offenders) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& offender : offenders) out.push_back({{"kind", offender.kind}, {"value", offender.value}});
  return out;
}

// Samples are reported as per-interval CPU percentages, the quantity the rule thresholds.
nlohmann::json samples_json(const std::vector<CpuSample>& cpu_samples) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 1; i < cpu_samples.size(); ++i) {
    const auto& sample = cpu_samples[i];
    const auto& before = cpu_samples[i - 1];
    const double wall = sample.t_seconds - before.t_seconds;
    const double wait_percent =
        wall > 0 ? std::max(0.0, 100.0 * (sample.wait_seconds - before.wait_seconds) / wall) : 0;
    out.push_back({{"t_ms", static_cast<std::int64_t>(sample.t_seconds * 1000)},
                   {"cpu_percent", std::round(interval_percent(before, sample) * 10) / 10},
                   {"wait_percent", std::round(wait_percent * 10) / 10}});
  }
  return out;
}

nlohmann::json pool_json(const PoolTraffic& pool) {
  return {{"protocol", pool.protocol},
          {"confirmed", pool.confirmed},
          {"logins", pool.logins},
          {"jobs", pool.jobs},
          {"submits", pool.submits},
          {"accepted", pool.accepted},
          {"shape", {{"jobs", pool.shape_jobs}, {"shares", pool.shape_shares}, {"encoding", pool.shape_encoding}}}};
}

nlohmann::json socket_json(const WebSocketRecord& socket) {
  nlohmann::json frames = nlohmann::json::array();
  for (const auto& frame : socket.frames) frames.push_back(frame_json(frame));
  return {{"url", socket.url},
          {"target_type", socket.target_type},
          {"target_url", socket.target_url},
          {"handshake_status", socket.handshake_status},
          {"closed", socket.closed},
          {"error", socket.error},
          {"frames_sent", socket.frames_sent},
          {"frames_received", socket.frames_received},
          {"bytes_sent", socket.bytes_sent},
          {"bytes_received", socket.bytes_received},
          {"pool", pool_json(socket.pool)},
          {"frames", std::move(frames)}};
}

nlohmann::json http_channel_json(const HttpChannelRecord& channel) {
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& sample : channel.samples) samples.push_back(frame_json(sample));
  return {{"endpoint", channel.endpoint},     {"target_type", channel.target_type},
          {"target_url", channel.target_url}, {"messages", channel.messages},
          {"bytes", channel.bytes},           {"pool", pool_json(channel.pool)},
          {"samples", std::move(samples)}};
}

nlohmann::json script_json(const ScriptRecord& script) {
  nlohmann::json item{{"url", script.url},
                      {"sha256", script.sha256},
                      {"length", script.length},
                      {"language", script.language},
                      {"target_type", script.target_type},
                      {"target_url", script.target_url},
                      {"source", script.source_state}};
  if (!script.keyword_hits.empty()) {
    nlohmann::json hits = nlohmann::json::array();
    for (const auto& hit : script.keyword_hits) hits.push_back({{"pattern", hit.pattern}, {"count", hit.count}});
    item["keywords"] = {{"score", std::round(script.keyword_score * 10) / 10},
                        {"miner", script.keyword_miner},
                        {"hits", std::move(hits)}};
  }
  if (!script.scan_note.empty()) item["scan_note"] = script.scan_note;
  if (script.wasm_fingerprinted)
    item["wasm"] = {{"miner", script.wasm_miner},
                    {"score", std::round(script.wasm_score * 100) / 100},
                    {"primitives", script.wasm_primitives},
                    {"summary", script.wasm_summary}};
  return item;
}

nlohmann::json hot_code_json(const HotCodeRecord& hot) {
  nlohmann::json item{{"target_type", hot.target_type},
                      {"target_url", hot.target_url},
                      {"language", hot.language},
                      {"script_url", hot.script_url},
                      {"function", hot.function},
                      {"line", hot.line},
                      {"column", hot.column},
                      {"share", std::round(hot.share * 1000) / 1000},
                      {"code", hot.code},
                      {"why", hot.why},
                      {"round", hot.round}};
  if (!hot.wasm_sha256.empty()) item["wasm_sha256"] = hot.wasm_sha256;
  return item;
}

template <typename Record, typename ToJson>
nlohmann::json array_of(const std::vector<Record>& records, ToJson to_item) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& record : records) out.push_back(to_item(record));
  return out;
}

}  // namespace

nlohmann::json to_json(const Evidence& evidence, const Judgement& judgement) {
  auto blocked_json = [](const BlockedConnection& blocked) -> nlohmann::json {
    nlohmann::json addresses = nlohmann::json::array();
    for (const auto& address : blocked.addresses)
      addresses.push_back({{"ip", address.ip}, {"class", address.address_class}});
    return {{"host", blocked.host}, {"port", blocked.port},         {"addresses", addresses},
            {"why", blocked.why},   {"attempts", blocked.attempts}, {"t", blocked.t}};
  };
  auto target_json = [](const TargetRecord& target) -> nlohmann::json {
    return {{"type", target.type}, {"url", target.url}, {"instrumented", target.instrumented}};
  };
  return {
      {"schema_version", kSchemaVersion},
      {"input", evidence.input},
      {"url", evidence.url},
      {"final_url", evidence.final_url},
      {"status", to_string(evidence.status)},
      {"status_reason", evidence.status_reason},
      {"http_status", evidence.http_status},
      {"verdict", to_string(judgement.verdict)},
      {"confidence", judgement.confidence},
      {"reasons", reasons_json(judgement.reasons)},
      {"offenders", offenders_json(judgement.offenders)},
      {"sample_period_ms", static_cast<std::int64_t>(evidence.sample_period_seconds * 1000)},
      {"cpu_samples", samples_json(evidence.cpu_samples)},
      {"cpu_rule",
       {{"threshold_percent", evidence.cpu_threshold_percent},
        {"window", evidence.cpu_window},
        {"ratio", evidence.cpu_ratio}}},
      {"websockets", array_of(evidence.websockets, socket_json)},
      {"http_channels", array_of(evidence.http_channels, http_channel_json)},
      {"scripts", array_of(evidence.scripts, script_json)},
      {"profiles", evidence.profiles},
      {"hot_code", array_of(evidence.hot_code, hot_code_json)},
      {"remote_ips", evidence.remote_ips},
      {"blocked_connections", array_of(evidence.blocked_connections, blocked_json)},
      {"targets", array_of(evidence.targets, target_json)},
      {"counters", evidence.counters},
      {"started_at_ms", evidence.started_at_ms},
      {"elapsed_ms", evidence.elapsed_ms},
  };
}

}  // namespace blacklist
