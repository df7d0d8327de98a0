// util/proc.hpp — reading Linux's /proc, written once: small files read without iostreams (these are
// read for every renderer every sample period, and for every Chrome process after every site), and
// the fields cjcrawl needs parsed from them.
//
// Every reader returns nullopt when the file is missing or unreadable (the process ended, another PID
// namespace, no /proc): callers treat that as "not known", never as an error.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace util::proc {

// "/proc/PID/NAME", "/proc/PID/task/TID/NAME".
std::string path(std::int64_t pid, std::string_view name);
std::string task_path(std::int64_t pid, std::int64_t tid, std::string_view name);

// The start of a small file, into `buffer`: one pread from offset 0 of a file kept open, or
// open-read-close by path. The view points into `buffer`.
std::optional<std::string_view> read_start(int fd, std::span<char> buffer);
std::optional<std::string_view> read_start(const std::string& file, std::span<char> buffer);
// The whole of a small file (at most `max_bytes`), by path.
std::optional<std::string> read_small_file(const std::string& file, std::size_t max_bytes = 4096);

// /proc/PID/stat: "pid (comm) state ppid pgrp ... num_threads ...", where comm may hold spaces and
// parentheses (fields are counted after the last ')').
struct Stat {
  pid_t parent = 0;
  pid_t process_group = 0;
  long threads = 0;
};
std::optional<Stat> parse_stat(std::string_view text);
std::optional<Stat> read_stat(std::int64_t pid);

// /proc/PID/task/TID/schedstat: "<ns on cpu> <ns waiting on a run queue> <timeslices>": the wait,
// in seconds.
std::optional<double> parse_schedstat_wait(std::string_view text);

// Resident memory in bytes, from /proc/PID/statm (cheap); proportional set size in bytes, from
// /proc/PID/smaps_rollup (walks the page tables: milliseconds per process).
std::optional<std::uint64_t> resident_bytes(std::int64_t pid);
std::optional<std::uint64_t> proportional_bytes(std::int64_t pid);

// The command line's arguments as one string, separated by NULs or, for processes that rewrote
// their title (Chrome's zygote children), by spaces. Empty when unreadable.
std::string command_line(std::int64_t pid);

}  // namespace util::proc
