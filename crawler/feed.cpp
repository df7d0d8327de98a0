// crawler/feed.cpp — see feed.hpp. The routing table is handle(); each endpoint is one named step.
#include "crawler/feed.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <ctime>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crawler/dashboard.hpp"
#include "crawler/metrics.hpp"
#include "db/export.hpp"
#include "util/worker.hpp"

namespace crawler {

namespace asio = boost::asio;

namespace {

// ---- Time.

constexpr std::int64_t kMaxTimeMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146'097 + static_cast<std::int64_t>(day_of_era) - 719'468;
}

bool is_leap(std::int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Reads exactly `width` digits at `pos`.
std::optional<unsigned> digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  unsigned value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return value;
}

std::string printable(std::string_view text, std::size_t max_chars = 120) {
  std::string out;
  for (unsigned char c : text.substr(0, max_chars)) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace

std::optional<std::int64_t> parse_time_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 12) return std::nullopt;  // beyond year 9999
    std::int64_t seconds = 0;
    std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (seconds * 1000 > kMaxTimeMs) return std::nullopt;
    return seconds * 1000;
  }
  const auto year = digits(text, 0, 4);
  const auto month = digits(text, 5, 2);
  const auto day = digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (*year < 1970 || *month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  std::int64_t ms = days_from_civil(*year, *month, *day) * 86'400'000;
  if (text.size() == 10) return ms;
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return std::nullopt;
  const auto hour = digits(text, 11, 2);
  const auto minute = digits(text, 14, 2);
  const auto second = digits(text, 17, 2);
  if (!hour || !minute || !second || text[13] != ':' || text[16] != ':') return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;  // 60: a leap second
  ms += (std::int64_t{*hour} * 3600 + *minute * 60 + *second) * 1000;
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t fraction = 0;
    int scale = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (scale < 3) {
        fraction = fraction * 10 + (text[pos] - '0');
        ++scale;
      }
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
    while (scale++ < 3) fraction *= 10;
    ms += fraction;
  }
  if (pos >= text.size()) return std::nullopt;  // RFC 3339 requires the offset
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) return ms;
  if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
    const auto offset_hours = digits(text, pos + 1, 2);
    const auto offset_minutes = digits(text, pos + 4, 2);
    if (!offset_hours || !offset_minutes || *offset_hours > 23 || *offset_minutes > 59) return std::nullopt;
    const std::int64_t offset = (std::int64_t{*offset_hours} * 60 + *offset_minutes) * 60'000;
    ms += text[pos] == '+' ? -offset : offset;
    if (ms < 0 || ms > kMaxTimeMs) return std::nullopt;
    return ms;
  }
  return std::nullopt;
}

