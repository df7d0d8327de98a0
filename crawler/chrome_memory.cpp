// crawler/chrome_memory.cpp — see chrome_memory.hpp.
#include "crawler/chrome_memory.hpp"

#include <charconv>
#include <filesystem>
#include <set>
#include <string>

#include "util/proc.hpp"

namespace crawler {
namespace {

std::optional<std::uint64_t> process_memory(pid_t pid, MemoryMeasure measure) {
  return measure == MemoryMeasure::rss ? util::proc::resident_bytes(pid) : util::proc::proportional_bytes(pid);
}

std::optional<std::uint64_t> sum_memory(const std::set<pid_t>& pids, MemoryMeasure measure) {
  std::uint64_t total = 0;
  bool any = false;
  for (const pid_t pid : pids) {
    if (const auto bytes = process_memory(pid, measure)) {
      total += *bytes;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return total;
}

}  // namespace

std::optional<std::uint64_t> process_group_memory(pid_t pgid, MemoryMeasure measure) {
  constexpr std::size_t kMaxProcesses = 4096;
  std::set<pid_t> members;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc", error);
       !error && it != std::filesystem::directory_iterator() && members.size() < kMaxProcesses; it.increment(error)) {
    const std::string name = it->path().filename().string();
    pid_t pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc()) continue;
    if (const auto stat = util::proc::read_stat(pid); stat && stat->process_group == pgid) members.insert(pid);
  }
  return sum_memory(members, measure);
}

std::optional<std::uint64_t> processes_memory(pid_t pgid, const std::vector<pid_t>& pids, MemoryMeasure measure,
                                              GroupMemberCache* cache) {
  constexpr std::size_t kMaxCached = 4096;
  std::set<pid_t> members;
  for (const pid_t pid : pids) {
    if (cache) {
      if (const auto known = cache->find(pid); known != cache->end()) {
        members.insert(known->second.begin(), known->second.end());
        continue;
      }
    }
    std::vector<pid_t> found;
    const auto stat = util::proc::read_stat(pid);
    if (stat && stat->process_group == pgid) {  // else gone, or not Chrome's
      found.push_back(pid);
      if (const auto parent = util::proc::read_stat(stat->parent); parent && parent->process_group == pgid)
        found.push_back(stat->parent);
    }
    members.insert(found.begin(), found.end());
    if (cache && stat) {  // a process that is gone is not remembered: its pid may come back as another
      if (cache->size() >= kMaxCached) cache->clear();
      cache->emplace(pid, std::move(found));
    }
  }
  return sum_memory(members, measure);
}

void ChromeMemory::note_processes(const std::vector<cdp::ProcessInfo>& processes) {
  noted_.clear();
  for (const auto& process : processes)
    if (process.pid > 0 && noted_.size() < 1024) noted_.push_back(static_cast<pid_t>(process.pid));
}

std::optional<std::uint64_t> ChromeMemory::measure(MemoryMeasure what) {
  if (chrome_ <= 0) return std::nullopt;  // no process of our own (a scripted browser)
  if (noted_.empty()) return process_group_memory(chrome_, what);
  std::vector<pid_t> pids = noted_;
  pids.push_back(chrome_);
  return processes_memory(chrome_, pids, what, &group_members_);
}

std::optional<std::uint64_t> ChromeMemory::pss() { return measure(MemoryMeasure::pss); }

std::optional<std::uint64_t> ChromeMemory::pss_over(std::uint64_t cap_bytes) {
  if (chrome_ <= 0) return std::nullopt;
  const auto rss = measure(MemoryMeasure::rss);
  if (rss && *rss <= cap_bytes) return std::nullopt;  // PSS <= RSS: under the cap
  const auto proportional = measure(MemoryMeasure::pss);
  if (proportional && *proportional > cap_bytes) return proportional;
  return std::nullopt;
}

}  // namespace crawler
