// util/proc.cpp — see proc.hpp.
#include "util/proc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

namespace util::proc {
namespace {

// Skips `count` space-separated fields of `rest` and returns the one after them.
std::optional<std::string_view> field_after(std::string_view rest, int count) {
  for (int field = 0;; ++field) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    const auto stop = rest.find(' ');
    if (field == count) return rest.substr(0, stop);
    if (stop == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(stop);
  }
}

template <class Number>
std::optional<Number> number(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  Number value{};
  if (std::from_chars(text->data(), text->data() + text->size(), value).ec != std::errc()) return std::nullopt;
  return value;
}

}  // namespace

std::string path(std::int64_t pid, std::string_view name) {
  std::string out = "/proc/" + std::to_string(pid) + "/";
  out += name;
  return out;
}

std::string task_path(std::int64_t pid, std::int64_t tid, std::string_view name) {
  std::string out = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/";
  out += name;
  return out;
}

std::optional<std::string_view> read_start(int fd, std::span<char> buffer) {
  const ssize_t got = ::pread(fd, buffer.data(), buffer.size(), 0);
  if (got <= 0) return std::nullopt;
  return std::string_view(buffer.data(), static_cast<std::size_t>(got));
}

std::optional<std::string_view> read_start(const std::string& file, std::span<char> buffer) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  auto text = read_start(fd, buffer);
  ::close(fd);
  return text;
}

std::optional<std::string> read_small_file(const std::string& file, std::size_t max_bytes) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text(max_bytes, '\0');
  std::size_t filled = 0;
  while (filled < max_bytes) {
    const ssize_t got = ::read(fd, text.data() + filled, max_bytes - filled);
    if (got <= 0) break;
    filled += static_cast<std::size_t>(got);
  }
  ::close(fd);
  text.resize(filled);
  return text;
}

std::optional<Stat> parse_stat(std::string_view text) {
  const auto end_of_name = text.rfind(')');
  if (end_of_name == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(end_of_name + 1);
  // After the name: state (0), ppid (1), pgrp (2), ..., num_threads (17).
  const auto parent = number<pid_t>(field_after(rest, 1));
  const auto group = number<pid_t>(field_after(rest, 2));
  const auto threads = number<long>(field_after(rest, 17));
  if (!parent || !group || !threads || *threads <= 0) return std::nullopt;
  return Stat{*parent, *group, *threads};
}

std::optional<Stat> read_stat(std::int64_t pid) {
  std::array<char, 512> buffer{};  // /proc/PID/stat is under 400 bytes
  const auto text = read_start(path(pid, "stat"), buffer);
  if (!text) return std::nullopt;
  return parse_stat(*text);
}

std::optional<double> parse_schedstat_wait(std::string_view text) {
  const char* end = text.data() + text.size();
  unsigned long long on_cpu_ns = 0;
  unsigned long long waiting_ns = 0;
  const auto first = std::from_chars(text.data(), end, on_cpu_ns);
  if (first.ec != std::errc() || first.ptr >= end || *first.ptr != ' ') return std::nullopt;
  if (std::from_chars(first.ptr + 1, end, waiting_ns).ec != std::errc()) return std::nullopt;
  return static_cast<double>(waiting_ns) / 1e9;
}

std::optional<std::uint64_t> resident_bytes(std::int64_t pid) {
  static const auto page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::array<char, 256> buffer{};
  const auto statm = read_start(path(pid, "statm"), buffer);  // "size resident shared ..." in pages
  if (!statm) return std::nullopt;
  const auto resident_pages = number<std::uint64_t>(field_after(*statm, 1));
  if (!resident_pages) return std::nullopt;
  return *resident_pages * page_bytes;
}

std::optional<std::uint64_t> proportional_bytes(std::int64_t pid) {
  const auto rollup = read_small_file(path(pid, "smaps_rollup"));
  if (!rollup) return std::nullopt;
  const auto at = rollup->find("\nPss:");
  if (at == std::string::npos) return std::nullopt;
  const auto digits = rollup->find_first_of("0123456789", at);
  if (digits == std::string::npos) return std::nullopt;
  std::uint64_t kb = 0;
  if (std::from_chars(rollup->data() + digits, rollup->data() + rollup->size(), kb).ec != std::errc())
    return std::nullopt;
  return kb * 1024;
}

std::string command_line(std::int64_t pid) {
  return read_small_file(path(pid, "cmdline"), 64 * 1024).value_or(std::string());
}

}  // namespace util::proc
