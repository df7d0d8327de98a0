// db/queue.hpp — the lease queue of a shared crawl: N machines crawl one named list in one database,
// each site recorded exactly once by construction.
//
// A crawl made with a name keeps its sites in crawl_queue. A worker claims one in a short
// transaction (FOR UPDATE SKIP LOCKED picks it) that writes the owner, the next attempt number and
// lease_until from the database's clock; it renews the lease while the visit runs, and records the
// site only if that attempt is still the site's current one, in the visit's own transaction (the
// fencing check of record_visit: CrawlSite::lease_attempt). A worker killed mid-visit stops renewing;
// its lease lapses and the next claim takes the site with the next attempt, closing the old one as
// `lapsed`. An attempt that ends without a record (cjcrawl could not run the visit, or Chrome
// crashed on every retry) is released with its error. Every attempt is a row of crawl_attempts
// (owner, start, end, outcome, error). The claim that would start attempt max_attempts + 1 instead
// hands the site back as exhausted: the worker records it `failed` with the last error, fenced like
// any record. Nothing stays leased for ever, nothing is recorded twice.
//
// The queue, leases and attempts are plain tables an operator can read with psql (README).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/store.hpp"
#include "util/status.hpp"

namespace db {

class CrawlQueue {
 public:
  virtual ~CrawlQueue() = default;

  // One site of the list, as the queue keeps it.
  struct QueuedSite {
    std::int64_t position = 0;  // the input line
    std::string input;          // the site as written in the list
  };
  // Creates crawl `name` (its row, its queue and its skipped lines, in one transaction), or joins it
  // when the name already holds the same input (digest and selection). The name holding another
  // input is invalid_argument, naming the crawl. `skipped` makes the skipped lines once the crawl's id
  // is known (their JSON names it). The crawl's row.
  using SkippedLines = std::function<std::vector<Store::SkippedLine>(std::int64_t crawl_id)>;
  virtual util::Result<Store::CrawlRow> create_or_join(std::string_view name, const Store::CrawlRow& row,
                                                       const std::vector<QueuedSite>& sites,
                                                       const SkippedLines& skipped) = 0;
  // The crawl called `name`, or nullopt.
  virtual util::Result<std::optional<Store::CrawlRow>> named_crawl(std::string_view name) const = 0;

  struct Claim {
    enum class Kind {
      site,       // visit `position` as attempt `attempt`
      exhausted,  // `attempt` would pass max_attempts: record the site `failed` with `last_error`
      wait,       // nothing claimable now, but sites are leased by live workers: ask again later
      finished,   // nothing queued, nothing in flight
    };
    Kind kind = Kind::finished;
    std::int64_t position = 0;
    std::string input;
    std::int64_t attempt = 0;
    std::string last_error;  // the previous attempt's error, or ""
  };
  // Claims the first claimable site of the crawl (queued, or leased with its lease lapsed) for
  // `owner` ("host:pid") until now + `lease` by the database's clock.
  virtual util::Result<Claim> claim(std::int64_t crawl_id, std::string_view owner, std::chrono::seconds lease,
                                    int max_attempts) = 0;
  // Moves lease_until of each (position, attempt) to now + `lease`; a lease whose attempt is no longer
  // current is left alone. The positions whose attempt is no longer current.
  virtual util::Result<std::vector<std::int64_t>> renew(
      std::int64_t crawl_id, const std::vector<std::pair<std::int64_t, std::int64_t>>& leases,
      std::chrono::seconds lease) = 0;
  // An attempt that ends without a record goes back to the queue with its error (a no-op when the
  // attempt is no longer current).
  virtual util::Status release(std::int64_t crawl_id, std::int64_t position, std::int64_t attempt,
                               std::string_view error) = 0;

  // What `cjcrawl crawls` shows of a shared crawl.
  struct InFlight {
    std::int64_t position = 0;
    std::int64_t attempt = 0;
    std::string owner;
    std::int64_t leased_for_ms = 0;  // until the lease lapses; negative: lapsed
  };
  struct QueueState {
    std::int64_t queued = 0;  // never claimed, or released
    std::int64_t leased = 0;
    std::int64_t done = 0;
    std::int64_t failed = 0;          // recorded `failed` after max attempts
    std::int64_t recent_done = 0;     // recorded in the last `window`
    std::int64_t attempts = 0;        // every attempt made
    std::vector<InFlight> in_flight;  // by position
  };
  virtual util::Result<QueueState> queue_state(std::int64_t crawl_id, std::chrono::seconds window) const = 0;
};

}  // namespace db
