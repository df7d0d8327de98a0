// tests/unit/test_feed.cpp — what `cjcrawl serve` answers, without sockets: the pure helpers (times,
// Accept-Encoding, ETags, gzip, HTML escaping, the CPU chart), then crawler::FeedService on a real
// SQLite file: 200/304 revalidation, ETags that move with every blacklist change and survive a
// restart, gzip, ?since=, the paged API, visits, and 4xx for bad input.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "crawler/dashboard.hpp"
#include "crawler/feed.hpp"
#include "db/sqlite_store.hpp"

namespace {

namespace asio = boost::asio;
using crawler::HttpRequest;
using crawler::HttpResponse;

struct TempDb {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("cjcrawl-feed-" + std::to_string(::getpid()) + "-" + std::to_string(rand()) + ".db");
  ~TempDb() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ec);
  }
};

std::string gunzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);
  std::string out(data.size() * 20 + 1024, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&stream, Z_FINISH);
  out.resize(out.size() - stream.avail_out);
  inflateEnd(&stream);
  REQUIRE(result == Z_STREAM_END);
  return out;
}

std::string header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return {};
}

// Runs one request through a service on a private io_context.
HttpResponse ask(crawler::FeedService& service, asio::io_context& io, HttpRequest request) {
  auto future = asio::co_spawn(io, service.handle(std::move(request)), asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

HttpRequest get(std::string target) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::move(target);
  return request;
}

std::vector<db::Store::ListedEntry> domains(int count, const std::string& suffix) {
  std::vector<db::Store::ListedEntry> entries;
  for (int i = 0; i < count; ++i) entries.push_back({"domain", "miner" + std::to_string(i) + "." + suffix});
  return entries;
}

}  // namespace

TEST_CASE("feed times: RFC 3339, dates and Unix seconds, HTTP dates both ways", "[feed]") {
  using crawler::parse_time_ms;
  CHECK(parse_time_ms("1700000000") == 1'700'000'000'000);
  CHECK(parse_time_ms("2026-11-26") == 1'795'651'200'000);
  CHECK(parse_time_ms("2026-11-26T10:00:00Z") == 1'795'687'200'000);
  CHECK(parse_time_ms("2026-11-26t10:00:00.250z") == 1'795'687'200'250);
  CHECK(parse_time_ms("2026-11-26T11:30:00+01:30") == 1'795'687'200'000);
  CHECK(parse_time_ms("2026-11-26T08:00:00-02:00") == 1'795'687'200'000);
  for (const char* bad : {"", "2026-11-26T10:00:00", "2026-02-30", "2026-13-01", "yesterday", "2026-11-26T25:00:00Z",
                          "1969-12-31", "2026-11-26T10:00:00+1:00", "9999999999999"})
    CHECK_FALSE(parse_time_ms(bad));
  CHECK(crawler::http_date(1'795'687'200'999) == "Thu, 26 Nov 2026 10:00:00 GMT");
  CHECK(crawler::parse_http_date("Thu, 26 Nov 2026 10:00:00 GMT") == 1'795'687'200'000);
  CHECK_FALSE(crawler::parse_http_date("Thursday, 26-Nov-26 10:00:00 GMT"));
  CHECK_FALSE(crawler::parse_http_date("Thu, 31 Nov 2026 10:00:00 GMT"));
}

TEST_CASE("Accept-Encoding and If-None-Match are read as RFC 9110 says", "[feed]") {
  CHECK(crawler::accepts_gzip("gzip"));
  CHECK(crawler::accepts_gzip("deflate, GZIP;q=0.5"));
  CHECK(crawler::accepts_gzip("*"));
  CHECK(crawler::accepts_gzip("x-gzip"));
  CHECK_FALSE(crawler::accepts_gzip(""));
  CHECK_FALSE(crawler::accepts_gzip("identity"));
  CHECK_FALSE(crawler::accepts_gzip("gzip;q=0"));
  CHECK_FALSE(crawler::accepts_gzip("gzip;q=0.000, *"));
  CHECK_FALSE(crawler::accepts_gzip("*;q=0"));
  CHECK(crawler::etag_matches("\"7-ab\"", "\"7-ab\""));
  CHECK(crawler::etag_matches("W/\"7-ab\"", "\"7-ab\""));
  CHECK(crawler::etag_matches("\"x\", \"7-ab\"", "\"7-ab\""));
  CHECK(crawler::etag_matches("*", "\"7-ab\""));
  CHECK_FALSE(crawler::etag_matches("\"7-ab-gz\"", "\"7-ab\""));
  CHECK_FALSE(crawler::etag_matches("7-ab", "\"7-ab\""));
}

