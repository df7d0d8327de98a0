// crawler/run_queue.cpp — see run_queue.hpp.
#include "crawler/run_queue.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "util/proc.hpp"

namespace crawler {
namespace {

using Buffer = std::array<char, 512>;  // /proc/PID/stat is under 400 bytes; schedstat under 64

std::optional<long> thread_count(std::optional<std::string_view> stat) {
  if (!stat) return std::nullopt;
  const auto fields = util::proc::parse_stat(*stat);
  if (!fields) return std::nullopt;
  return fields->threads;
}

std::optional<double> wait_of(std::optional<std::string_view> schedstat) {
  if (!schedstat) return std::nullopt;
  return util::proc::parse_schedstat_wait(*schedstat);
}

}  // namespace

ThreadWaitReader::~ThreadWaitReader() {
  while (!processes_.empty()) forget(processes_.begin()->first);
}

void ThreadWaitReader::close_file(int& fd) {
  if (fd < 0) return;
  ::close(fd);
  --open_files_;
  fd = -1;
}

void ThreadWaitReader::forget(std::int64_t pid) {
  const auto found = processes_.find(pid);
  if (found == processes_.end()) return;
  close_file(found->second.stat_fd);
  for (auto& [tid, fd] : found->second.threads) close_file(fd);
  processes_.erase(found);
}

void ThreadWaitReader::list_threads(std::int64_t pid, Process& process) {
  std::map<std::int64_t, int> listed;
  const std::string tasks = util::proc::path(pid, "task");
  if (DIR* dir = ::opendir(tasks.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      if (listed.size() >= kMaxThreads) break;
      std::int64_t tid = 0;
      const std::string_view name = entry->d_name;
      if (std::from_chars(name.data(), name.data() + name.size(), tid).ec != std::errc()) continue;
      if (const auto known = process.threads.find(tid); known != process.threads.end()) {
        listed[tid] = known->second;  // keeps its file
        continue;
      }
      int fd = -1;
      if (open_files_ < kMaxOpenFiles) {
        fd = ::open(util::proc::task_path(pid, tid, "schedstat").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) ++open_files_;
      }
      listed[tid] = fd;
    }
    ::closedir(dir);
  }
  for (auto& [tid, fd] : process.threads)
    if (!listed.contains(tid)) close_file(fd);
  process.threads = std::move(listed);
}

std::map<std::int64_t, double> ThreadWaitReader::read(std::int64_t pid) {
  Process& process = processes_[pid];
  Buffer buffer;
  if (process.stat_fd < 0 && open_files_ < kMaxOpenFiles) {
    process.stat_fd = ::open(util::proc::path(pid, "stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (process.stat_fd >= 0) ++open_files_;
  }
  const auto threads =
      thread_count(process.stat_fd >= 0 ? util::proc::read_start(process.stat_fd, buffer)
                                        : util::proc::read_start(util::proc::path(pid, "stat"), buffer));
  if (!threads) {  // ended, or not ours to read
    forget(pid);
    return {};
  }
  if (*threads != process.listed_threads) {
    list_threads(pid, process);
    process.listed_threads = *threads;
  }
  std::map<std::int64_t, double> waits;
  for (auto it = process.threads.begin(); it != process.threads.end();) {
    const auto wait =
        wait_of(it->second >= 0 ? util::proc::read_start(it->second, buffer)
                                : util::proc::read_start(util::proc::task_path(pid, it->first, "schedstat"), buffer));
    if (!wait) {  // the thread ended: drop it, and list the threads again next time
      close_file(it->second);
      it = process.threads.erase(it);
      process.listed_threads = -1;
      continue;
    }
    waits[it->first] = *wait;
    ++it;
  }
  return waits;
}

}  // namespace crawler