std::string http_date(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(std::clamp<std::int64_t>(ms, 0, kMaxTimeMs) / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[static_cast<std::size_t>(tm.tm_wday)],
                     tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  // "Thu, 26 Nov 2026 10:00:00 GMT": 29 characters, fixed positions.
  static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
      text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT")
    return std::nullopt;
  const auto month_at = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  if (month_at == kMonths.end()) return std::nullopt;
  const auto month = static_cast<unsigned>(month_at - kMonths.begin()) + 1;
  const auto day = digits(text, 5, 2);
  const auto year = digits(text, 12, 4);
  const auto hour = digits(text, 17, 2);
  const auto minute = digits(text, 20, 2);
  const auto second = digits(text, 23, 2);
  if (!day || !year || !hour || !minute || !second || *year < 1970 || *day < 1 || *day > days_in_month(*year, month) ||
      *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  return (days_from_civil(*year, month, *day) * 86'400 + std::int64_t{*hour} * 3600 + *minute * 60 + *second) * 1000;
}

bool accepts_gzip(std::string_view accept_encoding) {
  // "gzip, deflate;q=0.5, *;q=0" — coding names are case-insensitive; a q of 0 means "not acceptable".
  std::optional<bool> gzip;
  std::optional<bool> any;
  std::size_t start = 0;
  while (start <= accept_encoding.size()) {
    const auto end = std::min(accept_encoding.find(',', start), accept_encoding.size());
    std::string_view item = accept_encoding.substr(start, end - start);
    start = end + 1;
    const auto semicolon = item.find(';');
    std::string_view name = item.substr(0, semicolon);
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    name = trim(name);
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    bool acceptable = true;
    if (semicolon != std::string_view::npos) {
      std::string_view parameter = trim(item.substr(semicolon + 1));
      if (parameter.size() >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=') {
        parameter.remove_prefix(2);
        // q=0, q=0.0, q=0.000 are zero; anything else with a non-zero digit is not.
        acceptable = std::any_of(parameter.begin(), parameter.end(), [](char c) { return c >= '1' && c <= '9'; });
      }
    }
    if (lower == "gzip" || lower == "x-gzip") gzip = acceptable;
    else if (lower == "*") any = acceptable;
  }
  if (gzip) return *gzip;
  return any.value_or(false);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    const auto end = std::min(if_none_match.find(',', start), if_none_match.size());
    std::string_view tag = if_none_match.substr(start, end - start);
    start = end + 1;
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

std::string gzip_compress(std::string_view data, int level) {
  // One deflate call takes a uInt of input; feeds are far smaller, but never truncate silently.
  if (data.size() > std::numeric_limits<uInt>::max()) throw std::runtime_error("gzip: input over 4 GiB");
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(data.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  const auto written = out.size() - stream.avail_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
  out.resize(written);
  return out;
}

// ---- The service.

namespace {

constexpr std::size_t kMaxQueryBytes = 256;  // /api/entries?q=
constexpr int kProofVisits = 20;             // visits an entry's proof shows (the count says how many in all)
constexpr int kDefaultPageSize = 100;

const std::set<std::string, std::less<>> kKinds{"page",        "domain", "script_url",  "script_path",
                                                "ws_endpoint", "ip",     "wasm_sha256", "allow"};

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

HttpResponse text_response(int status, std::string text) {
  HttpResponse response;
  response.status = status;
  response.body = std::make_shared<const std::string>(std::move(text));
  return response;
}

HttpResponse json_response(int status, const nlohmann::json& value) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body =
      std::make_shared<const std::string>(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return response;
}

HttpResponse problem(int status, std::string_view reason) {
  static const std::map<int, std::string_view> kTitles{{400, "Bad Request"},
                                                       {404, "Not Found"},
                                                       {405, "Method Not Allowed"},
                                                       {500, "Internal Server Error"},
                                                       {503, "Service Unavailable"}};
  const auto title = kTitles.contains(status) ? kTitles.at(status) : std::string_view("Error");
  return text_response(status, fmt::format("{} {}: {}\n", status, title, printable(reason, 300)));
}

// The database could not answer (busy past its timeout, gone, damaged): logged, and a 503 for the
// client, who may try again.
HttpResponse unavailable(std::string_view target, const util::Error& error) {
  spdlog::error("serve {}: database: {}", printable(target), error.describe());
  return problem(503, "the database cannot be read right now");
}

// One rendered feed, kept for the generation it was rendered at.
struct RenderedFeed {
  std::int64_t generation = 0;
  std::int64_t changed_ms = 0;
  std::shared_ptr<const std::string> identity;
  std::shared_ptr<const std::string> gzip;
  std::size_t bytes() const { return identity->size() + gzip->size(); }
};

// What /feed/<format> was asked for; key() names it in the cache and the ETag.
struct FeedQuery {
  db::Format format = db::Format::hosts;
  db::Store::ExportFilter filter;
  std::string key() const {
    std::string kinds;
    for (const auto& kind : filter.kinds) kinds += kind + ",";
    return fmt::format("{}|{}|{}|{}|{}", db::to_string(format), kinds, filter.source, filter.min_confidence,
                       filter.seen_since_ms);
  }
};

std::string make_etag(std::int64_t generation, const std::string& key, bool gzip) {
  return fmt::format("\"{}-{:016x}{}\"", generation, fnv1a64(key), gzip ? "-gz" : "");
}

}  // namespace

struct FeedService::State {
  State(std::unique_ptr<db::Store> io_side, std::unique_ptr<db::Store> worker_side, asio::any_io_executor io_executor,
        FeedLimits feed_limits)
      : io(std::move(io_executor)), limits(feed_limits), io_store(std::move(io_side)),
        worker_store(std::move(worker_side)) {}

  asio::any_io_executor io;
  FeedLimits limits;
  std::unique_ptr<db::Store> io_store;      // io thread only: the generation
  std::unique_ptr<db::Store> worker_store;  // worker thread only
  util::WorkerThread worker;                // renders, the API and the dashboard: off the io thread

  // The cache, shared by both threads. Most recently used at the front.
  std::mutex cache_mutex;
  std::list<std::pair<std::string, std::shared_ptr<const RenderedFeed>>> cache;
  std::size_t cache_bytes = 0;

  std::atomic<std::uint64_t> renders{0};
  std::atomic<std::uint64_t> not_modified{0};

  // /metrics (serve_metrics): the exposition it renders, and the database's numbers as last read.
  // The generation is read at every scrape on the io thread (one indexed read, as /healthz); the
  // counts of Store::summary() scan tables, so they are read on the worker at most every
  // kSummaryEvery and kept here (the collectable reads them under the lock while rendering).
  MetricsExposition* exposition = nullptr;
  std::mutex gauges_mutex;
  std::int64_t generation_seen = 0;
  std::optional<db::Store::Summary> summary_seen;
  std::chrono::steady_clock::time_point summary_read_at{};

  std::shared_ptr<const RenderedFeed> cached(const std::string& key, std::int64_t generation) {
    std::lock_guard lock(cache_mutex);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
      if (it->first != key) continue;
      if (it->second->generation < generation) return nullptr;
      cache.splice(cache.begin(), cache, it);
      return cache.front().second;
    }
    return nullptr;
  }

  void remember(const std::string& key, std::shared_ptr<const RenderedFeed> feed) {
    std::lock_guard lock(cache_mutex);
    // Older generations are dead: every ETag has moved on.
    for (auto it = cache.begin(); it != cache.end();) {
      if (it->first == key || it->second->generation < feed->generation) {
        cache_bytes -= it->second->bytes();
        it = cache.erase(it);
      } else {
        ++it;
      }
    }
    if (feed->bytes() > limits.cache_bytes) return;  // served once, never kept
    cache_bytes += feed->bytes();
    cache.emplace_front(key, std::move(feed));
    while (cache.size() > limits.cache_entries || cache_bytes > limits.cache_bytes) {
      cache_bytes -= cache.back().second->bytes();
      cache.pop_back();
    }
  }

  // Worker thread: the feed at the database's current generation, rendered unless cached.
  util::Result<std::shared_ptr<const RenderedFeed>> render(const FeedQuery& query) {
    const std::string key = query.key();
    // Requests that missed together wait here in line; the first renders, the rest find its result.
    const auto generation = worker_store->generation();
    if (!generation) return generation.error();
    if (auto feed = cached(key, *generation)) return feed;
    auto read = worker_store->feed_snapshot(query.filter);  // the read transaction ends inside
    if (!read) return read.error();
    const auto& snapshot = *read;
    db::ExportOptions options;
    // The data's own change time, so the same generation renders the same bytes after a restart.
    options.now_ms = snapshot.changed_ms;
    options.include_pages =
        std::find(query.filter.kinds.begin(), query.filter.kinds.end(), "page") != query.filter.kinds.end();
    auto rendered = db::render_export(query.format, snapshot.entries, options);
    auto feed = std::make_shared<RenderedFeed>();
    feed->generation = snapshot.generation;
    feed->changed_ms = snapshot.changed_ms;
    feed->gzip = std::make_shared<const std::string>(gzip_compress(rendered.text));
    feed->identity = std::make_shared<const std::string>(std::move(rendered.text));
    ++renders;
    remember(key, feed);
    return std::shared_ptr<const RenderedFeed>(std::move(feed));
  }

  asio::awaitable<HttpResponse> feed(const HttpRequest& request, std::string_view format_name,
                                     const boost::urls::url_view& url);
  asio::awaitable<HttpResponse> entries(const boost::urls::url_view& url);
  asio::awaitable<HttpResponse> visit(std::string_view id_text);
  asio::awaitable<HttpResponse> entry(std::string_view id_text, bool html);
  asio::awaitable<HttpResponse> dashboard();
  asio::awaitable<HttpResponse> metrics();
  HttpResponse health();
};

namespace {

constexpr std::chrono::seconds kSummaryEvery{30};

// The feed service's own families, from its State (kept alive by the service; collected on the
// thread that renders /metrics, the io thread).
class FeedMetrics final : public prometheus::Collectable {
 public:
  explicit FeedMetrics(FeedService::State* state) : state_(state) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  FeedService::State* state_;
};

}  // namespace

util::Result<std::unique_ptr<FeedService>> FeedService::open(const std::filesystem::path& database,
                                                             asio::any_io_executor io, FeedLimits limits) {
  auto io_side = db::open_store(database.string(), db::OpenMode::read);
  if (!io_side) return io_side.error();
  auto worker_side = db::open_store(database.string(), db::OpenMode::read);
  if (!worker_side) return worker_side.error();
  std::unique_ptr<FeedService> service(new FeedService());
  service->state_ =
      std::make_unique<State>(std::move(io_side).value(), std::move(worker_side).value(), std::move(io), limits);
  return service;
}

FeedService::FeedService() = default;

FeedService::~FeedService() {
  if (state_) state_->worker.join();
}

FeedService::Stats FeedService::stats() const { return Stats{state_->renders.load(), state_->not_modified.load()}; }

void FeedService::serve_metrics(MetricsExposition& exposition) {
  state_->exposition = &exposition;
  exposition.add(std::make_shared<FeedMetrics>(state_.get()));
}

namespace {

std::vector<prometheus::MetricFamily> FeedMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families{
      single_sample("cjcrawl_feed_renders_total", "Feeds rendered (cache misses)", MetricType::Counter,
                    static_cast<double>(state_->renders.load())),
      single_sample("cjcrawl_feed_not_modified_total", "Feed requests answered 304 Not Modified", MetricType::Counter,
                    static_cast<double>(state_->not_modified.load()))};
  std::lock_guard lock(state_->gauges_mutex);
  families.push_back(single_sample("cjcrawl_blacklist_generation",
                                   "The blacklist's generation (as /healthz), bumped by every change",
                                   MetricType::Gauge, static_cast<double>(state_->generation_seen)));
  if (!state_->summary_seen) return families;
  const auto& summary = *state_->summary_seen;
  prometheus::MetricFamily entries{"cjcrawl_blacklist_active_entries",
                                   "Active blacklist entries by kind, read at most every 30 s",
                                   MetricType::Gauge,
                                   {}};
  for (const auto& [kind, count] : summary.active_by_kind) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"kind", kind});
    metric.gauge.value = static_cast<double>(count);
    entries.metric.push_back(std::move(metric));
  }
  families.push_back(std::move(entries));
  prometheus::MetricFamily visits{"cjcrawl_visits",
                                  "Visits recorded (all, and those judged cryptojacking), read at most every 30 s",
                                  MetricType::Gauge,
                                  {}};
  for (const auto& [verdict, count] :
       {std::pair<const char*, std::int64_t>{"all", summary.visits}, {"cryptojacking", summary.detections}}) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"verdict", verdict});
    metric.gauge.value = static_cast<double>(count);
    visits.metric.push_back(std::move(metric));
  }
  families.push_back(std::move(visits));
  return families;
}

}  // namespace