TEST_CASE("gzip output inflates back to the input", "[feed]") {
  std::string text;
  for (int i = 0; i < 20'000; ++i) text += "0.0.0.0 miner" + std::to_string(i) + ".example\n";
  const auto compressed = crawler::gzip_compress(text);
  CHECK(compressed.size() < text.size() / 4);
  CHECK(gunzip(compressed) == text);
  CHECK(gunzip(crawler::gzip_compress("")).empty());
}

TEST_CASE("dashboard text is escaped and the CPU chart marks the samples over the threshold", "[feed][dashboard]") {
  CHECK(crawler::html_escape("<script>alert('x')</script>&\"") ==
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
  CHECK(crawler::html_escape(std::string("a\xff\x01z", 4)) == "a\xEF\xBF\xBDz");
  CHECK(crawler::html_escape("é✓") == "é✓");
  // A right-to-left override would show "evil.test/moc.knab" as a different host: replaced.
  CHECK(crawler::html_escape("https://evil.test/\u202Emoc.knab") == "https://evil.test/\uFFFDmoc.knab");
  CHECK(crawler::html_escape("a\u0085b") == "a\uFFFDb");

  const auto samples = nlohmann::json::parse(
      R"([{"t_ms":500,"cpu_percent":10},{"t_ms":1000,"cpu_percent":97},{"t_ms":1500,"cpu_percent":99.5},
          {"t_ms":2000,"cpu_percent":50},{"t_ms":2500,"cpu_percent":180}])");
  const auto svg = crawler::cpu_chart_svg(samples, 50);
  CHECK(svg.find("data-samples=\"5\"") != std::string::npos);
  CHECK(svg.find("data-over=\"3\"") != std::string::npos);  // 50 itself is not over
  CHECK(svg.find("class=\"threshold\"") != std::string::npos);
  std::size_t over = 0;
  for (auto at = svg.find("<circle class=\"over\""); at != std::string::npos;
       at = svg.find("<circle class=\"over\"", at + 1))
    ++over;
  CHECK(over == 3);
  CHECK(crawler::cpu_chart_svg(nlohmann::json::array(), 50).empty());

  // A hostile visit: its URL and reasons reach the page only as text.
  db::VisitRow row;
  row.id = 7;
  row.url = "https://evil.test/\"><script>alert(1)</script>";
  row.verdict = "cryptojacking";
  row.status = "ok";
  row.evidence_json =
      R"({"reasons":[{"signal":"pool_protocol","detail":"<img src=x onerror=alert(1)>","strength":"conclusive"}],
                          "cpu_samples":[{"t_ms":500,"cpu_percent":99}],"cpu_rule":{"threshold_percent":50},
                          "websockets":[{"url":"wss://pool.test/</td><b>","pool":{"protocol":"coinhive","jobs":3,"submits":2}}]})";
  crawler::DashboardData data;
  data.detections = {row};
  data.recent = {row};
  const auto html = crawler::render_dashboard(data);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("</td><b>") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(html.find("coinhive") != std::string::npos);
  CHECK(html.find("class=\"cpu-chart\"") != std::string::npos);
}

