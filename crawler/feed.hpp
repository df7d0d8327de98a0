// crawler/feed.hpp — what `cjcrawl serve` answers, independent of sockets: the blacklist feeds
// (/feed/<format>) with generation ETags, 304 revalidation, Last-Modified, ?since= and gzip; the
// JSON API (/api/entries, /api/visits/<id>); /healthz; /metrics (Prometheus text); and the dashboard (/).
//
// Threads: handle() runs on the server's single io thread and reads only the generation counter
// there (the 304 path: one indexed read). Everything heavier (rendering a feed, the API, the
// dashboard, and the database gauges of /metrics, at most every 30 s) runs on one worker thread (util::WorkerThread)
// with its own read-only connection, inside a read transaction that ends before the answer is handed back, so no read
// transaction is ever open while bytes go to a client (a slow client cannot pin the WAL). Rendered feeds are cached per
// (format, filters) for the generation they were rendered at; a change to the blacklist bumps the generation and so
// every ETag. No file-system path is ever derived from a request.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "db/store.hpp"
#include "util/status.hpp"

namespace crawler {

// ---- Small pure helpers (unit-tested).

// Unix seconds ("1700000000"), a date ("2026-11-26", midnight UTC) or RFC 3339 ("2026-11-26T10:00:00Z",
// fractions of a second and "+01:00" offsets allowed; 't', 'z' and a space for 'T' too).
// nullopt for anything else, or a time before 1970 or after 9999.
std::optional<std::int64_t> parse_time_ms(std::string_view text);
// IMF-fixdate (RFC 9110): "Thu, 26 Nov 2026 10:00:00 GMT". Milliseconds are dropped.
std::string http_date(std::int64_t ms);
// Parses IMF-fixdate only (the form every current client sends), or nullopt.
std::optional<std::int64_t> parse_http_date(std::string_view text);
// true if Accept-Encoding allows gzip (or x-gzip, or *) with a q-value above 0.
bool accepts_gzip(std::string_view accept_encoding);
// true if an If-None-Match header value matches `etag` (a quoted strong tag): "*", or any tag of the
// comma-separated list, compared weakly (a W/ prefix is ignored), as RFC 9110 says for If-None-Match.
bool etag_matches(std::string_view if_none_match, std::string_view etag);
// gzip (RFC 1952) of `data` with zlib. Throws std::runtime_error if zlib fails (out of memory).
std::string gzip_compress(std::string_view data, int level = 6);

// ---- The service.

struct HttpRequest {
  std::string method;         // "GET", "HEAD", ...
  std::string target;         // origin-form: "/feed/hosts?kind=domain"
  std::string if_none_match;  // header values, empty if absent
  std::string if_modified_since;
  std::string accept_encoding;
};

struct HttpResponse {
  int status = 200;
  // What the request asked for, as the metrics' `route` label: a static name ("feed", "healthz",
  // "other"...), never text from the request, so the label's values stay few.
  std::string_view route = "other";
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/Length
  std::shared_ptr<const std::string> body;                   // shared with the cache; never null
};

// What a FeedServer (serve.hpp) asks: the feed service, or the metrics of a crawl worker.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Answers one request; never throws for anything a client sends. Awaited on the server's io thread.
  virtual boost::asio::awaitable<HttpResponse> handle(HttpRequest request) = 0;
};

class MetricsExposition;

struct FeedLimits {
  std::size_t cache_bytes = 256u << 20;  // rendered feeds kept (identity + gzip); LRU beyond
  std::size_t cache_entries = 64;
  int dashboard_detections = 20;  // cards on the dashboard
  int dashboard_recent = 50;      // rows in its table of recent visits
};

class FeedService : public HttpHandler {
 public:
  // Opens the database twice read-only (db::OpenMode::read: it must exist, at the current schema):
  // once for the io thread, once for the worker.
  static util::Result<std::unique_ptr<FeedService>> open(const std::filesystem::path& database,
                                                         boost::asio::any_io_executor io, FeedLimits limits = {});
  ~FeedService();  // waits for a render in progress
  FeedService(const FeedService&) = delete;
  FeedService& operator=(const FeedService&) = delete;

  // Answers one request; never throws for anything a client sends (bad input is a 4xx, a database
  // failure a 503). Must be awaited on the io executor given to the constructor.
  boost::asio::awaitable<HttpResponse> handle(HttpRequest request) override;

  // Serves /metrics: `exposition` (the server's families, the process's) with the service's own
  // families added to it (feed renders, the generation, the database gauges). Without it, /metrics
  // is a 404. Call before the first request; `exposition` must outlive the service.
  void serve_metrics(MetricsExposition& exposition);

  struct Stats {
    std::uint64_t renders = 0;       // feeds rendered (cache misses)
    std::uint64_t not_modified = 0;  // 304s
  };
  Stats stats() const;

  struct State;  // defined in feed.cpp only (named there by its metrics collectable)

 private:
  FeedService();
  std::unique_ptr<State> state_;
};

}  // namespace crawler