asio::awaitable<HttpResponse> FeedService::handle(HttpRequest request) {
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = problem(405, "only GET and HEAD are served");
    response.headers.emplace_back("Allow", "GET, HEAD");
    co_return response;
  }
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) co_return problem(400, "the request target is not a valid origin-form URL path");
  const boost::urls::url_view url = *parsed;
  const std::string_view path = url.encoded_path();

  // Each route is one step; the database errors of any of them become a 503 (the file may be busy
  // in a recovery, or gone), never a crash.
  std::optional<HttpResponse> response;
  std::string_view route = "other";
  try {
    if (path == "/" || path == "/index.html") {
      route = "dashboard";
      response = co_await state_->dashboard();
    } else if (path == "/healthz") {
      route = "healthz";
      response = state_->health();
    } else if (path == "/metrics" && state_->exposition) {
      route = "metrics";
      response = co_await state_->metrics();
    } else if (path.starts_with("/feed/")) {
      route = "feed";
      response = co_await state_->feed(request, path.substr(6), url);
    } else if (path == "/api/entries") {
      route = "api_entries";
      response = co_await state_->entries(url);
    } else if (path.starts_with("/api/entries/")) {
      route = "api_entry";
      response = co_await state_->entry(path.substr(13), false);
    } else if (path.starts_with("/entries/")) {
      route = "entry_page";
      response = co_await state_->entry(path.substr(9), true);
    } else if (path.starts_with("/api/visits/")) {
      route = "api_visit";
      response = co_await state_->visit(path.substr(12));
    } else {
      response =
          problem(404,
                  "no such page; try /, /feed/hosts, /api/entries, /api/entries/<id>, /entries/<id>, /api/visits/<id>, "
                  "/healthz or /metrics");
    }
  } catch (const std::exception& error) {
    spdlog::error("serve {}: {}", printable(request.target), error.what());
    response = problem(500, "internal error");
  }
  response->route = route;
  co_return std::move(*response);
}