TEST_CASE("feeds revalidate with generation ETags that survive a restart and move with every change", "[feed]") {
  TempDb file;
  {
    auto store = db::SqliteStore::open(file.path).value();
    store.replace_source_entries("list-a", "domains", domains(50, "example"), "", "", 60, 1'795'687'200'000).value();
  }
  asio::io_context io;
  std::string first_etag;
  std::string first_body;
  {
    auto owned = crawler::FeedService::open(file.path, io.get_executor()).value();
    crawler::FeedService& service = *owned;
    auto response = ask(service, io, get("/feed/hosts"));
    REQUIRE(response.status == 200);
    CHECK(response.content_type == "text/plain; charset=utf-8");
    CHECK(response.body->find("0.0.0.0 miner7.example\n") != std::string::npos);
    CHECK(header(response, "Last-Modified") == "Thu, 26 Nov 2026 10:00:00 GMT");
    CHECK(header(response, "Vary") == "Accept-Encoding");
    first_etag = header(response, "ETag");
    first_body = *response.body;
    REQUIRE_FALSE(first_etag.empty());

    // Revalidation: 304, no body, no render.
    auto request = get("/feed/hosts");
    request.if_none_match = first_etag;
    const auto renders = service.stats().renders;
    auto revalidated = ask(service, io, request);
    CHECK(revalidated.status == 304);
    CHECK(revalidated.body->empty());
    CHECK(header(revalidated, "ETag") == first_etag);
    CHECK(service.stats().renders == renders);

    // If-Modified-Since works too when there is no If-None-Match.
    auto by_date = get("/feed/hosts");
    by_date.if_modified_since = "Thu, 26 Nov 2026 10:00:00 GMT";
    CHECK(ask(service, io, by_date).status == 304);
    by_date.if_modified_since = "Thu, 26 Nov 2026 09:59:59 GMT";
    CHECK(ask(service, io, by_date).status == 200);

    // gzip: its own ETag, and the same text once inflated.
    auto gzipped = get("/feed/hosts");
    gzipped.accept_encoding = "gzip, deflate, br";
    auto compressed = ask(service, io, gzipped);
    CHECK(compressed.status == 200);
    CHECK(header(compressed, "Content-Encoding") == "gzip");
    CHECK(header(compressed, "ETag") != first_etag);
    CHECK(gunzip(*compressed.body) == first_body);
    request.accept_encoding = "gzip";
    CHECK(ask(service, io, request).status == 200);  // the identity ETag does not validate the gzip body

    // Another format or filter is another ETag.
    CHECK(header(ask(service, io, get("/feed/domains")), "ETag") != first_etag);
    CHECK(header(ask(service, io, get("/feed/hosts?kind=domain")), "ETag") != first_etag);
  }
  {
    // A restart: same generation, same bytes, same ETag.
    auto owned = crawler::FeedService::open(file.path, io.get_executor()).value();
    crawler::FeedService& service = *owned;
    auto request = get("/feed/hosts");
    request.if_none_match = first_etag;
    CHECK(ask(service, io, request).status == 304);
    auto again = ask(service, io, get("/feed/hosts"));
    CHECK(*again.body == first_body);

    // A writer changes the blacklist while the server runs: the old ETag no longer matches.
    {
      auto store = db::SqliteStore::open(file.path).value();
      store.replace_source_entries("list-a", "domains", domains(51, "example"), "", "", 60, 1'795'690'800'000).value();
    }
    auto changed = ask(service, io, request);
    CHECK(changed.status == 200);
    CHECK(header(changed, "ETag") != first_etag);
    CHECK(changed.body->find("miner50.example") != std::string::npos);
    CHECK(header(changed, "Last-Modified") == "Thu, 26 Nov 2026 11:00:00 GMT");
  }
}

TEST_CASE("feed filters: since, kind, source, confidence, bad parameters are 400, unknown formats 404", "[feed]") {
  TempDb file;
  {
    auto store = db::SqliteStore::open(file.path).value();
    store.replace_source_entries("old-list", "domains", domains(3, "old"), "", "", 40, 1'700'000'000'000).value();
    store.replace_source_entries("new-list", "domains", domains(2, "new"), "", "", 90, 1'795'687'200'000).value();
  }
  asio::io_context io;
  auto owned = crawler::FeedService::open(file.path, io.get_executor()).value();
  crawler::FeedService& service = *owned;
  auto since = ask(service, io, get("/feed/domains?since=2026-01-01T00:00:00Z"));
  CHECK(since.status == 200);
  CHECK(*since.body == "miner0.new\nminer1.new\n");
  CHECK(*ask(service, io, get("/feed/domains?min_confidence=50")).body == "miner0.new\nminer1.new\n");
  CHECK(ask(service, io, get("/feed/domains?source=crawl")).body->empty());
  CHECK(ask(service, io, get("/feed/jsonl?kind=ip")).body->empty());
  CHECK(ask(service, io, get("/feed/json?kind=domain,page")).status == 200);
  for (const char* bad : {"/feed/hosts?since=yesterday", "/feed/hosts?kind=everything", "/feed/hosts?source=x",
                          "/feed/hosts?min_confidence=101", "/feed/hosts?max_age=3", "/feed/hosts?since=1&since=2"}) {
    INFO(bad);
    auto response = ask(service, io, get(bad));
    CHECK(response.status == 400);
  }
  CHECK(ask(service, io, get("/feed/../../etc/passwd")).status == 404);
  CHECK(ask(service, io, get("/feed/hosts.txt")).status == 404);
  CHECK(ask(service, io, get("/nothing")).status == 404);
  CHECK(ask(service, io, get("http://host/absolute-form")).status == 400);
  auto post = get("/feed/hosts");
  post.method = "POST";
  auto refused = ask(service, io, post);
  CHECK(refused.status == 405);
  CHECK(header(refused, "Allow") == "GET, HEAD");
  auto health = ask(service, io, get("/healthz"));
  CHECK(health.status == 200);
  CHECK(nlohmann::json::parse(*health.body)["status"] == "ok");
}

