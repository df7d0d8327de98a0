// crawler/browser.cpp — see browser.hpp.
#include "crawler/browser.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cdp/commands.hpp"

namespace crawler {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {
constexpr milliseconds kCloseGrace{2'000};  // Browser.close → process exit
constexpr milliseconds kResumeTimeout{5'000};

// The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ...
std::optional<pid_t> process_group_of(std::string_view stat) {
  const auto end_of_name = stat.rfind(')');  // the name may hold spaces and parentheses
  if (end_of_name == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(end_of_name + 1);
  for (int field = 0; field < 3; ++field) {  // " S ppid pgrp"
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    const auto stop = rest.find(' ');
    const std::string_view value = rest.substr(0, stop);
    if (field == 2) {
      pid_t pgrp = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), pgrp).ec != std::errc()) return std::nullopt;
      return pgrp;
    }
    if (stop == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(stop);
  }
  return std::nullopt;
}

// Small /proc files, read without iostreams (this runs once per site).
std::string read_small_file(const std::string& path) {
  std::array<char, 4096> buffer{};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ssize_t got = ::read(fd, buffer.data(), buffer.size());
  ::close(fd);
  return got > 0 ? std::string(buffer.data(), static_cast<std::size_t>(got)) : std::string();
}

// Fields 4 and 5 of /proc/PID/stat (ppid, pgrp), parsed after the command name.
std::optional<std::pair<pid_t, pid_t>> parent_and_group(pid_t pid) {
  const std::string stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  const auto group = process_group_of(stat);
  if (!group) return std::nullopt;
  const auto end_of_name = stat.rfind(')');
  pid_t parent = 0;
  const char* at = stat.data() + end_of_name + 4;  // ") S "
  if (at >= stat.data() + stat.size()) return std::nullopt;
  std::from_chars(at, stat.data() + stat.size(), parent);
  return std::make_pair(parent, *group);
}

// One process's memory in bytes (statm's resident pages, or smaps_rollup's Pss).
std::optional<std::uint64_t> process_memory(pid_t pid, MemoryMeasure measure) {
  static const auto page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::string dir = "/proc/" + std::to_string(pid);
  if (measure == MemoryMeasure::rss) {
    const std::string statm = read_small_file(dir + "/statm");
    const auto space = statm.find(' ');
    std::uint64_t resident_pages = 0;
    if (space == std::string::npos ||
        std::from_chars(statm.data() + space + 1, statm.data() + statm.size(), resident_pages).ec != std::errc())
      return std::nullopt;
    return resident_pages * page_bytes;
  }
  std::ifstream rollup(dir + "/smaps_rollup");
  for (std::string line; std::getline(rollup, line);) {
    if (!line.starts_with("Pss:")) continue;
    std::uint64_t kb = 0;
    const auto digits = line.find_first_of("0123456789");
    if (digits == std::string::npos) break;
    std::from_chars(line.data() + digits, line.data() + line.size(), kb);
    return kb * 1024;
  }
  return std::nullopt;
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
  constexpr int kMaxProcesses = 4096;
  std::set<pid_t> members;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc", error);
       !error && it != std::filesystem::directory_iterator() && members.size() < kMaxProcesses; it.increment(error)) {
    const std::string name = it->path().filename().string();
    pid_t pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc()) continue;
    if (const auto ids = parent_and_group(pid); ids && ids->second == pgid) members.insert(pid);
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
    const auto ids = parent_and_group(pid);
    if (ids && ids->second == pgid) {  // else gone, or not Chrome's
      found.push_back(pid);
      if (const auto parent = parent_and_group(ids->first); parent && parent->second == pgid) found.push_back(ids->first);
    }
    members.insert(found.begin(), found.end());
    if (cache && ids) {  // a process that is gone is not remembered: its pid may come back as another
      if (cache->size() >= kMaxCached) cache->clear();
      cache->emplace(pid, std::move(found));
    }
  }
  return sum_memory(members, measure);
}

asio::awaitable<cdp::Result<std::shared_ptr<Browser>>> Browser::launch(const cdp::LaunchOptions& options,
                                                                       bool (*wanted)(std::string_view method)) {
  std::shared_ptr<Browser> browser(new Browser());
  browser->executor_ = co_await asio::this_coro::executor;
  auto chrome = co_await cdp::ChromeProcess::launch(options);
  if (!chrome) co_return chrome.error();
  browser->chrome_ = std::move(chrome).value();

  auto connection = co_await cdp::Connection::connect(browser->chrome_->devtools_url());
  if (!connection) co_return connection.error();
  browser->connection_ = std::move(connection).value();
  if (wanted) browser->connection_->skip_events([wanted](std::string_view method) { return !wanted(method); });
  // What no visit reads, and most of what a response or script event carries.
  browser->connection_->prune_keys({"headers", "requestHeaders", "headersText", "requestHeadersText", "timing",
                                    "securityDetails", "initiator", "stackTrace", "executionContextAuxData"});
  browser->connection_->on_event([raw = browser.get()](const cdp::Session& session, std::string_view method,
                                                      const cdp::Json& params) { raw->on_event(session, method, params); });
  // The reader keeps the browser alive until it ends: the Connection must outlive run().
  asio::co_spawn(browser->executor_, browser->connection_->run(), [self = browser](std::exception_ptr) {
    self->run_done_ = true;
    if (self->on_closed_) self->on_closed_();
  });

  // Auto-attach with flatten on the browser session catches popups and shared/service workers,
  // which page-level auto-attach misses. No target discovery: attached targets are all a visit
  // watches (their crashes arrive as Inspector.targetCrashed on their own session), and discovery's
  // targetCreated/InfoChanged/Destroyed events were a sixth of all messages (measured, bench corpus).
  cdp::TargetSetAutoAttach auto_attach;
  auto_attach.skip_browser_ui = true;
  auto attach = co_await browser->connection_->send(auto_attach);
  if (!attach) {
    auto error = attach.error();
    error.message = "cannot auto-attach to targets: " + error.message;
    co_await browser->close();
    co_return error;
  }
  co_return browser;
}

Browser::~Browser() {
  if (chrome_) chrome_->terminate();
}

bool Browser::alive() const { return !closed_ && !run_done_ && connection_ && connection_->is_open(); }

void Browser::take_events(cdp::EventHandler handler, std::function<void()> on_closed) {
  handler_ = std::move(handler);
  on_closed_ = std::move(on_closed);
}

void Browser::release_events() {
  handler_ = nullptr;
  on_closed_ = nullptr;
}

// Between visits: Chrome's own targets (the first about:blank) and stragglers of a
// disposed context attach here. A target left waiting for the debugger never runs, so resume it.
void Browser::on_event(const cdp::Session& session, std::string_view method, const cdp::Json& params) {
  if (handler_) return handler_(session, method, params);
  if (method != "Target.attachedToTarget" || !params.value("waitingForDebugger", false)) return;
  asio::co_spawn(
      executor_,
      [](std::shared_ptr<Browser> self, std::string id) -> asio::awaitable<void> {
        if (!self->alive()) co_return;
        auto resumed = co_await self->connection_->send(cdp::RuntimeRunIfWaitingForDebugger{}, id, kResumeTimeout);
        (void)resumed;
      }(shared_from_this(), params.value("sessionId", std::string())),
      asio::detached);
}

asio::awaitable<void> Browser::close() {
  if (closed_) co_return;
  closed_ = true;
  release_events();
  if (connection_) {
    if (connection_->is_open()) {
      auto closed = co_await connection_->send(cdp::BrowserClose{}, {}, kCloseGrace);
      (void)closed;  // Chrome may drop the socket before replying
    }
    co_await connection_->close();
    // The reader ends once the socket is closed; wait for it (bounded), as the Connection's rule asks.
    asio::steady_timer tick(executor_);
    for (int waited = 0; !run_done_ && waited < kCloseGrace.count(); waited += 20) {
      tick.expires_after(milliseconds(20));
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (chrome_) {
    co_await chrome_->wait_exit(kCloseGrace);
    chrome_->terminate();
  }
}

std::optional<std::uint64_t> Browser::pss_over(std::uint64_t cap_bytes) const {
  auto measure = [&](MemoryMeasure what) {
    if (noted_.empty()) return process_group_memory(chrome_->pid(), what);
    std::vector<pid_t> pids = noted_;
    pids.push_back(chrome_->pid());
    return processes_memory(chrome_->pid(), pids, what, &group_members_);
  };
  const auto rss = measure(MemoryMeasure::rss);
  if (rss && *rss <= cap_bytes) return std::nullopt;  // PSS <= RSS: under the cap
  const auto pss = measure(MemoryMeasure::pss);
  if (pss && *pss > cap_bytes) return pss;
  return std::nullopt;
}

void Browser::note_processes(const std::vector<cdp::ProcessInfo>& processes) {
  noted_.clear();
  for (const auto& process : processes)
    if (process.pid > 0 && noted_.size() < 1024) noted_.push_back(static_cast<pid_t>(process.pid));
}

}  // namespace crawler
