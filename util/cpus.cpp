// util/cpus.cpp — see cpus.hpp.
#include "util/cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

#include "util/proc.hpp"
#include "util/text.hpp"

namespace util {

namespace {

// Where the unified hierarchy is mounted on every systemd and container system.
constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";
// A quota or period beyond this is not a real setting (the kernel caps the period at 1 s).
constexpr std::uint64_t kMaxMicroseconds = std::uint64_t{1} << 50;

}  // namespace

std::optional<int> cpus_from_cpu_max(std::string_view cpu_max) {
  const std::string_view text = trim(cpu_max);
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota_text = text.substr(0, space);
  const std::string_view period_text = trim(text.substr(space + 1));
  const auto period = parse_decimal(period_text, kMaxMicroseconds);
  if (!period || *period == 0) return std::nullopt;
  if (quota_text == "max") return std::nullopt;  // no limit
  const auto quota = parse_decimal(quota_text, kMaxMicroseconds);
  if (!quota) return std::nullopt;
  const std::uint64_t cpus = (*quota + *period - 1) / *period;  // a 1.5-CPU limit can keep 2 busy part-time
  return static_cast<int>(std::clamp<std::uint64_t>(cpus, 1, 1'000'000));
}

std::optional<std::string> cgroup_v2_path(std::string_view proc_self_cgroup) {
  while (!proc_self_cgroup.empty()) {
    const auto end = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, end);
    if (line.starts_with("0::")) return std::string(trim(line.substr(3)));
    if (end == std::string_view::npos) break;
    proc_self_cgroup.remove_prefix(end + 1);
  }
  return std::nullopt;
}

int available_cpus() {
  std::optional<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) cpus = CPU_COUNT(&set);
  // The quota of this cgroup and of each one above it: a pod's limit may sit on a parent.
  if (const auto cgroup_file = proc::read_small_file("/proc/self/cgroup", 64 * 1024)) {
    if (const auto path = cgroup_v2_path(*cgroup_file); path && path->starts_with('/')) {
      std::string folder = std::string(kCgroupRoot) + (*path == "/" ? "" : *path);
      while (true) {
        if (const auto cpu_max = proc::read_small_file(folder + "/cpu.max")) {
          if (const auto quota = cpus_from_cpu_max(*cpu_max)) cpus = std::min(cpus.value_or(*quota), *quota);
        }
        if (folder.size() <= kCgroupRoot.size()) break;
        folder.resize(folder.rfind('/'));
      }
    }
  }
  if (!cpus) cpus = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, *cpus);
}

}  // namespace util