asio::awaitable<HttpResponse> FeedService::State::metrics() {
  // Step 1: the generation, as /healthz reads it.
  const auto generation = io_store->generation();
  if (!generation) co_return unavailable("/metrics", generation.error());
  {
    std::lock_guard lock(gauges_mutex);
    generation_seen = *generation;
  }
  // Step 2: the counts, on the worker, when the last read is older than kSummaryEvery. A scrape that
  // finds the database unreadable still answers, with the counts it had (or none yet).
  const auto now = std::chrono::steady_clock::now();
  if (!summary_seen || now - summary_read_at >= kSummaryEvery) {
    summary_read_at = now;  // concurrent scrapes do not queue more reads
    auto job = [this] { return worker_store->summary(); };
    auto summary = co_await worker.run(std::move(job));
    if (summary) {
      std::lock_guard lock(gauges_mutex);
      summary_seen = std::move(summary).value();
    } else {
      spdlog::warn("serve /metrics: database counts: {}", summary.error().describe());
    }
  }
  co_return metrics_response(*exposition);
}

HttpResponse FeedService::State::health() {
  const auto generation = io_store->generation();
  if (!generation) return unavailable("/healthz", generation.error());
  return json_response(200, {{"status", "ok"}, {"generation", *generation}});
}

asio::awaitable<HttpResponse> FeedService::State::feed(const HttpRequest& request, std::string_view format_name,
                                                       const boost::urls::url_view& url) {
  // Step 1: what is asked for. Unknown parameters are refused, so a typo is not a silent full feed.
  FeedQuery query;
  const auto format = db::parse_format(format_name);
  if (!format)
    co_return problem(404, "no such feed format; expected hosts, domains, adblock, rpz, csv, json, jsonl or stix");
  query.format = *format;
  std::set<std::string> seen;
  for (const auto& param : url.params()) {
    const std::string key = param.key;
    const std::string value = param.value;
    if (key != "kind" && !seen.insert(key).second) co_return problem(400, fmt::format("{} given twice", key));
    if (key == "kind") {
      for (std::size_t start = 0; start <= value.size();) {
        const auto end = std::min(value.find(',', start), value.size());
        const std::string kind = value.substr(start, end - start);
        start = end + 1;
        if (!kKinds.contains(kind)) co_return problem(400, fmt::format("kind={}: not a blacklist kind", kind));
        query.filter.kinds.push_back(kind);
      }
    } else if (key == "source") {
      if (value != "all" && value != "crawl" && value != "import")
        co_return problem(400, "source: expected crawl, import or all");
      query.filter.source = value;
    } else if (key == "min_confidence") {
      int confidence = -1;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), confidence);
      if (error != std::errc() || end != value.data() + value.size() || confidence < 0 || confidence > 100)
        co_return problem(400, "min_confidence: expected 0 to 100");
      query.filter.min_confidence = confidence;
    } else if (key == "since") {
      const auto since = parse_time_ms(value);
      if (!since) co_return problem(400, "since: expected RFC 3339 (2026-11-26T10:00:00Z), a date or Unix seconds");
      query.filter.seen_since_ms = *since;
    } else {
      co_return problem(400, fmt::format("unknown parameter {}; expected kind, source, since, min_confidence", key));
    }
  }
  std::sort(query.filter.kinds.begin(), query.filter.kinds.end());
  query.filter.kinds.erase(std::unique(query.filter.kinds.begin(), query.filter.kinds.end()), query.filter.kinds.end());
  const std::string key = query.key();
  const bool gzip = accepts_gzip(request.accept_encoding);

  // Step 2: revalidation against the current generation: one indexed read, no rendering.
  const auto current = io_store->generation();
  if (!current) co_return unavailable(request.target, current.error());
  const std::int64_t generation = *current;
  // A 304 carries the validators and caching headers of the 200 it stands for, but no encoding.
  auto headers_for = [&](const std::string& etag, bool with_body) {
    std::vector<std::pair<std::string, std::string>> headers{
        {"ETag", etag}, {"Cache-Control", "no-cache"}, {"Vary", "Accept-Encoding"}};
    if (gzip && with_body) headers.emplace_back("Content-Encoding", "gzip");
    return headers;
  };
  if (!request.if_none_match.empty() && etag_matches(request.if_none_match, make_etag(generation, key, gzip))) {
    ++not_modified;
    HttpResponse response = text_response(304, "");
    response.headers = headers_for(make_etag(generation, key, gzip), false);
    co_return response;
  }

  // Step 3: the body, from the cache or rendered on the worker.
  auto rendered = cached(key, generation);
  if (!rendered) {
    // Named, not a temporary in the co_await expression (see util/worker.hpp).
    auto job = [this, query] { return render(query); };
    auto render_result = co_await worker.run(std::move(job));
    if (!render_result) co_return unavailable(request.target, render_result.error());
    rendered = std::move(render_result).value();
  }
  const std::string etag = make_etag(rendered->generation, key, gzip);
  const std::string last_modified = http_date(rendered->changed_ms);
  if (request.if_none_match.empty() && !request.if_modified_since.empty()) {
    const auto since = parse_http_date(request.if_modified_since);
    if (since && rendered->changed_ms / 1000 * 1000 <= *since) {
      ++not_modified;
      HttpResponse response = text_response(304, "");
      response.headers = headers_for(etag, false);
      response.headers.emplace_back("Last-Modified", last_modified);
      co_return response;
    }
  }
  HttpResponse response;
  response.headers = headers_for(etag, true);
  response.headers.emplace_back("Last-Modified", last_modified);
  response.content_type = std::string(db::content_type(query.format));
  response.body = gzip ? rendered->gzip : rendered->identity;
  co_return response;
}