TEST_CASE("the entries API pages through every active entry once, with kind and substring filters", "[feed]") {
  TempDb file;
  {
    auto store = db::SqliteStore::open(file.path).value();
    auto entries = domains(23, "example");
    entries.push_back({"ws_endpoint", "pool.example/proxy"});
    store.replace_source_entries("list", "domains", entries, "", "", 60, 1000).value();
  }
  asio::io_context io;
  auto owned = crawler::FeedService::open(file.path, io.get_executor()).value();
  crawler::FeedService& service = *owned;
  std::set<std::string> values;
  std::string cursor;
  std::int64_t last_id = 0;
  int pages = 0;
  for (;;) {
    auto response = ask(service, io, get("/api/entries?limit=5" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    REQUIRE(response.status == 200);
    const auto page = nlohmann::json::parse(*response.body);
    ++pages;
    for (const auto& entry : page["entries"]) {
      CHECK(entry["id"].get<std::int64_t>() > last_id);
      last_id = entry["id"].get<std::int64_t>();
      CHECK(values.insert(entry["value"].get<std::string>()).second);
      CHECK(entry["sources"] == nlohmann::json::array({"list"}));
    }
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].get<std::string>();
  }
  CHECK(values.size() == 24);
  CHECK(pages == 5);
  auto filtered = nlohmann::json::parse(*ask(service, io, get("/api/entries?kind=domain&q=miner1")).body);
  CHECK(filtered["count"] == 11);  // miner1, miner10..miner19
  auto sockets = nlohmann::json::parse(*ask(service, io, get("/api/entries?kind=ws_endpoint")).body);
  REQUIRE(sockets["count"] == 1);
  CHECK(sockets["entries"][0]["value"] == "pool.example/proxy");
  for (const char* bad : {"/api/entries?limit=0", "/api/entries?limit=1001", "/api/entries?cursor=-1",
                          "/api/entries?cursor=abc", "/api/entries?kind=nope", "/api/entries?sort=x"})
    CHECK(ask(service, io, get(bad)).status == 400);
  CHECK(ask(service, io, get("/api/entries?q=" + std::string(300, 'a'))).status == 400);
}

TEST_CASE("a visit's evidence and CPU trace come back from the API, unknown ids are 404", "[feed]") {
  TempDb file;
  std::int64_t id = 0;
  {
    auto store = db::SqliteStore::open(file.path).value();
    blacklist::Evidence evidence;
    evidence.input = evidence.url = evidence.final_url = "https://victim.test/";
    evidence.cpu_samples = {{0, 0}, {0.5, 0.49}, {1.0, 0.98}};
    evidence.cpu_threshold_percent = 50;
    blacklist::Judgement judgement;
    judgement.verdict = blacklist::Verdict::cryptojacking;
    judgement.confidence = 95;
    judgement.reasons.push_back({"pool_protocol", "coinhive jobs and submits", "conclusive"});
    judgement.offenders.push_back({"page", "https://victim.test/"});
    id = store.record_visit(evidence, judgement, 1000).value();
  }
  asio::io_context io;
  auto owned = crawler::FeedService::open(file.path, io.get_executor()).value();
  crawler::FeedService& service = *owned;
  auto response = ask(service, io, get("/api/visits/" + std::to_string(id)));
  REQUIRE(response.status == 200);
  const auto visit = nlohmann::json::parse(*response.body);
  CHECK(visit["verdict"] == "cryptojacking");
  CHECK(visit["evidence"]["reasons"][0]["signal"] == "pool_protocol");
  CHECK(visit["evidence"]["cpu_samples"].size() == 2);
  CHECK(visit["evidence"]["cpu_rule"]["threshold_percent"] == 50);
  CHECK(visit["cpu_trace"].size() == 3);
  CHECK(ask(service, io, get("/api/visits/999")).status == 404);
  CHECK(ask(service, io, get("/api/visits/abc")).status == 404);
  CHECK(ask(service, io, get("/api/visits/-1")).status == 404);

  auto dashboard = ask(service, io, get("/"));
  CHECK(dashboard.status == 200);
  CHECK(dashboard.content_type == "text/html; charset=utf-8");
  CHECK(dashboard.body->find("https://victim.test/") != std::string::npos);
  CHECK(dashboard.body->find("data-over=\"2\"") != std::string::npos);
  CHECK(header(dashboard, "Content-Security-Policy").find("default-src 'none'") != std::string::npos);
}

TEST_CASE("the feed server refuses a missing database with a message saying how to make one", "[feed]") {
  asio::io_context io;
  const auto refused = crawler::FeedService::open("/nonexistent/cjcrawl.db", io.get_executor());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == util::ErrorCode::not_found);
  CHECK_THAT(refused.error().describe(), Catch::Contains("no database there"));
}
