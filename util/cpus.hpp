// util/cpus.hpp — how many CPUs this process may keep busy: the least of its cgroup v2 CPU quota (a
// container's CPU limit, `cpu.max`, in this cgroup and every one above it) and its affinity mask
// (taskset, cpusets); the machine's count when neither is known. hardware_concurrency() alone counts the
// node's CPUs, which oversubscribes a pod limited to fewer.
//
// The parsers are pure, for tests; available_cpus() does the reading.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace util {

// The CPUs a cgroup v2 `cpu.max` allows: "QUOTA PERIOD" (microseconds) → QUOTA / PERIOD rounded up,
// at least 1. nullopt for "max PERIOD" (no limit) and for text not in that format.
std::optional<int> cpus_from_cpu_max(std::string_view cpu_max);

// This process's cgroup v2 path from /proc/self/cgroup: the "0::PATH" line's PATH ("/" inside a
// container's cgroup namespace); nullopt on a cgroup v1 only system.
std::optional<std::string> cgroup_v2_path(std::string_view proc_self_cgroup);

// min(the cgroup v2 quotas from this process's cgroup up to the root, sched_getaffinity's count), or
// std::thread::hardware_concurrency() when neither is known; always at least 1.
int available_cpus();

}  // namespace util
