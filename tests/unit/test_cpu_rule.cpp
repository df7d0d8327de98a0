// tests/unit/test_cpu_rule.cpp — the 90% threshold-exceedance rule on golden traces, plus a
// differential test against a brute-force enumeration of every possible future.
#include <catch2/catch.hpp>

#include <random>

#include "blacklist/cpu_rule.hpp"

using blacklist::CpuDecision;
using blacklist::CpuRule;
using blacklist::CpuSample;

namespace {

// Cumulative samples from per-interval CPU percentages at a fixed period.
std::vector<CpuSample> trace(const std::vector<double>& percents, double period = 0.5) {
  std::vector<CpuSample> samples{{0, 0}};
  for (double percent : percents)
    samples.push_back({samples.back().t_seconds + period, samples.back().cpu_seconds + percent / 100.0 * period});
  return samples;
}

// Feeds the trace one sample at a time, as the visit does, and returns the first decision.
blacklist::CpuOutcome run_sequentially(const CpuRule& rule, const std::vector<double>& percents, int horizon) {
  const auto samples = trace(percents);
  blacklist::CpuOutcome outcome;
  for (std::size_t n = 2; n <= samples.size(); ++n) {
    outcome = blacklist::decide(rule, std::span(samples.data(), n), horizon);
    if (outcome.decision != CpuDecision::undecided) return outcome;
  }
  return outcome;
}

std::vector<double> repeat(double value, int times) {
  return std::vector<double>(static_cast<std::size_t>(times), value);
}

std::vector<double> concat(std::vector<double> a, const std::vector<double>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("required count is ceil(ratio x window)", "[cpu_rule]") {
  CHECK(CpuRule{20, 50, 0.9}.required() == 18);
  CHECK(CpuRule{10, 50, 0.9}.required() == 9);
  CHECK(CpuRule{10, 50, 0.95}.required() == 10);
  CHECK(CpuRule{1, 50, 0.1}.required() == 1);
  CHECK(CpuRule{20, 50, 0.9}.validate().empty());
  CHECK_FALSE(CpuRule{0, 50, 0.9}.validate().empty());
  CHECK_FALSE(CpuRule{20, 50, 1.5}.validate().empty());
  CHECK_FALSE(CpuRule{20, -1, 0.9}.validate().empty());
}

TEST_CASE("golden traces", "[cpu_rule]") {
  const CpuRule rule{20, 50, 0.9};
  const int horizon = rule.window;

  SECTION("steady miner at a full core fires exactly when the first window completes") {
    auto outcome = run_sequentially(rule, repeat(99, 40), horizon);
    CHECK(outcome.decision == CpuDecision::fired);
    CHECK(outcome.fired_at == 20);
    CHECK(outcome.intervals == 20);
  }
  SECTION("throttled miner at 25% never fires and is dismissed after 3 samples") {
    auto outcome = run_sequentially(rule, repeat(25, 40), horizon);
    CHECK(outcome.decision == CpuDecision::cannot_fire);
    CHECK(outcome.intervals == 3);  // 2 misses are allowed in 20; the third settles it
  }
  SECTION("idle page is settled clean after 3 samples") {
    auto outcome = run_sequentially(rule, repeat(1, 40), horizon);
    CHECK(outcome.decision == CpuDecision::cannot_fire);
    CHECK(outcome.intervals == 3);
  }
  SECTION("a short burst (page load work) does not fire") {
    auto outcome = run_sequentially(rule, concat(repeat(100, 4), repeat(3, 30)), horizon);
    CHECK(outcome.decision == CpuDecision::cannot_fire);
    CHECK(outcome.intervals == 7);
  }
  SECTION("noisy miner with two dips per window still fires") {
    std::vector<double> noisy;
    for (int i = 0; i < 20; ++i) noisy.push_back(i == 5 || i == 13 ? 30 : 85);
    auto outcome = run_sequentially(rule, noisy, horizon);
    CHECK(outcome.decision == CpuDecision::fired);
    CHECK(outcome.best_exceeding == 18);
  }
  SECTION("three dips in the only window: not enough") {
    std::vector<double> noisy;
    for (int i = 0; i < 20; ++i) noisy.push_back(i == 2 || i == 9 || i == 15 ? 30 : 85);
    auto outcome = run_sequentially(rule, noisy, horizon);
    CHECK(outcome.decision == CpuDecision::cannot_fire);
    CHECK(outcome.intervals == 16);
  }
  SECTION("late starter: missed with the seed window, caught with a longer horizon") {
    const auto late = concat(repeat(2, 10), repeat(100, 30));
    CHECK(run_sequentially(rule, late, horizon).decision == CpuDecision::cannot_fire);
    auto watched = run_sequentially(rule, late, 60);
    CHECK(watched.decision == CpuDecision::fired);
    CHECK(watched.fired_at == 28);  // 2 idle + 18 busy intervals: the first window with 18 of 20
  }
  SECTION("exactly at the threshold does not exceed it") {
    CHECK(run_sequentially(rule, repeat(50, 20), horizon).decision == CpuDecision::cannot_fire);
  }
  SECTION("undecided while a window can still fill") {
    const auto samples = trace(repeat(90, 5));
    CHECK(blacklist::decide(rule, samples, horizon).decision == CpuDecision::undecided);
  }
  SECTION("no samples at all") {
    CHECK(blacklist::decide(rule, std::vector<CpuSample>{}, horizon).decision == CpuDecision::undecided);
  }
}

TEST_CASE("uneven sampling intervals use the real wall time", "[cpu_rule]") {
  // 0.5 s of CPU over a 1 s interval is 50%, not 100%.
  std::vector<CpuSample> samples{{0, 0}, {1.0, 0.5}, {1.5, 1.0}};
  auto percents = blacklist::interval_percentages(samples);
  REQUIRE(percents.size() == 2);
  CHECK(percents[0] == Approx(50));
  CHECK(percents[1] == Approx(100));
}

TEST_CASE("decide agrees with brute force over every possible future", "[cpu_rule]") {
  // Differential test: cannot_fire must mean no continuation fires; undecided must mean one does.
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    const int window = 1 + static_cast<int>(random() % 6);
    const CpuRule rule{window, 50, 0.5 + static_cast<double>(random() % 5) / 10.0};
    const int horizon = window + static_cast<int>(random() % 4);
    const int seen = static_cast<int>(random() % static_cast<unsigned>(horizon + 1));
    std::vector<double> percents;
    for (int i = 0; i < seen; ++i) percents.push_back(random() % 2 ? 90 : 10);
    const auto outcome = blacklist::decide(rule, trace(percents), horizon);

    auto fires = [&](const std::vector<double>& all) {
      for (int end = window; end <= static_cast<int>(all.size()); ++end) {
        int count = 0;
        for (int i = end - window; i < end; ++i) count += all[static_cast<std::size_t>(i)] > 50;
        if (count >= rule.required()) return true;
      }
      return false;
    };
    const bool fired_already = fires(percents);
    bool some_future_fires = false;
    const int free = horizon - seen;
    for (int mask = 0; mask < (1 << free); ++mask) {
      auto all = percents;
      for (int i = 0; i < free; ++i) all.push_back(mask & (1 << i) ? 90 : 10);
      some_future_fires = some_future_fires || fires(all);
    }
    INFO("window " << window << " horizon " << horizon << " seen " << seen);
    if (fired_already) CHECK(outcome.decision == CpuDecision::fired);
    else if (some_future_fires) CHECK(outcome.decision == CpuDecision::undecided);
    else CHECK(outcome.decision == CpuDecision::cannot_fire);
  }
}
