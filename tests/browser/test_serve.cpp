// tests/browser/test_serve.cpp — `cjcrawl serve` as clients meet it: the real binary on loopback,
// spoken to over raw sockets (so hostile requests can be sent byte for byte), while a writer changes
// the database; and the dashboard loaded in real sandboxed headless Chromium, checked and screenshot.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <nlohmann/json.hpp>

#include "cdp/chrome_process.hpp"
#include "cdp/connection.hpp"
#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"

namespace {

using Json = nlohmann::json;
using testsupport::TempDir;
namespace asio = boost::asio;

// `cjcrawl serve` on an ephemeral loopback port; stopped with SIGTERM (exit 0) by the destructor.
class Server {
 public:
  Server(const std::filesystem::path& db, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{CJCRAWL_BINARY, "serve", "--db", db.string(), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<testsupport::Process>(argv);
    const std::regex address(R"(http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::smatch match;
      const auto out = process_->output_so_far();
      if (std::regex_search(out, match, address)) port_ = std::stoi(match[1]);
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(port_ != 0);
  }
  ~Server() {
    if (!process_->running()) return;
    process_->signal(SIGTERM);
    const auto result = process_->wait(std::chrono::seconds(10));
    CHECK(result.exit_code == 0);
  }
  int port() const { return port_; }
  bool running() { return process_->running(); }

 private:
  std::unique_ptr<testsupport::Process> process_;
  int port_ = 0;
};

// A blocking loopback TCP client with a receive deadline.
class Client {
 public:
  explicit Client(int port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { ::close(fd_); }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Up to `limit` bytes, until the peer closes or the receive deadline passes.
  std::string receive(std::size_t limit = 64u << 20) {
    std::string out;
    char buffer[65536];
    while (out.size() < limit) {
      const auto n = ::recv(fd_, buffer, std::min(sizeof buffer, limit - out.size()), 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  // One HTTP response: headers, then exactly Content-Length body bytes.
  std::string response() {
    std::string out;
    char byte;
    while (out.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &byte, 1, 0) == 1) out += byte;
    std::smatch match;
    std::size_t length = 0;
    if (std::regex_search(out, match, std::regex("Content-Length: (\\d+)", std::regex::icase)))
      length = std::stoul(match[1]);
    if (out.rfind("HTTP/1.1 304", 0) != 0 && length) out += receive(length);
    return out;
  }
  // true if the server closed the connection (recv gives 0 or an error before the deadline).
  bool closed_by_peer() {
    char byte;
    const auto n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  void set_receive_timeout(std::chrono::milliseconds timeout) {
    timeval value{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof value);
  }

 private:
  int fd_ = -1;
};

std::string get_request(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// A database with the real NoCoin adblock list imported.
std::filesystem::path imported_db(const TempDir& dir) {
  const auto db = dir.path() / "feed.db";
  const auto imported =
      testsupport::cjcrawl({"import", "--db", db.string(), (testsupport::kBlocklists / "nocoin-adblock.txt").string()});
  REQUIRE(imported.exit_code == 0);
  return db;
}

}  // namespace

TEST_CASE("serve: feeds over HTTP with keep-alive and HEAD, and 4xx for malformed, oversized and unknown requests",
          "[serve]") {
  TempDir dir;
  const auto db = imported_db(dir);
  Server server(db);

  // Two requests on one keep-alive connection: a full feed, then its revalidation.
  Client client(server.port());
  REQUIRE(client.send(get_request("/feed/hosts")));
  const auto first = client.response();
  CHECK(status_line(first) == "HTTP/1.1 200 OK");
  CHECK(body_of(first).find("\n0.0.0.0 2miners.com\n") != std::string::npos);
  std::smatch etag;
  REQUIRE(std::regex_search(first, etag, std::regex("ETag: (\"[^\"]+\")")));
  REQUIRE(client.send(get_request("/feed/hosts", "If-None-Match: " + etag[1].str() + "\r\n")));
  CHECK(status_line(client.response()) == "HTTP/1.1 304 Not Modified");

  // HEAD: the GET's headers (its length included) and no body.
  Client head(server.port());
  REQUIRE(head.send("HEAD /feed/hosts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const auto head_response = head.receive();
  CHECK(status_line(head_response) == "HTTP/1.1 200 OK");
  CHECK(head_response.find("Content-Length: " + std::to_string(body_of(first).size()) + "\r\n") != std::string::npos);
  CHECK(body_of(head_response).empty());

  struct Hostile {
    const char* what;
    std::string request;
    const char* status;
  };
  const std::vector<Hostile> hostile{
      {"garbage", "\x16\x03\x01 not http at all\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"bad version", "GET / HTTP/9.9\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"header over 8 KB", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n",
       "HTTP/1.1 431 Request Header Fields Too Large"},
      {"body on a GET", "GET /feed/hosts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
       "HTTP/1.1 413 Payload Too Large"},
      {"unknown path", get_request("/etc/passwd"), "HTTP/1.1 404 Not Found"},
      {"path traversal in a format", get_request("/feed/..%2f..%2fetc%2fpasswd"), "HTTP/1.1 404 Not Found"},
      {"method", "DELETE /feed/hosts HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
  };
  for (const auto& [what, request, status] : hostile) {
    INFO(what);
    Client bad(server.port());
    REQUIRE(bad.send(request));
    CHECK(status_line(bad.response()) == status);
  }
  // The server survived all of it.
  Client after(server.port());
  REQUIRE(after.send(get_request("/healthz")));
  CHECK(status_line(after.response()) == "HTTP/1.1 200 OK");
}

TEST_CASE("serve: slow-loris clients do not block others and are cut off at the header timeout", "[serve]") {
  TempDir dir;
  const auto db = imported_db(dir);
  Server server(db, {"--header-timeout", "2"});

  // 30 clients that trickle a header line every 300 ms and would go on for 9 s.
  constexpr int kSlow = 30;
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<Client>(server.port()));
    REQUIRE(slow.back()->send("GET /feed/hosts HTTP/1.1\r\nHost: x\r\n"));
  }
  std::atomic<int> cut_off{0};
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    std::vector<bool> open(kSlow, true);
    for (int round = 0; round < 30 && !stop; ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      for (int i = 0; i < kSlow; ++i)
        if (open[i] && !slow[i]->send("X-Slow: " + std::to_string(round) + "\r\n")) {
          open[i] = false;
          ++cut_off;
        }
    }
  });

  // Meanwhile, ordinary clients are answered.
  for (int i = 0; i < 5; ++i) {
    Client normal(server.port());
    REQUIRE(normal.send(get_request("/feed/domains")));
    const auto response = normal.response();
    CHECK(status_line(response) == "HTTP/1.1 200 OK");
    CHECK(body_of(response).rfind("2miners.com\n", 0) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(cut_off == 0);  // they were all still connected while the others were served

  // And after the header timeout, the server has closed every slow connection.
  int closed = 0;
  for (auto& client : slow) {
    client->set_receive_timeout(std::chrono::milliseconds(4000));
    closed += client->closed_by_peer() ? 1 : 0;
  }
  stop = true;
  trickle.join();
  CHECK(closed == kSlow);
}

TEST_CASE("serve: connections over --max-connections get 503, idle keep-alive connections are closed", "[serve]") {
  TempDir dir;
  const auto db = imported_db(dir);
  Server server(db, {"--max-connections", "3", "--idle-timeout", "1"});

  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<Client>(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // accepted and counted
  Client extra(server.port());
  const auto refused = extra.receive();
  CHECK(status_line(refused) == "HTTP/1.1 503 Service Unavailable");
  CHECK(refused.find("Retry-After: 1") != std::string::npos);

  held.clear();  // their sessions end
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Client next(server.port());
  REQUIRE(next.send(get_request("/healthz")));
  CHECK(status_line(next.response()) == "HTTP/1.1 200 OK");
  // Kept alive, then idle: closed by the server after about a second.
  next.set_receive_timeout(std::chrono::milliseconds(3000));
  CHECK(next.closed_by_peer());
}

TEST_CASE("serve: a client that stops reading holds no read transaction while a writer checkpoints", "[serve]") {
  TempDir dir;
  const auto db = dir.path() / "big.db";
  {
    // 100,000 domains: the JSON feed is tens of megabytes, far more than the socket buffers hold.
    std::ofstream list(dir.path() / "big.txt");
    for (int i = 0; i < 100'000; ++i) list << "miner" << i << ".example.com\n";
  }
  REQUIRE(
      testsupport::cjcrawl({"import", "--db", db.string(), "--format", "domains", (dir.path() / "big.txt").string()})
          .exit_code == 0);
  Server server(db);
  Client stalled(server.port(), 4096);
  REQUIRE(stalled.send(get_request("/feed/json")));
  const auto start = stalled.receive(2048);  // headers and a little body; then it stops reading
  REQUIRE(status_line(start) == "HTTP/1.1 200 OK");
  std::smatch length;
  REQUIRE(std::regex_search(start, length, std::regex("Content-Length: (\\d+)")));
  const auto total = std::stoul(length[1]);
  CHECK(total > 10'000'000);

  // A writer imports while the response is stuck in the socket, then truncates the WAL.
  const auto imported =
      testsupport::cjcrawl({"import", "--db", db.string(), (testsupport::kBlocklists / "nocoin-adblock.txt").string()});
  CHECK(imported.exit_code == 0);
  CHECK(testsupport::sql(db, "PRAGMA wal_checkpoint(TRUNCATE)") == "0|0|0\n");  // not busy, WAL emptied
  CHECK(std::filesystem::file_size(db.string() + "-wal") == 0);

  // The stalled client still gets its whole, consistent response.
  const auto rest = stalled.receive(total);
  const auto body = body_of(start) + rest;
  REQUIRE(body.size() == total);
  const auto feed = Json::parse(body);
  CHECK(feed["count"] == 100'000);
}

namespace {

// Loads `url` in sandboxed headless Chromium (the same launcher as `cjcrawl check`), evaluates
// `expression` (which must return a JSON string) and saves a full-page screenshot to `png`.
asio::awaitable<std::string> load_and_inspect(std::string url, std::string expression, std::filesystem::path png) {
  cdp::LaunchOptions launch;
  launch.chrome = *cdp::find_chrome(std::nullopt);
  auto chrome = co_await cdp::ChromeProcess::launch(launch);
  REQUIRE(chrome.ok());
  auto connected = co_await cdp::Connection::connect((*chrome)->devtools_url());
  REQUIRE(connected.ok());
  std::unique_ptr<cdp::Connection> connection = std::move(connected.value());
  auto executor = co_await asio::this_coro::executor;
  auto reader_done = asio::co_spawn(executor, connection->run(), asio::use_future);

  Json create{{"url", "about:blank"}};
  auto target = co_await connection->call("Target.createTarget", create);
  REQUIRE(target.ok());
  Json attach{{"targetId", target.value()["targetId"]}, {"flatten", true}};
  auto attached = co_await connection->call("Target.attachToTarget", attach);
  REQUIRE(attached.ok());
  const std::string session = attached.value()["sessionId"];
  Json metrics{{"width", 1280}, {"height", 900}, {"deviceScaleFactor", 1}, {"mobile", false}};
  REQUIRE((co_await connection->call("Emulation.setDeviceMetricsOverride", metrics, session)).ok());
  Json navigate{{"url", url}};
  auto navigated = co_await connection->call("Page.navigate", navigate, session);
  REQUIRE(navigated.ok());
  // Wait for the document to finish loading (no script of its own runs on the dashboard).
  std::string state;
  for (int i = 0; i < 100 && state != "complete"; ++i) {
    Json ready{{"expression", "document.readyState"}, {"returnByValue", true}};
    auto answer = co_await connection->call("Runtime.evaluate", ready, session);
    if (answer.ok()) state = answer.value()["result"].value("value", "");
    asio::steady_timer pause(executor, std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::use_awaitable);
  }
  REQUIRE(state == "complete");
  Json evaluate{{"expression", expression}, {"returnByValue", true}};
  auto inspected = co_await connection->call("Runtime.evaluate", evaluate, session);
  REQUIRE(inspected.ok());
  const std::string result = inspected.value()["result"].value("value", "");
  Json shot{{"format", "png"}, {"captureBeyondViewport", true}};
  auto screenshot = co_await connection->call("Page.captureScreenshot", shot, session);
  REQUIRE(screenshot.ok());
  const std::string encoded = screenshot.value()["data"];
  std::string bytes(boost::beast::detail::base64::decoded_size(encoded.size()), '\0');
  bytes.resize(boost::beast::detail::base64::decode(bytes.data(), encoded.data(), encoded.size()).first);
  std::ofstream(png, std::ios::binary) << bytes;

  co_await connection->call("Browser.close");
  co_await connection->close();
  // The connection must outlive its reader loop.
  while (reader_done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    asio::steady_timer pause(executor, std::chrono::milliseconds(20));
    co_await pause.async_wait(asio::use_awaitable);
  }
  (*chrome)->terminate();
  co_return result;
}

}  // namespace

TEST_CASE("serve: the dashboard shows detections with reasons and a CPU chart, in headless Chromium",
          "[serve][browser]") {
  static testsupport::FixtureServer fixtures(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  TempDir dir;
  const auto db = dir.path() / "visits.db";
  const std::string resolver =
      "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
  for (const auto* page : {"/worker-miner.html", "/idle.html"}) {
    const auto run = testsupport::run_process(
        {CJCRAWL_BINARY, "check", fixtures.url("site.test", page), "--json", "--db", db.string(), "--sample-period",
         "200", "--window", "10", resolver, "--allow-network=127.0.0.1"},
        std::chrono::seconds(90));
    INFO(run.err);
    REQUIRE((run.exit_code == 0 || run.exit_code == 3));
  }
  // What the chart must mark: the miner's samples over its threshold, from the API's own JSON.
  Server server(db);
  Client api(server.port());
  REQUIRE(api.send(get_request("/api/visits/1", "Connection: close\r\n")));
  const auto visit = Json::parse(body_of(api.response()));
  REQUIRE(visit["verdict"] == "cryptojacking");
  const double threshold = visit["evidence"]["cpu_rule"]["threshold_percent"];
  int over = 0;
  for (const auto& sample : visit["evidence"]["cpu_samples"]) over += sample["cpu_percent"].get<double>() > threshold;
  REQUIRE(over >= 1);

  const std::string inspect = R"js(JSON.stringify({
    title: document.title,
    cards: document.querySelectorAll('section.card').length,
    url: document.querySelector('section.card .url') && document.querySelector('section.card .url').textContent,
    reasons: Array.from(document.querySelectorAll('section.card .reasons li b')).map(b => b.textContent),
    charts: document.querySelectorAll('section.card svg.cpu-chart').length,
    threshold: document.querySelectorAll('section.card svg.cpu-chart line.threshold').length,
    over: document.querySelectorAll('section.card svg.cpu-chart circle.over').length,
    sockets: Array.from(document.querySelectorAll('section.card table.sockets td.url')).map(td => td.textContent),
    recent: document.querySelectorAll('table.recent tr').length - 1,
    scripts: document.scripts.length,
    chartWidth: document.querySelector('svg.cpu-chart') && document.querySelector('svg.cpu-chart').getBoundingClientRect().width
  }))js";
  const auto png = std::filesystem::path(CJCRAWL_ARTIFACTS) / "dashboard.png";
  std::filesystem::create_directories(png.parent_path());
  asio::io_context io;
  auto future = asio::co_spawn(
      io, load_and_inspect("http://127.0.0.1:" + std::to_string(server.port()) + "/", inspect, png), asio::use_future);
  io.run();
  const auto page = Json::parse(future.get());
  INFO(page.dump(2));
  CHECK(page["title"].get<std::string>().find("cjcrawl") != std::string::npos);
  CHECK(page["cards"] == 1);  // the miner; the idle page is no detection
  CHECK(page["url"].get<std::string>().find("/worker-miner.html") != std::string::npos);
  CHECK_FALSE(page["reasons"].empty());
  CHECK(page["charts"] == 1);
  CHECK(page["threshold"] == 1);
  CHECK(page["over"] == over);
  bool pool_socket = false;
  for (const auto& socket : page["sockets"])
    pool_socket = pool_socket || socket.get<std::string>().find("/ws/pool") != std::string::npos;
  CHECK(pool_socket);
  CHECK(page["recent"] == 2);
  CHECK(page["scripts"] == 0);
  CHECK(page["chartWidth"].get<double>() > 100);  // rendered, not collapsed
  CHECK(std::filesystem::file_size(png) > 10'000);
  std::ifstream image(png, std::ios::binary);
  char magic[8] = {};
  image.read(magic, 8);
  CHECK(std::string(magic + 1, 3) == "PNG");
}

TEST_CASE("check --report and the entry page: no script, no request, page strings as text, the chart of the JSON",
          "[serve][report][browser]") {
  static testsupport::FixtureServer fixtures(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  TempDir dir;
  const auto db = dir.path() / "visits.db";
  const auto report = dir.path() / "report.html";
  const std::string resolver =
      "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
  const auto run = testsupport::run_process(
      {CJCRAWL_BINARY, "check", fixtures.url("site.test", "/hostile/report-markup.html"), "--json", "--db", db.string(),
       "--sample-period", "200", "--window", "10", "--report", report.string(), resolver, "--allow-network=127.0.0.1"},
      std::chrono::seconds(90));
  INFO(run.err);
  REQUIRE(run.exit_code == 3);
  const auto json = Json::parse(run.out);
  const double threshold = json["cpu_rule"]["threshold_percent"];
  int over = 0;
  for (const auto& sample : json["cpu_samples"]) over += sample["cpu_percent"].get<double>() > threshold;
  bool markup_script = false;
  for (const auto& script : json["scripts"])
    markup_script |= script["url"].get<std::string>().find("<img/src=x/onerror=alert(1)>") != std::string::npos;
  REQUIRE(markup_script);  // the fixture did put markup where the report shows it

  // The same questions of both pages: what ran, what was fetched, what became markup.
  const std::string inspect = R"js(JSON.stringify({
    scripts: document.scripts.length,
    resources: performance.getEntriesByType('resource').length,
    active: document.querySelectorAll('[onerror],[onload],[onclick],iframe,img,object,embed,link[rel=stylesheet]').length,
    markupAsText: document.body.textContent.includes('<img/src=x/onerror=alert(1)>'),
    bidi: /[\u202a-\u202e\u2066-\u2069]/.test(document.body.textContent),
    charts: document.querySelectorAll('svg.cpu-chart').length,
    over: document.querySelector('svg.cpu-chart') ? document.querySelector('svg.cpu-chart').querySelectorAll('circle.over').length : -1,
    threshold: document.querySelector('svg.cpu-chart line.threshold') ? 1 : 0,
    verdict: document.querySelector('.badge') && document.querySelector('.badge').textContent,
    added: document.querySelectorAll('ul.added li').length,
    text: document.body.textContent.length
  }))js";
  const auto artifacts = std::filesystem::path(CJCRAWL_ARTIFACTS);
  std::filesystem::create_directories(artifacts);
  const auto inspect_page = [&](const std::string& url, const std::filesystem::path& png) {
    asio::io_context io;
    auto future = asio::co_spawn(io, load_and_inspect(url, inspect, png), asio::use_future);
    io.run();
    return Json::parse(future.get());
  };

  // Opened as a person would open a sent file, but over loopback HTTP (the crawler's Chrome refuses
  // file: URLs); the server sends no policy, so what holds is the file's own.
  testsupport::FixtureServer files(dir.path());
  const auto file = inspect_page(files.url("127.0.0.1", "/report.html"), artifacts / "report.png");
  INFO(file.dump(2));
  CHECK(file["scripts"] == 0);
  CHECK(file["resources"] == 0);
  CHECK(file["active"] == 0);
  CHECK(file["markupAsText"] == true);
  CHECK(file["bidi"] == false);
  CHECK(file["charts"] == 1);
  CHECK(file["threshold"] == 1);
  CHECK(file["over"] == over);
  CHECK(file["verdict"] == "cryptojacking");
  CHECK(file["added"].get<int>() >= 2);  // the page and the socket or the worker script
  CHECK(std::filesystem::file_size(artifacts / "report.png") > 10'000);
  CHECK_FALSE(std::filesystem::exists(report.string() + ".tmp"));

  // The page entry's proof, as JSON and as a page, from the server.
  Server server(db);
  Client api(server.port());
  REQUIRE(api.send(get_request("/api/entries?kind=page", "Connection: close\r\n")));
  const auto entries = Json::parse(body_of(api.response()));
  REQUIRE(entries["entries"].size() == 1);
  const auto id = entries["entries"][0]["id"].get<std::int64_t>();
  Client proof_client(server.port());
  REQUIRE(proof_client.send(get_request("/api/entries/" + std::to_string(id), "Connection: close\r\n")));
  const auto proof = Json::parse(body_of(proof_client.response()));
  CHECK(proof["active"] == true);
  CHECK(proof["visit_count"] == 1);
  REQUIRE(proof["visits"].size() == 1);
  CHECK(proof["visits"][0]["verdict"] == "cryptojacking");
  CHECK(proof["listings"][0]["source"] == "crawl");

  const auto entry_page = inspect_page(
      "http://127.0.0.1:" + std::to_string(server.port()) + "/entries/" + std::to_string(id), artifacts / "entry.png");
  INFO(entry_page.dump(2));
  CHECK(entry_page["scripts"] == 0);
  CHECK(entry_page["resources"] == 0);
  CHECK(entry_page["active"] == 0);
  CHECK(entry_page["bidi"] == false);
  CHECK(entry_page["charts"] == 1);
  CHECK(entry_page["over"] == over);
  CHECK(std::filesystem::file_size(artifacts / "entry.png") > 10'000);
}

TEST_CASE("serve: a port another program holds is a clear error in words", "[serve][cli]") {
  TempDir dir;
  const auto db = dir.path() / "feed.db";
  REQUIRE(
      testsupport::cjcrawl({"import", (testsupport::kBlocklists / "nocoin-hosts.txt").string(), "--db", db.string()})
          .exit_code == 0);
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(holder >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const auto port = std::to_string(ntohs(address.sin_port));
  const auto run = testsupport::cjcrawl({"serve", "--db", db.string(), "--listen", "127.0.0.1:" + port});
  ::close(holder);
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("cannot listen on 127.0.0.1:" + port + ": the port is in use by another program") !=
        std::string::npos);
  CHECK(run.err.find(".hpp") == std::string::npos);  // no library source locations
}
