// crawler/crawl.hpp — `cjcrawl crawl`: many sites through N slots. Each slot keeps one sandboxed
// Chrome and visits one site at a time in it, each in a fresh browser context, so CPU stays
// attributable and nothing carries over between sites. Every site is committed to the database
// before its JSON line is written, so a crash or kill -9 loses at most the sites in flight.
//
// Flow per site: visit (https, then http for a bare host) → retries for crashes, connection errors
// and Chrome failures → judge → one transaction (visit, blacklist, crawl progress) → the JSON line.
// A slot's browser is replaced after a crash, a lost connection or a hang (the visit's call), and
// after `recycle_after` sites or when its process tree's PSS passes `memory_cap_bytes` (checked
// after every visit; within one visit, the site deadline bounds what a page can grow).
// A site cjcrawl could not check at all (Chrome never started) is not recorded: a resume retries it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blacklist/detector.hpp"
#include "crawler/crawl_input.hpp"
#include "crawler/visit.hpp"
#include "db/queue.hpp"
#include "db/store.hpp"

namespace crawler {

class CrawlMetrics;

// A shared crawl (db/queue.hpp): the slots claim their sites from the queue instead of a list, keep
// their leases renewed every lease / 3, and release an attempt that ends without a record.
struct SharedCrawl {
  db::CrawlQueue* queue = nullptr;  // the store's own queue: used on the database thread only
  std::string owner;                // "host:pid"
  std::chrono::seconds lease{30};
  int max_attempts = 3;
};

struct CrawlOptions {
  VisitOptions visit;
  int concurrency = 1;
  int retries = 1;          // extra visits after a crash, a connection error or a Chrome failure
  int failure_budget = 10;  // consecutive failures that stop a slot (DNS errors do not count)
  int recycle_after = 50;   // sites per browser; 1 is a fresh Chrome per site (the original method)
  std::uint64_t memory_cap_bytes = 1536ull << 20;     // PSS of one Chrome's process tree
  std::chrono::milliseconds interrupt_grace{15'000};  // Ctrl-C: in-flight visits may finish this long
  bool progress = false;                              // a live progress line on stderr (a TTY)
  std::optional<SharedCrawl> shared;                  // set: sites come from the queue, not `targets`
  // Set (`crawl --metrics-listen`): moved with the summary (metrics.hpp); outlives the crawl.
  CrawlMetrics* metrics = nullptr;
};

struct CrawlSummary {
  std::size_t recorded = 0;
  std::size_t not_checked = 0;  // cjcrawl could not run a visit (left for a resume)
  std::size_t failures = 0;     // recorded, with a status other than ok (per status below)
  std::map<std::string, std::size_t> verdicts;
  std::map<std::string, std::size_t> statuses;
  std::size_t slots_stopped = 0;  // by the failure budget
  std::size_t browsers_launched = 0;
  // Browsers replaced, by why: "sites" (recycle_after), "memory", "crash", "connection lost",
  // "hang", "setup failed".
  std::map<std::string, std::size_t> browsers_retired;
  bool interrupted = false;  // Ctrl-C / SIGTERM
  bool aborted = false;      // the database failed, or every slot was stopped
  // A shared crawl: the queue had nothing left to claim or in flight when this worker stopped.
  bool queue_finished = false;
  std::size_t released = 0;    // attempts given back to the queue (cjcrawl could not check the site)
  std::size_t superseded = 0;  // results dropped: the lease had lapsed and another worker took the site
  std::string abort_reason;
  double elapsed_seconds = 0;
};

// Visits `targets` (already shard-selected, resumed sites removed) for crawl `crawl_id` and records
// each in `store`. `on_line` receives each site's JSON line after its commit and returns false when
// it could not write it: the crawl then stops taking sites (a half-written output must not grow).
// `total` and `already_done` only feed the progress line.
CrawlSummary run_crawl(db::Store& store, const blacklist::Detector& detector, std::int64_t crawl_id,
                       const std::vector<CrawlTarget>& targets, const CrawlOptions& options,
                       const std::function<bool(const std::string&)>& on_line, std::size_t total,
                       std::size_t already_done);

// The record of an input line that names no site. Its JSON line is the `check --json` shape with
// status `skipped`, the problem as `status_reason`, `attempt` 0 (no visit) and `input_line`.
db::Store::SkippedLine skipped_line(const blacklist::Detector& detector, const blacklist::CpuRule& rule,
                                    std::int64_t crawl_id, const InputProblem& problem);

// The `--out` file of a resumed crawl made to match the database, in place: a torn last line (no
// newline) is truncated away, and the lines of recorded sites (`recorded`: their positions) missing
// from the file are appended, each fetched with `line_for`, so the file ends with exactly one line per
// recorded site. Streams the file (one line in memory at a time); a missing file is created. Returns
// how many lines were appended; throws std::runtime_error naming the file when it cannot be read or
// written.
std::size_t reconcile_output(const std::string& path, std::int64_t crawl_id, const std::vector<std::int64_t>& recorded,
                             const std::function<std::optional<std::string>(std::int64_t)>& line_for);

}  // namespace crawler