asio::awaitable<HttpResponse> FeedService::State::entries(const boost::urls::url_view& url) {
  std::string kind;
  std::string contains;
  std::int64_t cursor = 0;
  int limit = kDefaultPageSize;
  std::set<std::string> seen;
  for (const auto& param : url.params()) {
    const std::string key = param.key;
    const std::string value = param.value;
    if (!seen.insert(key).second) co_return problem(400, fmt::format("{} given twice", key));
    if (key == "kind") {
      if (!value.empty() && !kKinds.contains(value))
        co_return problem(400, fmt::format("kind={}: not a blacklist kind", value));
      kind = value;
    } else if (key == "q") {
      if (value.size() > kMaxQueryBytes) co_return problem(400, fmt::format("q: at most {} bytes", kMaxQueryBytes));
      contains = value;
    } else if (key == "limit") {
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (error != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 1000)
        co_return problem(400, "limit: expected 1 to 1000");
    } else if (key == "cursor") {
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), cursor);
      if (error != std::errc() || end != value.data() + value.size() || cursor < 0)
        co_return problem(400, "cursor: expected the next_cursor of the previous page");
    } else {
      co_return problem(400, fmt::format("unknown parameter {}; expected kind, q, limit, cursor", key));
    }
  }
  auto job = [this, kind, contains, cursor, limit] {
    return worker_store->entries_page(kind, contains, cursor, limit);
  };
  auto read = co_await worker.run(std::move(job));
  if (!read) co_return unavailable("/api/entries", read.error());
  const auto& page = *read;
  // Each entry is the same object as a line of the jsonl feed, with its id first.
  std::string body =
      fmt::format("{{\"generation\":{},\"count\":{},\"entries\":[", page.generation, page.entries.size());
  db::ExportOptions options;
  for (std::size_t i = 0; i < page.entries.size(); ++i) {
    const auto& paged = page.entries[i];
    auto line = db::render_export(db::Format::jsonl, std::span(&paged.entry, 1), options).text;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    if (i) body += ",\n";
    body += fmt::format("{{\"id\":{},", paged.id);
    body.append(line, 1);
  }
  body += "],\"next_cursor\":";
  body += page.more && !page.entries.empty() ? fmt::format("\"{}\"", page.entries.back().id) : "null";
  body += "}\n";
  HttpResponse response;
  response.content_type = "application/json";
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.body = std::make_shared<const std::string>(std::move(body));
  co_return response;
}

