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

namespace crawler {
namespace {

using Buffer = std::array<char, 512>;  // /proc/PID/stat is under 400 bytes; schedstat under 64

std::string stat_path(std::int64_t pid) { return "/proc/" + std::to_string(pid) + "/stat"; }
std::string task_path(std::int64_t pid) { return "/proc/" + std::to_string(pid) + "/task"; }
std::string schedstat_path(std::int64_t pid, std::int64_t tid) {
  return task_path(pid) + "/" + std::to_string(tid) + "/schedstat";
}

// A small /proc file from its start: one pread on a kept file, or open-read-close by path.
std::optional<std::string_view> read_start(int fd, Buffer& buffer) {
  const ssize_t got = ::pread(fd, buffer.data(), buffer.size(), 0);
  if (got <= 0) return std::nullopt;
  return std::string_view(buffer.data(), static_cast<std::size_t>(got));
}
std::optional<std::string_view> read_path(const std::string& path, Buffer& buffer) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  auto text = read_start(fd, buffer);
  ::close(fd);
  return text;
}

// schedstat: "<ns on cpu> <ns waiting on a runqueue> <timeslices>"; the wait, in seconds.
std::optional<double> parse_wait(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  const char* end = text->data() + text->size();
  unsigned long long on_cpu_ns = 0;
  unsigned long long waiting_ns = 0;
  const auto first = std::from_chars(text->data(), end, on_cpu_ns);
  if (first.ec != std::errc() || first.ptr >= end || *first.ptr != ' ') return std::nullopt;
  if (std::from_chars(first.ptr + 1, end, waiting_ns).ec != std::errc()) return std::nullopt;
  return static_cast<double>(waiting_ns) / 1e9;
}

// stat: "pid (comm) state ppid ..." where comm may hold spaces and parentheses; num_threads is
// field 20, the 18th after the last ')'.
std::optional<long> parse_thread_count(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  const auto close = text->rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text->substr(close + 1);
  constexpr int kFieldsBefore = 17;  // state (3) ... nice (19)
  for (int field = 0; field <= kFieldsBefore; ++field) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    if (field == kFieldsBefore) break;
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(space);
  }
  long threads = 0;
  if (std::from_chars(rest.data(), rest.data() + rest.size(), threads).ec != std::errc() || threads <= 0)
    return std::nullopt;
  return threads;
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
  const std::string tasks = task_path(pid);
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
        fd = ::open(schedstat_path(pid, tid).c_str(), O_RDONLY | O_CLOEXEC);
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
    process.stat_fd = ::open(stat_path(pid).c_str(), O_RDONLY | O_CLOEXEC);
    if (process.stat_fd >= 0) ++open_files_;
  }
  const auto threads = parse_thread_count(process.stat_fd >= 0
                                              ? read_start(process.stat_fd, buffer)
                                              : read_path(stat_path(pid), buffer));
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
    const auto wait = parse_wait(it->second >= 0 ? read_start(it->second, buffer)
                                                 : read_path(schedstat_path(pid, it->first), buffer));
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
