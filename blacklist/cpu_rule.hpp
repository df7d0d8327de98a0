// blacklist/cpu_rule.hpp — the 90% threshold-exceedance rule, as a pure function of a CPU trace.
//
// The visit samples its renderer CPU at a fixed period; each interval between two samples becomes a
// CPU percentage (of one core). The rule fires when, within a sliding window of `window` intervals,
// at least `ratio` of them exceed `threshold_percent`. It decides sequentially: after each sample the
// caller asks `decide` whether it has fired, can no longer fire within the intervals it is willing to
// observe (`horizon`), or needs more samples. No I/O here; tests feed golden traces.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "blacklist/evidence.hpp"

namespace blacklist {

struct CpuRule {
  int window = 20;                // intervals per window (flag --window)
  double threshold_percent = 50;  // of one core (flag --threshold)
  double ratio = 0.9;             // share of a window that must exceed (flag --ratio)

  // Intervals of a window that must exceed: ceil(ratio × window), at least 1.
  int required() const;
  // Empty if usable, else what is wrong (for a usage error).
  std::string validate() const;
};

enum class CpuDecision { undecided, fired, cannot_fire };

struct CpuOutcome {
  CpuDecision decision = CpuDecision::undecided;
  int intervals = 0;          // intervals seen so far
  int exceeding = 0;          // intervals above the threshold, over all seen
  int best_exceeding = 0;     // most exceeding intervals in any complete window seen so far
  int fired_at = 0;           // 1-based interval that completed the firing window (fired only)
  double median_percent = 0;  // over all intervals seen
};

std::string to_string(CpuDecision decision);

// Per-interval CPU use in percent of one core, from cumulative samples.
std::vector<double> interval_percentages(std::span<const CpuSample> samples);

// `horizon`: the total number of intervals the visit will observe at most (the seed method observes
// one window; a page with signals that ask for more watching gets a longer horizon).
// cannot_fire is returned as soon as no window ending within the horizon could reach `required()`,
// even if every remaining interval exceeded.
CpuOutcome decide(const CpuRule& rule, std::span<const CpuSample> samples, int horizon);

}  // namespace blacklist