asio::awaitable<HttpResponse> FeedService::State::visit(std::string_view id_text) {
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (error != std::errc() || end != id_text.data() + id_text.size() || id <= 0)
    co_return problem(404, "a visit id is a positive number");
  auto job = [this, id] { return worker_store->visit(id); };
  auto read = co_await worker.run(std::move(job));
  if (!read) co_return unavailable("/api/visits", read.error());
  const auto& row = *read;
  if (!row) co_return problem(404, fmt::format("no visit {}", id));
  auto parse = [](const std::string& text) {
    auto value = nlohmann::json::parse(text, nullptr, false);
    return value.is_discarded() ? nlohmann::json(text) : value;
  };
  // Named first: a braced temporary inside a co_return/co_await expression is the g++ 12 hazard.
  nlohmann::json visit_json{{"id", row->id},
                            {"started_at_ms", row->started_at_ms},
                            {"input", row->input},
                            {"url", row->url},
                            {"final_url", row->final_url},
                            {"status", row->status},
                            {"status_reason", row->status_reason},
                            {"verdict", row->verdict},
                            {"confidence", row->confidence},
                            {"elapsed_ms", row->elapsed_ms},
                            {"evidence", parse(row->evidence_json)},
                            {"cpu_trace", parse(row->cpu_samples_json)}};
  co_return json_response(200, visit_json);
}

