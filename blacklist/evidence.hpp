// blacklist/evidence.hpp — what one visit saw, and what was concluded from it.
//
// `Evidence` is produced by the crawler (crawler::visit) and consumed by the rules (blacklist::judge)
// and the store (db::Store). It is plain data: no I/O, no references back into the CDP layer.
// Every collection here is bounded by the producer; what it had to drop is counted in `counters`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace blacklist {

// The version of the JSON shape below (check --json, crawl lines, visits.evidence_json).
// Bump it when a field changes meaning or disappears; adding a field does not bump it.
inline constexpr int kSchemaVersion = 1;

// Whether the page could be checked at all. Independent of the verdict.
// `skipped` is only ever a crawl's: an input line that names no site, reported in the results rather
// than dropped (never a visit).
// failed: a shared crawl's site that no attempt could check, after --max-attempts of them (the last
// attempt's error is its status_reason).
enum class Status {
  ok,
  timeout,
  dns_error,
  connection_error,
  tls_error,
  http_error,
  redirect_loop,
  crash,
  skipped,
  failed,
  blocked  // the main frame is on a private network the egress guard keeps pages off (never retried)
};

enum class Verdict { clean, suspicious, cryptojacking };

std::string to_string(Status status);
std::string to_string(Verdict verdict);
std::optional<Status> status_from_string(std::string_view text);
std::optional<Verdict> verdict_from_string(std::string_view text);

// One reading of the visit's renderer CPU: seconds since sampling began, and cumulative CPU seconds
// spent by the visit's renderer processes since sampling began (monotonic, starts near 0).
// `cpu_seconds` is demand: CPU time plus the time the renderers' threads waited for a core (see
// crawler/visit.cpp), which the rule thresholds; `wait_seconds` is the waiting part of it, cumulative
// the same way, so CPU time alone is their difference.
struct CpuSample {
  double t_seconds = 0;
  double cpu_seconds = 0;
  double wait_seconds = 0;
};

// Where a Wasm module's hash code is (blacklist/wasm.hpp HashFunction): module byte offsets of one
// function body, so a profiler's sample can be blamed on it.
struct WasmHashFunction {
  std::uint32_t index = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string what;  // "CryptoNight main loop …", "keccak rounds …", "bitwise-heavy (31%)"
};

// A script or WebAssembly module as Debugger.scriptParsed reported it.
struct ScriptRecord {
  std::string url;           // may be empty (inline / eval)
  std::string sha256;        // hex, as CDP gives it
  std::uint64_t length = 0;  // characters (JS) or bytes (Wasm), as CDP reports
  std::string language;      // "JavaScript" or "WebAssembly"
  std::string target_type;   // page, iframe, worker, shared_worker, service_worker, ...
  std::string target_url;
  int start_line = 0;  // where an inline script starts in its document (0-based, as CDP gives it)
  int start_column = 0;
  // fetched: `source` holds it; oversize: over the fetch cap; unavailable: fetch failed or budget spent;
  // duplicate: same hash already fetched for this visit; cached: same hash scanned on an earlier site
  // of this crawl, findings copied (ScanCache), source not read.
  std::string source_state;
  std::string source;  // script text, or raw Wasm bytes; never serialised to JSON

  // Findings from the source (Detector::examine_script), kept after the source is dropped.
  struct KeywordCount {
    std::string pattern;
    std::uint64_t count = 0;
  };
  double keyword_score = 0;
  bool keyword_miner = false;  // score at or over the miner threshold
  std::vector<KeywordCount> keyword_hits;
  std::string scan_note;  // e.g. why the RE2::Set fell back to per-pattern matching
  bool wasm_fingerprinted = false;
  bool wasm_miner = false;  // mining-hash structure (several distinct primitives)
  double wasm_score = 0;
  std::vector<std::string> wasm_primitives;
  std::string wasm_summary;
  std::vector<WasmHashFunction> wasm_hash_functions;  // bounded (wasm::kMaxHashFunctions); never in JSON
};

struct FrameRecord {
  bool sent = false;         // true: page → server
  double t_seconds = 0;      // since navigation started
  int opcode = 1;            // 1 text, 2 binary
  std::uint64_t length = 0;  // full payload length
  std::string payload;       // truncated to a cap
};

// Pool traffic seen on one channel (a WebSocket, an HTTP endpoint), every message counted whether
// stored or not (Detector::examine_message).
struct PoolTraffic {
  // A named pool protocol (blacklist/pool_protocol.hpp): JSON messages under the protocol's verbs.
  std::string protocol;  // "", "coinhive", "webminerpool", "stratum"
  std::uint64_t logins = 0;
  std::uint64_t jobs = 0;     // well-formed jobs received
  std::uint64_t submits = 0;  // well-formed shares sent
  std::uint64_t accepted = 0;
  bool confirmed = false;  // a well-formed job received or share sent
  // Pool-shaped content under any framing (blacklist/pool_shape.hpp): hashing blobs received,
  // difficulty-meeting hashes sent.
  std::uint64_t shape_jobs = 0;
  std::uint64_t shape_shares = 0;
  std::string shape_encoding;  // of the first job: "hex", "base64", "binary"

