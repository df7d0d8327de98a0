// bench/typical_evidence.hpp — a visit like most crawled pages, for the benchmarks that store visits
// without a browser (the queue's throughput, the merge's shard files): clean, a dozen scripts, two
// sockets, ten seconds of CPU samples; about 6 KB of evidence JSON.
#pragma once

#include <cstdint>
#include <string>

#include "blacklist/evidence.hpp"

namespace bench {

inline blacklist::Evidence typical_evidence(std::int64_t site, std::int64_t started_at_ms, std::int64_t elapsed_ms) {
  blacklist::Evidence evidence;
  evidence.input = "https://site" + std::to_string(site) + ".example/";
  evidence.url = evidence.input;
  evidence.final_url = evidence.input + "home";
  evidence.http_status = 200;
  for (int i = 0; i < 12; ++i) {
    blacklist::ScriptRecord script;
    script.url = evidence.input + "static/js/chunk-" + std::to_string(i) + ".js";
    script.sha256 = std::string(64, 'a' + static_cast<char>(i % 6));
    script.length = 40'000 + static_cast<std::uint64_t>(i);
    script.language = "JavaScript";
    script.target_type = "page";
    script.target_url = evidence.final_url;
    evidence.scripts.push_back(std::move(script));
  }
  for (int i = 0; i < 2; ++i) {
    blacklist::WebSocketRecord socket;
    socket.url = "wss://chat.example/socket/" + std::to_string(i);
    evidence.websockets.push_back(std::move(socket));
  }
  for (int i = 0; i <= 40; ++i) evidence.cpu_samples.push_back({i * 0.25, i * 0.01, 0.0});
  evidence.sample_period_seconds = 0.25;
  evidence.started_at_ms = started_at_ms;
  evidence.elapsed_ms = elapsed_ms;
  return evidence;
}

}  // namespace bench