namespace {

nlohmann::json parsed_or_text(const std::string& text) {
  auto value = nlohmann::json::parse(text, nullptr, false);
  return value.is_discarded() ? nlohmann::json(text) : value;
}

// /api/entries/ID: the entry, who lists it and why, its rechecks, and the visits that named it.
nlohmann::json proof_json(const db::Store::EntryProof& proof) {
  nlohmann::json listings = nlohmann::json::array();
  for (const auto& listing : proof.listings)
    listings.push_back({{"source", listing.source},
                        {"first_listed_ms", listing.first_listed_ms},
                        {"last_listed_ms", listing.last_listed_ms},
                        {"removed_ms", listing.removed_ms ? nlohmann::json(listing.removed_ms) : nlohmann::json()},
                        {"reason", listing.reason},
                        {"removed_reason", listing.removed_reason}});
  nlohmann::json rechecks = nlohmann::json::array();
  for (const auto& recheck : proof.rechecks)
    rechecks.push_back({{"at_ms", recheck.at_ms},
                        {"outcome", recheck.outcome},
                        {"not_seen", recheck.not_seen},
                        {"dropped", recheck.dropped},
                        {"visit_id", recheck.visit_id},
                        {"recheck_id", recheck.crawl_id}});
  nlohmann::json visits = nlohmann::json::array();
  for (const auto& row : proof.visits)
    visits.push_back({{"id", row.id},
                      {"started_at_ms", row.started_at_ms},
                      {"url", row.url},
                      {"final_url", row.final_url},
                      {"status", row.status},
                      {"verdict", row.verdict},
                      {"confidence", row.confidence},
                      {"evidence", parsed_or_text(row.evidence_json)},
                      {"cpu_trace", parsed_or_text(row.cpu_samples_json)}});
  return {{"id", proof.id},
          {"kind", proof.entry.kind},
          {"value", proof.entry.value},
          {"active", proof.active},
          {"first_confirmed_ms", proof.entry.first_seen_ms},
          {"last_confirmed_ms", proof.entry.last_seen_ms},
          {"hits", proof.entry.hits},
          {"confidence", proof.entry.confidence},
          {"not_seen", proof.not_seen},
          {"listings", std::move(listings)},
          {"rechecks", std::move(rechecks)},
          {"visit_count", proof.visit_count},
          {"visits", std::move(visits)}};
}

HttpResponse html_response(std::string html) {
  HttpResponse response;
  response.content_type = "text/html; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-cache");
  // No script runs on the page at all; styles are inline, the charts inline SVG.
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'self'");
  response.body = std::make_shared<const std::string>(std::move(html));
  return response;
}

}  // namespace

