// crawler/browser.hpp — one sandboxed Chrome kept across visits by a crawl slot.
//
// A `Browser` is a launched Chrome, its DevTools connection (with its reader running), and the
// browser-session settings every visit needs: target discovery (for Target.targetCrashed) and
// flatten auto-attach (which also catches popups and shared/service workers). Each visit then works
// in its own browser context (Target.createBrowserContext): no cookies, storage, cache or service
// workers carry over from one site to the next, and disposing the context closes every target the
// site opened. Visits take the event stream in turn (one at a time); between visits, targets that
// attach are resumed and otherwise ignored.
//
// A browser is retired (closed, and the next visit launches a fresh one) after a crash, a lost
// connection, a hang (a visit that ran into its deadline, or a context that would not go away),
// every M sites, or when its process tree's PSS passes a cap. The visit decides the first three;
// the slot (crawl.cpp) the last two. The cap is on PSS, from /proc/PID/smaps_rollup of every process
// in Chrome's process group: PSS divides shared pages among the processes sharing them, where summed
// RSS would count Chrome's shared libraries once per process (an idle Chrome: ~930 MB of summed RSS,
// ~390 MB of PSS). smaps_rollup walks page tables, though (measured: 19 ms of CPU per Chrome, most of
// cjcrawl's own CPU per site), so the summed RSS from /proc/PID/statm is read first: PSS never
// exceeds RSS, and below the cap it settles the question.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cdp/chrome_process.hpp"
#include "cdp/commands.hpp"
#include "cdp/connection.hpp"

namespace crawler {

// pid → it and its parent, when in Chrome's process group (see processes_memory).
using GroupMemberCache = std::map<pid_t, std::vector<pid_t>>;

class Browser : public std::enable_shared_from_this<Browser> {
 public:
  // Launches Chrome (under options.startup_timeout), connects, and sets up the browser session.
  // Events for which `wanted(method)` is false are dropped unparsed (Target.* always arrive).
  // The message of a failure is for the user (Chrome missing, failing to start...).
  static boost::asio::awaitable<cdp::Result<std::shared_ptr<Browser>>> launch(
      const cdp::LaunchOptions& options, bool (*wanted)(std::string_view method) = nullptr);

  ~Browser();  // kills Chrome if close() was not awaited (an interrupted crawl)
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  cdp::Connection& connection() { return *connection_; }
  // The connection is up and Chrome has not exited.
  bool alive() const;
  pid_t pid() const { return chrome_->pid(); }

  // The current visit's event handler and its wake-up when the connection ends. One visit at a
  // time; release() hands the stream back to the browser's own handler.
  void take_events(cdp::EventHandler handler, std::function<void()> on_closed);
  void release_events();

  // Browser.close, the socket's close handshake, Chrome reaped, its profile removed. Idempotent.
  boost::asio::awaitable<void> close();

  // Chrome's PSS in bytes when it is over `cap_bytes`; nullopt when it is not (or unreadable).
  std::optional<std::uint64_t> pss_over(std::uint64_t cap_bytes) const;
  // The processes Chrome last reported (SystemInfo.getProcessInfo, from the visit's CPU samples):
  // with their parents (the zygotes) and the browser, what pss_over reads, rather than every
  // process on the machine. Before any is noted, the whole process group is scanned.
  void note_processes(const std::vector<cdp::ProcessInfo>& processes);

  // Sites visited in this browser, for recycling every M sites.
  int sites() const { return sites_; }
  void count_site() { ++sites_; }

 private:
  Browser() = default;
  void on_event(const cdp::Session& session, std::string_view method, const cdp::Json& params);

  boost::asio::any_io_executor executor_;
  std::unique_ptr<cdp::ChromeProcess> chrome_;
  std::unique_ptr<cdp::Connection> connection_;
  bool run_done_ = false;          // the connection's reader has ended
  std::function<void()> on_closed_;
  cdp::EventHandler handler_;
  std::vector<pid_t> noted_;
  mutable GroupMemberCache group_members_;
  int sites_ = 0;
  bool closed_ = false;
};

// Memory of every process in process group `pgid`, in bytes: the sum of Pss from
// /proc/PID/smaps_rollup (`pss`), or of resident pages from /proc/PID/statm (cheap; an upper bound
// of the PSS). nullopt when no process of the group could be read. At most 4096 processes are read.
enum class MemoryMeasure { rss, pss };
std::optional<std::uint64_t> process_group_memory(pid_t pgid, MemoryMeasure measure);
// The same over `pids` (and their parents) that are in process group `pgid`. `cache` (optional) keeps
// which of them are, per pid, across calls: Chrome's processes keep their group and parent for life,
// and reading two /proc/PID/stat files per process after every site cost more than the memory reads.
std::optional<std::uint64_t> processes_memory(pid_t pgid, const std::vector<pid_t>& pids, MemoryMeasure measure,
                                              GroupMemberCache* cache = nullptr);

}  // namespace crawler
