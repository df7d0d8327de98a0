// blacklist/judge.hpp — evidence and the CPU rule's outcome in, a verdict with its reasons out.
//
// This is the seed method's decision (Ko et al. 2018): the CPU rule fired *and* the page opened a
// WebSocket → cryptojacking; the CPU rule alone → suspicious (games and benchmarks also burn CPU);
// otherwise clean. The full rule engine (keywords, blacklists, pool protocol, Wasm) extends it.
//
// Confidence is how strongly the evidence says "this page mines", 0–100: it is 0 for a clean page
// with no signal at all, and grows with the signals listed in `reasons`.
#pragma once

#include "blacklist/cpu_rule.hpp"
#include "blacklist/evidence.hpp"

namespace blacklist {

Judgement judge(const Evidence& evidence, const CpuRule& rule, const CpuOutcome& cpu);

}  // namespace blacklist
