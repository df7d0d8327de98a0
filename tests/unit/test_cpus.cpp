// tests/unit/test_cpus.cpp — the CPUs a process may use (util/cpus.hpp): a cgroup v2 `cpu.max` as a pod's
// CPU limit writes it, /proc/self/cgroup's unified line, and available_cpus() bounded by what this
// machine reports. Pure, apart from the last case.
#include <catch2/catch.hpp>

#include <optional>
#include <sched.h>
#include <string>
#include <thread>

#include "util/cpus.hpp"

TEST_CASE("cpu.max: a quota over its period, rounded up, and nullopt for no limit or bad text", "[cpus]") {
  const struct {
    const char* text;
    std::optional<int> cpus;
  } cases[] = {
      {"200000 100000\n", 2},          // a pod's `limits.cpu: 2`
      {"150000 100000\n", 2},          // 1.5 CPUs keep 2 busy part of the time
      {"100000 100000", 1},            // no newline
      {"50000 100000\n", 1},           // 500m: still one slot
      {"1000 100000\n", 1},            // 10m
      {"400000 100000\n", 4},          // 4
      {"800000 200000\n", 4},          // another period
      {"max 100000\n", std::nullopt},  // no limit
      {"max\n", std::nullopt},         // no period
      {"", std::nullopt},              // empty
      {"200000\n", std::nullopt},      // no period
      {"200000 0\n", std::nullopt},    // a zero period
      {"-1 100000\n", std::nullopt},   // negative
      {"two 100000\n", std::nullopt},  // not a number
  };
  for (const auto& c : cases) {
    INFO("cpu.max: " << c.text);
    CHECK(util::cpus_from_cpu_max(c.text) == c.cpus);
  }
}

TEST_CASE("/proc/self/cgroup: the unified hierarchy's path, or nullopt on cgroup v1 only", "[cpus]") {
  CHECK(util::cgroup_v2_path("0::/\n") == "/");
  CHECK(util::cgroup_v2_path("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope\n") ==
        "/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope");
  CHECK(util::cgroup_v2_path("12:cpu,cpuacct:/docker/ab\n1:name=systemd:/docker/ab\n0::/system.slice/x.service") ==
        "/system.slice/x.service");
  CHECK(util::cgroup_v2_path("4:memory:/a\n1:cpu:/\n") == std::nullopt);
  CHECK(util::cgroup_v2_path("") == std::nullopt);
}

TEST_CASE("available_cpus: at least one, at most the CPUs this process may be scheduled on", "[cpus]") {
  const int cpus = util::available_cpus();
  CHECK(cpus >= 1);
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  CHECK(cpus <= CPU_COUNT(&set));
}
