// crawler/metrics.hpp — the Prometheus metrics of `cjcrawl serve` (/metrics) and of a crawl worker
// (`crawl --metrics-listen`), in the text exposition format 0.0.4: a MetricsExposition gathers the
// families of one endpoint (a registry of prometheus-cpp's core library, plus collectables read at
// scrape time, the process's own among them) and renders them; HttpMetrics counts what a FeedServer
// answers; CrawlMetrics is moved where the crawl counts its summary, so at the end of a crawl the
// two agree. Every metric is an atomic (or a histogram under its own lock), so the crawl's io thread
// and its database thread move them while the metrics thread renders; nothing here does I/O beyond
// /proc/self. README "Metrics" lists the names, types and labels.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "crawler/feed.hpp"
#include "db/queue.hpp"

namespace crawler {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// One endpoint's families. add() before serving; render() from any thread. Help texts must be plain
// constants without a backslash or a newline: prometheus-cpp 1.0.1 writes # HELP unescaped.
class MetricsExposition {
 public:
  MetricsExposition();  // with the process_* families
  // The families created on it render with the exposition; it lives as long as the exposition.
  prometheus::Registry& registry() { return *registry_; }
  // A collectable read at every render (levels kept elsewhere, read when scraped). It is called on
  // the rendering thread: the owner says which thread that may be.
  void add(std::shared_ptr<const prometheus::Collectable> source);
  // Every family, in the text format; a name two sources give is a bug, caught by the tests' checker.
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> sources_;
};

// The 200 answer to a scrape of `exposition`, route "metrics".
HttpResponse metrics_response(const MetricsExposition& exposition);

// A family of one unlabelled sample, for collectables.
prometheus::MetricFamily single_sample(std::string name, std::string help, prometheus::MetricType type, double value);

// What a FeedServer answers, counted when the answer is ready (before it is written, so a client that
// has its response sees it counted). A request Beast could not parse, or a connection refused over
// the cap, counts a response without a route. Counted by the server from the route the handler names
// (HttpResponse::route), not inside FeedService::handle as the design note had it: one place then
// counts both servers (serve's and a crawl worker's metrics port) and times each request.
class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);
  void answered(std::string_view route, int status, double seconds);
  void unrouted(int status);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& responses_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

// A crawl worker's families, moved where run_crawl moves its CrawlSummary (crawl.cpp).
class CrawlMetrics {
 public:
  explicit CrawlMetrics(prometheus::Registry& registry);

  void crawl_info(std::int64_t crawl_id, std::string_view name);
  // A shared crawl (PostgreSQL): its families (released, superseded, database_unreachable, leases,
  // queue) shown from now on, at 0. A one-machine crawl shows them only if one moves.
  void shared_crawl();
  void recorded(std::string_view verdict, std::string_view status);
  void not_checked() { not_checked_.Increment(); }
  void released() { released_.Add({}).Increment(); }
  void superseded() { superseded_.Add({}).Increment(); }
  void visits_in_flight(int visits) { in_flight_.Set(visits); }
  void slots(int running, int stopped);
  void browser_launched() { launches_.Increment(); }
  // `why` as CrawlSummary::browsers_retired names it ("connection lost" becomes connection_lost).
  void browser_replaced(std::string_view why);
  void chrome_pss(int slot, std::uint64_t bytes);
  void commit_took(double seconds) { commit_.Observe(seconds); }
  void database_unreachable(bool away) { database_unreachable_.Add({}).Set(away ? 1 : 0); }
  void leases_held(std::size_t held) { leases_held_.Add({}).Set(static_cast<double>(held)); }
  void leases_lost(std::size_t lost) { leases_lost_.Add({}).Increment(static_cast<double>(lost)); }
  void queue(const db::CrawlQueue::QueueState& state);

 private:
  prometheus::Registry& registry_;
  prometheus::Family<prometheus::Counter>& recorded_;
  prometheus::Counter& not_checked_;
  prometheus::Family<prometheus::Counter>& released_;
  prometheus::Family<prometheus::Counter>& superseded_;
  prometheus::Gauge& in_flight_;
  prometheus::Family<prometheus::Gauge>& slots_;
  prometheus::Counter& launches_;
  prometheus::Family<prometheus::Counter>& replacements_;
  prometheus::Family<prometheus::Gauge>& pss_;
  prometheus::Histogram& commit_;
  prometheus::Family<prometheus::Gauge>& database_unreachable_;
  prometheus::Family<prometheus::Gauge>& leases_held_;
  prometheus::Family<prometheus::Counter>& leases_lost_;
  prometheus::Family<prometheus::Gauge>& queue_sites_;
  prometheus::Family<prometheus::Gauge>& queue_attempts_;
};

// The `why` label of a browser replacement: CrawlSummary's words with '_' for spaces.
std::string replacement_label(std::string_view why);

}  // namespace crawler
