// crawler/run_queue.hpp — how long each thread of a process has waited for a CPU, from /proc.
//
// The CPU rule adds a renderer's run-queue wait to its CPU time (demand, not share: see RendererCpu in
// visit.cpp). That wait lives per thread in /proc/PID/task/TID/schedstat, and a busy renderer is read
// every sample period, so the reader keeps the files open between samples and reads each with one
// pread (open and close were most of cjcrawl's /proc cost, measured with perf). The thread list is
// read again only when /proc/PID/stat's thread count changes or a kept file stops answering (its
// thread ended). A thread that starts while another ends, keeping the count, is found at the next
// sample after the ended one's file fails; its whole wait counts then, so nothing is lost.
// Bounded: at most kMaxOpenFiles files per reader; a process beyond the budget is read the slow way
// (open, read, close), and at most kMaxThreads threads per process are read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

namespace crawler {

class ThreadWaitReader {
 public:
  static constexpr std::size_t kMaxOpenFiles = 64;
  static constexpr std::size_t kMaxThreads = 4096;  // a page may spawn many workers, each a thread

  ThreadWaitReader() = default;
  ThreadWaitReader(const ThreadWaitReader&) = delete;
  ThreadWaitReader& operator=(const ThreadWaitReader&) = delete;
  ~ThreadWaitReader();

  // Thread id → cumulative run-queue wait (seconds) of `pid`'s threads. Empty when /proc cannot be
  // read (the process ended, another PID namespace).
  std::map<std::int64_t, double> read(std::int64_t pid);
  // Closes what was kept open for `pid` (it is gone, or no longer watched).
  void forget(std::int64_t pid);
  std::size_t open_files() const { return open_files_; }

 private:
  struct Process {
    int stat_fd = -1;
    long listed_threads = -1;             // the thread count when the list was last read; -1: read it again
    std::map<std::int64_t, int> threads;  // thread id → its open schedstat (kept) or -1 (read by path)
  };
  void list_threads(std::int64_t pid, Process& process);
  void close_file(int& fd);

  std::map<std::int64_t, Process> processes_;
  std::size_t open_files_ = 0;
};

}  // namespace crawler
