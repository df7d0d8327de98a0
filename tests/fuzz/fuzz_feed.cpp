// tests/fuzz/fuzz_feed.cpp — what `cjcrawl serve` reads from clients: crawler::FeedService::handle
// (routing, the origin-form target and its query: kind, source, since, min_confidence, limit,
// cursor, ids; If-None-Match, If-Modified-Since, Accept-Encoding) and the helpers behind it
// (parse_time_ms, parse_http_date, accepts_gzip, etag_matches), plus serve's parse_listen. The input
// is a request: lines method, target, If-None-Match, If-Modified-Since, Accept-Encoding, then a
// --listen value; a single line is the target of a GET. The service runs once per process on a
// small SQLite blacklist (a crawl visit and an imported list), on a private io_context with its
// worker thread, as the unit tests drive it. Asserts beyond "no crash": every answer is a status the
// service documents for client input (200, 304, 400, 404, 405: never 500, an exception caught, nor
// 503, a database failure, on a healthy file) with a body; a 304 has an empty one; a parsed time is
// in 1970–9999; an HTTP date parsed is a whole second and survives http_date and back.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "blacklist/evidence.hpp"
#include "crawler/feed.hpp"
#include "crawler/serve.hpp"
#include "db/sqlite_store.hpp"
#include "tests/fuzz/targets.hpp"
#include "util/encoding.hpp"

namespace cjcrawl::fuzz {
namespace {

namespace asio = boost::asio;

constexpr std::int64_t kNow = 1'795'687'200'000;  // 2026-11-26T10:00:00Z

// The blacklist every request reads: one cryptojacking visit (its page and socket as entries, with
// proof) and an imported list of three kinds.
void fill(const std::filesystem::path& path) {
  auto store = db::SqliteStore::open(path).value();
  store
      .replace_source_entries("list-a", "domains",
                              {{"domain", "miner.example"}, {"ip", "192.0.2.7"}, {"ws_endpoint", "pool.example/proxy"}},
                              "\"e1\"", "Thu, 26 Nov 2026 10:00:00 GMT", 60, kNow)
      .value();
  blacklist::Evidence evidence;
  evidence.url = "https://victim.example/";
  evidence.final_url = evidence.url;
  blacklist::WebSocketRecord socket;
  socket.url = "wss://pool.example/proxy";
  evidence.websockets.push_back(socket);
  evidence.cpu_samples = {{0.0, 0.0}, {1.0, 0.95}};
  blacklist::Judgement judgement;
  judgement.verdict = blacklist::Verdict::cryptojacking;
  judgement.confidence = 90;
  judgement.reasons = {{"ws_pool", "stratum job frame", "conclusive"}};
  judgement.offenders = {{"page", evidence.url}, {"ws_endpoint", socket.url}};
  store.record_visit(evidence, judgement, kNow).value();
}

struct Service {
  std::filesystem::path path;
  asio::io_context io;
  std::unique_ptr<crawler::FeedService> service;  // after io: destroyed (its worker joined) first

  Service() {
    // OpenSSL initialises itself (its configuration, a thread-local error state) on first use, once
    // per process. Done here, on this thread, rather than inside a render on the worker, where
    // LeakSanitizer cannot see the thread-local state and reports it as leaked.
    (void)util::sha256_hex("");
    static std::atomic<int> serial{0};
    path = std::filesystem::temp_directory_path() /
           ("cjcrawl-fuzz-feed-" + std::to_string(::getpid()) + "-" + std::to_string(serial++) + ".db");
    fill(path);
    crawler::FeedLimits limits;
    limits.cache_bytes = 1u << 20;  // the cache stays small over millions of requests
    limits.cache_entries = 16;
    service = crawler::FeedService::open(path, io.get_executor(), limits).value();
  }
  ~Service() {
    service.reset();
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ignored);
  }

  crawler::HttpResponse ask(crawler::HttpRequest request) {
    auto answer = asio::co_spawn(io, service->handle(std::move(request)), asio::use_future);
    io.restart();
    io.run();
    return answer.get();
  }
};

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

void check_helpers(const std::vector<std::string>& fields) {
  for (const auto& field : fields) {
    if (const auto ms = crawler::parse_time_ms(field))
      expect(*ms >= 0 && *ms <= 253'402'300'799'999, "a parsed time lies in 1970-9999");
    if (const auto ms = crawler::parse_http_date(field)) {
      expect(*ms % 1000 == 0, "an HTTP date is a whole second");
      expect(crawler::parse_http_date(crawler::http_date(*ms)) == ms, "an HTTP date survives http_date and back");
    }
    (void)crawler::accepts_gzip(field);
    (void)crawler::etag_matches(field, "\"7-ab\"");
    (void)crawler::parse_listen(field);
  }
}

}  // namespace

int feed(const std::uint8_t* data, std::size_t size) {
  static Service service;  // once per process: opening the store is most of a request's cost
  auto fields = split_lines(as_text(data, size));
  crawler::HttpRequest request;
  request.method = "GET";
  if (fields.size() == 1) {
    request.target = fields[0];
  } else if (fields.size() > 1) {
    request.method = fields[0];
    request.target = fields[1];
    if (fields.size() > 2) request.if_none_match = fields[2];
    if (fields.size() > 3) request.if_modified_since = fields[3];
    if (fields.size() > 4) request.accept_encoding = fields[4];
  }
  check_helpers(fields);

  const auto response = service.ask(request);
  const int status = response.status;
  expect(status == 200 || status == 304 || status == 400 || status == 404 || status == 405,
         "a client's request is answered with a documented status, never 500 or 503");
  expect(response.body != nullptr, "every answer has a body");
  if (status == 304) expect(response.body->empty(), "a 304 has no body");
  return 0;
}

}  // namespace cjcrawl::fuzz
