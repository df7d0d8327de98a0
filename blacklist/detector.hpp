// blacklist/detector.hpp — the rule engine: turns what a visit saw into a verdict with its evidence.
//
// The crawler hands each script source and each WebSocket frame to the detector as they arrive
// (`examine_script`, `examine_message`), which records findings in the evidence so the bulky data can be
// dropped. During sampling it asks `assess` whether the verdict is settled; at the end `judge` applies
// the decision table (README "How a verdict is reached") and names the offenders to blacklist.
// Immutable after construction; pure apart from reading its rules.
#pragma once

#include <string>
#include <vector>

#include "blacklist/cpu_rule.hpp"
#include "blacklist/evidence.hpp"
#include "blacklist/known.hpp"
#include "blacklist/rules.hpp"

namespace blacklist {

// Conclusive evidence settles a visit as cryptojacking after this many CPU intervals: a short trace
// to show with the verdict, not a condition of it.
inline constexpr int kConfirmingIntervals = 3;

// Confidence (0–100) per decisive signal; the verdict takes the strongest that applies.
inline constexpr int kConfidenceKnown = 95;
inline constexpr int kConfidencePoolProtocol = 95;
inline constexpr int kConfidencePoolShape = 90;  // hashing jobs received and difficulty-meeting hashes sent
inline constexpr int kConfidenceCpuAndWasm = 90;
// A profile found a module's hash code busy, in a module with mining structure: mining, however
// throttled (90 with the CPU rule, as CPU and Wasm).
inline constexpr int kConfidenceHotMiningCode = 85;
inline constexpr int kConfidenceCpuAndPoolJob = 85;
inline constexpr int kConfidenceCpuAndKeywords = 85;
// Suspicious, never cryptojacking: CPU and a worker's socket are what multiplayer games, collaborative
// editors and trading screens show too.
inline constexpr int kConfidenceCpuAndWorkerSocket = 50;
inline constexpr int kConfidenceWasmAlone = 45;
inline constexpr int kConfidencePoolJobAlone = 45;
inline constexpr int kConfidenceCpuAlone = 40;
// Busy, and the profile shows the busy code is plainly not a hash (a physics step, a search).
inline constexpr int kConfidenceCpuNotHash = 25;
inline constexpr int kConfidenceKeywordsAlone = 35;
inline constexpr int kConfidenceIpListed = 20;
inline constexpr int kConfidenceOversize = 15;

// What the sampling loop should do next.
struct Assessment {
  bool settled = false;        // the verdict cannot change any more: stop the visit
  bool keep_watching = false;  // weak signals: sample until the deadline, late starters get caught
  bool mining = false;         // settled as cryptojacking: nothing a target still starting does changes that
  std::string why;             // for logs
};

class Detector {
 public:
  // watch_late_starters: weak signals (miner keywords, a worker's socket, unexplained Wasm) keep a
  // visit sampling until its deadline. Off (--no-late-watch), the CPU rule decides within one window.
  explicit Detector(Rules rules = {}, KnownEntries known = {}, bool watch_late_starters = true)
      : rules_(std::move(rules)), known_(std::move(known)), watch_late_starters_(watch_late_starters) {}

  // Records keyword and Wasm findings of a fetched source in `script` (source_state "fetched").
  void examine_script(ScriptRecord& script) const;
  // Tallies one message of a channel in `pool`: a named pool protocol (JSON text) and pool-shaped
  // content (any framing). Called for every WebSocket frame (binary ones decoded), HTTP body and
  // server-sent event examined, stored or not. `text`: the message is text.
  void examine_message(PoolTraffic& pool, std::string_view message, bool text, bool sent) const;

  // `intervals_left`: how many more CPU intervals fit before the site deadline.
  Assessment assess(const Evidence& evidence, const CpuRule& rule, int intervals_left) const;
  // The CPU rule's horizon for the current evidence (one window, or up to the deadline).
  int horizon(const Evidence& evidence, const CpuRule& rule, int intervals_left) const;

  Judgement judge(const Evidence& evidence, const CpuRule& rule, const CpuOutcome& cpu) const;

  const Rules& rules() const { return rules_; }
  const KnownEntries& known() const { return known_; }

  // Every signal of one visit, sorted by what it can decide (defined in detector.cpp).
  struct Signals;

 private:
  Signals collect(const Evidence& evidence) const;

  Rules rules_;
  KnownEntries known_;
  bool watch_late_starters_ = true;
};

}  // namespace blacklist
