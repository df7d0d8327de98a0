// crawler/chrome_memory.hpp — how much memory one Chrome uses, for the crawl's memory cap.
//
// A slot's Chrome is replaced when its process tree's PSS passes a cap. PSS, from
// /proc/PID/smaps_rollup of every process in Chrome's process group, divides shared pages among the
// processes sharing them, where summed RSS would count Chrome's shared libraries once per process (an
// idle Chrome: ~930 MB of summed RSS, ~390 MB of PSS). smaps_rollup walks page tables, though
// (measured: 19 ms of CPU per Chrome, most of cjcrawl's own CPU per site), so the summed RSS from
// /proc/PID/statm is read first: PSS never exceeds RSS, and below the cap it settles the question.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "cdp/commands.hpp"

namespace crawler {

enum class MemoryMeasure { rss, pss };

// pid → it and its parent, when in Chrome's process group (see processes_memory).
using GroupMemberCache = std::map<pid_t, std::vector<pid_t>>;

// Memory of every process in process group `pgid`, in bytes: the sum of Pss (`pss`), or of resident
// pages (`rss`, cheap; an upper bound of the PSS). nullopt when no process of the group could be
// read. At most 4096 processes are read.
std::optional<std::uint64_t> process_group_memory(pid_t pgid, MemoryMeasure measure);
// The same over `pids` (and their parents) that are in process group `pgid`. `cache` (optional) keeps
// which of them are, per pid, across calls: Chrome's processes keep their group and parent for life,
// and reading two /proc/PID/stat files per process after every site cost more than the memory reads.
std::optional<std::uint64_t> processes_memory(pid_t pgid, const std::vector<pid_t>& pids, MemoryMeasure measure,
                                              GroupMemberCache* cache = nullptr);

// One Chrome's memory, watched between its sites.
class ChromeMemory {
 public:
  explicit ChromeMemory(pid_t chrome) : chrome_(chrome) {}
  // The processes Chrome last reported (SystemInfo.getProcessInfo, from a visit's CPU samples): with
  // their parents (the zygotes) and the browser, what pss_over reads, rather than every process on
  // the machine. Before any is noted, the whole process group is scanned.
  void note_processes(const std::vector<cdp::ProcessInfo>& processes);
  // Chrome's PSS in bytes when it is over `cap_bytes`; nullopt when it is not (or unreadable).
  std::optional<std::uint64_t> pss_over(std::uint64_t cap_bytes);
  // Chrome's PSS in bytes now (the processes pss_over reads), or nullopt when unreadable. Costs what
  // the PSS step of pss_over costs (milliseconds of CPU per Chrome): for a metric read now and then.
  std::optional<std::uint64_t> pss();

 private:
  std::optional<std::uint64_t> measure(MemoryMeasure what);

  pid_t chrome_;
  std::vector<pid_t> noted_;
  GroupMemberCache group_members_;
};

}  // namespace crawler
