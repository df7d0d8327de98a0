// blacklist/cpu_rule.cpp — sequential evaluation of the threshold-exceedance rule.
#include "blacklist/cpu_rule.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace blacklist {

int CpuRule::required() const {
  // The epsilon keeps 0.9 × 20 = 18.000000000000004 from becoming 19.
  return std::max(1, static_cast<int>(std::ceil(ratio * window - 1e-9)));
}

std::string CpuRule::validate() const {
  if (window < 1 || window > 10'000) return fmt::format("--window {}: expected 1 to 10000 samples", window);
  if (!(threshold_percent > 0) || threshold_percent > 10'000)
    return fmt::format("--threshold {}: expected a CPU percentage above 0 (100 = one core)", threshold_percent);
  if (!(ratio > 0) || ratio > 1) return fmt::format("--ratio {}: expected a share in (0, 1]", ratio);
  return {};
}

std::string to_string(CpuDecision decision) {
  switch (decision) {
    case CpuDecision::undecided: return "undecided";
    case CpuDecision::fired: return "fired";
    case CpuDecision::cannot_fire: return "cannot_fire";
  }
  return "undecided";
}

std::vector<double> interval_percentages(std::span<const CpuSample> samples) {
  std::vector<double> out;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const double wall = samples[i].t_seconds - samples[i - 1].t_seconds;
    const double cpu = samples[i].cpu_seconds - samples[i - 1].cpu_seconds;
    out.push_back(wall > 0 ? std::max(0.0, 100.0 * cpu / wall) : 0.0);
  }
  return out;
}

CpuOutcome decide(const CpuRule& rule, std::span<const CpuSample> samples, int horizon) {
  const auto percents = interval_percentages(samples);
  const int seen = static_cast<int>(percents.size());
  const int window = rule.window;
  const int required = rule.required();

  CpuOutcome outcome;
  outcome.intervals = seen;
  if (!percents.empty()) {
    auto sorted = percents;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2), sorted.end());
    outcome.median_percent = sorted[sorted.size() / 2];
  }

  // exceeding_before[i]: exceeding intervals among the first i.
  std::vector<int> exceeding_before(static_cast<std::size_t>(seen) + 1, 0);
  for (int i = 0; i < seen; ++i)
    exceeding_before[i + 1] = exceeding_before[i] + (percents[i] > rule.threshold_percent ? 1 : 0);

  outcome.exceeding = exceeding_before[seen];
  // Fired: the first complete window that reaches the requirement.
  for (int end = window; end <= seen; ++end) {
    const int count = exceeding_before[end] - exceeding_before[end - window];
    outcome.best_exceeding = std::max(outcome.best_exceeding, count);
    if (count >= required) {
      outcome.decision = CpuDecision::fired;
      outcome.fired_at = end;
      outcome.best_exceeding = count;
      return outcome;
    }
  }

  // Can a window ending within the horizon still reach it, if every future interval exceeds?
  for (int end = std::max(window, seen + 1); end <= horizon; ++end) {
    const int start = end - window;  // intervals (start, end]
    const int known = start < seen ? exceeding_before[seen] - exceeding_before[start] : 0;
    const int future = end - std::max(start, seen);
    if (known + future >= required) return outcome;  // undecided: keep sampling
  }
  outcome.decision = CpuDecision::cannot_fire;
  return outcome;
}

}  // namespace blacklist