asio::awaitable<HttpResponse> FeedService::State::entry(std::string_view id_text, bool html) {
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (error != std::errc() || end != id_text.data() + id_text.size() || id <= 0)
    co_return problem(404, "an entry id is a positive number (see /api/entries)");
  auto job = [this, id] { return worker_store->entry_proof(id, kProofVisits); };
  auto read = co_await worker.run(std::move(job));
  if (!read) co_return unavailable("/api/entries", read.error());
  if (!*read) co_return problem(404, fmt::format("no entry {}", id));
  if (html) co_return html_response(render_entry_page(**read));
  auto proof = proof_json(**read);  // named: see visit()
  co_return json_response(200, proof);
}

asio::awaitable<HttpResponse> FeedService::State::dashboard() {
  const int detections = limits.dashboard_detections;
  const int recent = limits.dashboard_recent;
  auto job = [this, detections, recent]() -> util::Result<std::string> {
    DashboardData data;
    auto summary = worker_store->summary();
    if (!summary) return summary.error();
    auto latest = worker_store->latest_visits({"cryptojacking", "suspicious"}, detections);
    if (!latest) return latest.error();
    auto all = worker_store->latest_visits({}, recent);
    if (!all) return all.error();
    data.summary = std::move(summary).value();
    data.detections = std::move(latest).value();
    data.recent = std::move(all).value();
    return render_dashboard(data);
  };
  auto rendered = co_await worker.run(std::move(job));
  if (!rendered) co_return unavailable("/", rendered.error());
  co_return html_response(std::move(rendered).value());
}

}  // namespace crawler