  bool any() const { return !protocol.empty() || shape_jobs > 0 || shape_shares > 0; }
};

struct WebSocketRecord {
  std::string url;
  std::string target_type;  // the target that opened it
  std::string target_url;
  int handshake_status = 0;  // HTTP status of the handshake response, 0 if none seen
  bool closed = false;
  std::string error;  // Network.webSocketFrameError text, if any
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::vector<FrameRecord> frames;  // the first few, bounded
  PoolTraffic pool;
};

// An HTTP origin (scheme, host and port) whose bodies carried pool traffic:
// request bodies (fetch, XHR, sendBeacon), response bodies read from workers, server-sent events.
// Only endpoints with a finding are recorded; how many bodies were read is in the counters.
struct HttpChannelRecord {
  std::string endpoint;
  std::string target_type;  // the target that made the first request with a finding
  std::string target_url;
  std::uint64_t messages = 0;        // bodies and events examined on this endpoint
  std::uint64_t bytes = 0;           // their size
  std::vector<FrameRecord> samples;  // the first messages with a finding (sent: request body)
  PoolTraffic pool;
};

// A function a short profile of one target found busy (crawler/code_profiler). What the code is
// (`code`) is judged by blacklist/hot_code: "mining hash" (hash code in a module with mining
// structure), "hash", "not a hash", or "unknown" (its source could not be read).
struct HotCodeRecord {
  std::string target_type;  // the target it ran in
  std::string target_url;
  std::string language;     // "WebAssembly" or "JavaScript"
  std::string script_url;   // the module's or script's URL
  std::string wasm_sha256;  // Wasm: the module
  std::string function;     // as V8 names it: "wasm-function[9]", "$hash", "step", "(anonymous)"
  int line = 0;             // 0-based, as V8 gives it; Wasm: always 0
  int column = 0;           // 0-based; Wasm: the function's module byte offset
  double share = 0;         // of the profile's samples (wall time): about the share of one core
  std::string code;
  std::string why;
  int round = 1;  // which profiling round of the visit found it
};

// Connections the egress guard refused (cdp/egress_proxy): one record per host and port a page
// asked for, with what that host was (or resolved to). A page probing internal addresses is worth
// reporting by itself.
struct BlockedAddress {
  std::string ip;
  std::string address_class;  // util::to_string(AddressClass): "loopback", "private", "link-local", …
};
struct BlockedConnection {
  std::string host;  // as the page's request named it (Chrome canonicalises literals: `127.1` is 127.0.0.1)
  int port = 0;
  std::vector<BlockedAddress> addresses;
  std::string why;
  std::uint64_t attempts = 0;  // refusals of this host and port during the visit
  double t = 0;                // seconds from the visit's start to the first refusal
};

struct TargetRecord {
  std::string type;
  std::string url;
  bool instrumented = true;  // false: over the target cap, only resumed
};

struct Evidence {
  std::string input;      // what the user gave
  std::string url;        // what was navigated to
  std::string final_url;  // main frame URL at the end
  Status status = Status::ok;
  std::string status_reason;
  int http_status = 0;  // main document's HTTP status, 0 if unknown
  std::vector<ScriptRecord> scripts;
  std::vector<WebSocketRecord> websockets;
  std::vector<HttpChannelRecord> http_channels;
  std::vector<std::string> remote_ips;                 // distinct, bounded
  std::vector<BlockedConnection> blocked_connections;  // bounded; counters.network_blocked counts every refusal
  std::vector<TargetRecord> targets;
  std::vector<CpuSample> cpu_samples;
  std::vector<HotCodeRecord> hot_code;  // bounded (crawler/code_profiler), hottest first per profile
  int profiles = 0;                     // profiling rounds taken (each: every JavaScript target at once)
  double sample_period_seconds = 0;
  // The CPU rule the visit was judged with (so a stored visit can be drawn against its threshold).
  double cpu_threshold_percent = 0;
  int cpu_window = 0;
  double cpu_ratio = 0;
  std::int64_t started_at_ms = 0;  // Unix epoch milliseconds
  std::int64_t elapsed_ms = 0;
  std::map<std::string, std::uint64_t> counters;  // drops and oddities, e.g. "frames_not_stored"
};

// One ground for a verdict. strength: "conclusive", "strong", "weak", "info".
struct Reason {
  std::string signal;
  std::string detail;
  std::string strength;
};

// An entry a cryptojacking verdict writes to the blacklist. kind: page, script_url, ws_endpoint,
// domain, wasm_sha256. Never an IP: shared CDN addresses must not be written back.
struct Offender {
  std::string kind;
  std::string value;
  friend bool operator==(const Offender&, const Offender&) = default;
};

struct Judgement {
  Verdict verdict = Verdict::clean;
  int confidence = 0;  // 0–100
  std::vector<Reason> reasons;
  std::vector<Offender> offenders;  // empty unless cryptojacking
};

// The documented JSON shape (README "JSON output"). Script sources are never included.
nlohmann::json to_json(const Evidence& evidence, const Judgement& judgement);

}  // namespace blacklist
