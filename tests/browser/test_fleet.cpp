// tests/browser/test_fleet.cpp — a crawl fleet on one shared PostgreSQL (issue 14), end to end: the
// real binary, real sandboxed Chromium, fixture sites on loopback, and a throwaway PostgreSQL 15
// cluster the test starts on a loopback port (tests/support/pg_cluster.hpp). Three workers crawl one
// list exactly once and agree with a SQLite run; a worker killed mid-visit loses its site to another
// after the lease lapses; a database restart mid-crawl is waited out; a late record whose lease
// lapsed is refused by the fence; two `serve` replicas give the same bytes; bad input is a clear
// error. No output of any command ever holds the database password.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/pg_cluster.hpp"

namespace {

using Json = nlohmann::json;
using testsupport::PgCluster;
using testsupport::Process;
using testsupport::ProcessResult;
using testsupport::TempDir;

const std::string kResolverRules =
    "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
// The fixture sites live on loopback, which the egress guard keeps pages off unless opened.
const std::string kAllowLoopback = "--allow-network=127.0.0.1";

testsupport::FixtureServer& server() {
  static testsupport::FixtureServer instance(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

std::vector<std::string> worker(const std::string& db, const std::string& name, const std::filesystem::path& out,
                                std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{
      CJCRAWL_BINARY,    "crawl",       "--db",     db,   "--crawl",    name, "--out",         out.string(),
      "--sample-period", "200",         "--window", "10", "--deadline", "30", "--concurrency", "1",
      kResolverRules,    kAllowLoopback};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

std::vector<Json> parse_lines(const std::string& text) {
  std::vector<Json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(Json::parse(line, nullptr, false));
  return lines;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every output a test saw, to search for the password at the end.
struct Outputs {
  std::string all;
  void add(const ProcessResult& result) { all += result.out + "\n" + result.err + "\n"; }
  void add_file(const std::filesystem::path& path) { all += read_file(path) + "\n"; }
  void check_no_password() const {
    const auto at = all.find(PgCluster::kPassword);
    INFO((at == std::string::npos ? std::string() : all.substr(at < 300 ? 0 : at - 300, 400)));
    CHECK(at == std::string::npos);
  }
};

// A number from the database; -1 while it cannot answer (the schema not made yet, the server away).
std::int64_t count(const PgCluster& cluster, const std::string& database, const std::string& query) {
  try {
    const auto out = cluster.psql(query, database);
    return out.empty() ? 0 : std::stoll(out);
  } catch (const std::exception&) {
    return -1;
  }
}

// A list of `sites` distinct sites over the given pages (one host per site), and one bad line.
std::string fleet_list(const std::vector<std::string>& pages, int sites, std::map<int, std::string>& page_of_line) {
  std::string list;
  int line = 0;
  for (int i = 0; i < sites; ++i) {
    const auto& page = pages[static_cast<std::size_t>(i) % pages.size()];
    list += server().url("s" + std::to_string(i) + ".test", "/" + page) + "\n";
    page_of_line[++line] = page;
  }
  list += "javascript:alert(1)\n";
  return list;
}

// GET `path` from 127.0.0.1:port; the status line, the ETag and the body.
struct HttpAnswer {
  int status = 0;
  std::string etag;
  std::string body;
};
HttpAnswer http_get(int port, const std::string& path) {
  HttpAnswer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string text;
  char buffer[65536];
  for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) text.append(buffer, static_cast<size_t>(got));
  ::close(fd);
  const auto end = text.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  const std::string head = text.substr(0, end);
  answer.status = std::stoi(head.substr(9, 3));
  std::smatch match;
  if (std::regex_search(head, match, std::regex(R"(\r\nETag: ([^\r]*))", std::regex::icase))) answer.etag = match[1];
  answer.body = text.substr(end + 4);
  return answer;
}

int serve_port(Process& serve) {
  const std::regex address(R"(http://127\.0\.0\.1:(\d+)/)");
  for (int i = 0; i < 400; ++i) {
    std::smatch match;
    const auto out = serve.output_so_far();
    if (std::regex_search(out, match, address)) return std::stoi(match[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("serve did not print its address: " << serve.errors_so_far());
  return 0;
}

}  // namespace

TEST_CASE("fleet: three workers crawl one list on PostgreSQL and record every site exactly once as a SQLite run does",
          "[fleet][browser]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  const auto uri = cluster.uri(database);
  TempDir dir;
  Outputs outputs;
  // Pages whose verdict the pool protocol or its absence decides (not the CPU, which three Chromes on
  // two cores share), and one the CPU decides (its status is compared, not its verdict).
  const std::vector<std::string> decided{"worker-miner.html",
                                         "idle.html",
                                         "iframe-outer.html",
                                         "chat.html",
                                         "corpus/binary-pool-miner.html",
                                         "corpus/jobs-chat.html",
                                         "corpus/http-pool-miner.html"};
  std::vector<std::string> pages = decided;
  pages.push_back("busy-main.html");
  constexpr int kSites = 40;
  std::map<int, std::string> page_of_line;
  write_file(dir.path() / "list.txt", fleet_list(pages, kSites, page_of_line));
  const auto list = (dir.path() / "list.txt").string();

  // The first worker creates the crawl from the list; the second joins it with the same list; the
  // third joins by name alone once the crawl exists.
  Process first(worker(uri, "fleet", dir.path() / "w1.jsonl", {list}));
  for (int i = 0; i < 300 && first.errors_so_far().find("crawl fleet (id") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Process second(worker(uri, "fleet", dir.path() / "w2.jsonl", {list}));
  Process third(worker(uri, "fleet", dir.path() / "w3.jsonl"));
  for (auto* process : {&first, &second, &third}) {
    const auto result = process->wait(std::chrono::seconds(330));
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK_FALSE(result.timed_out);
    outputs.add(result);
  }

  // The database: every line once.
  CHECK(count(cluster, database, "SELECT count(*) FROM crawl_sites") == kSites + 1);
  CHECK(count(cluster, database, "SELECT count(DISTINCT position) FROM crawl_sites") == kSites + 1);
  CHECK(count(cluster, database, "SELECT count(*) FROM crawl_queue WHERE state <> 'done'") == 0);
  CHECK(count(cluster, database, "SELECT count(*) FROM crawls WHERE state = 'completed'") == 1);
  // The workers' own files: each site in exactly one of them (the skipped line in the creator's).
  std::multiset<int> written;
  int workers_with_sites = 0;
  for (const char* file : {"w1.jsonl", "w2.jsonl", "w3.jsonl"}) {
    outputs.add_file(dir.path() / file);
    const auto lines = parse_lines(read_file(dir.path() / file));
    workers_with_sites += lines.empty() ? 0 : 1;
    for (const auto& line : lines) written.insert(line["input_line"].get<int>());
  }
  CHECK(workers_with_sites >= 2);  // the work was shared
  for (int position = 1; position <= kSites; ++position) CHECK(written.count(position) == 1);

  // crawl-lines: the fleet's output as one file, in input order.
  const auto streamed = testsupport::cjcrawl({"crawl-lines", "fleet", "--db", uri});
  outputs.add(streamed);
  CHECK(streamed.exit_code == 0);
  const auto lines = parse_lines(streamed.out);
  REQUIRE(lines.size() == kSites + 1);
  std::map<int, Json> fleet;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["input_line"] == static_cast<int>(i) + 1);
    fleet[lines[i]["input_line"].get<int>()] = lines[i];
  }
  CHECK(fleet[kSites + 1]["status"] == "skipped");

  // The same list on SQLite, one machine.
  const auto reference =
      testsupport::run_process({CJCRAWL_BINARY, "crawl", list, "--db", (dir.path() / "ref.db").string(), "--out",
                                (dir.path() / "ref.jsonl").string(), "--sample-period", "200", "--window", "10",
                                "--deadline", "30", "--concurrency", "2", kResolverRules, kAllowLoopback},
                               std::chrono::seconds(330));
  INFO(reference.err);
  REQUIRE(reference.exit_code == 0);
  for (const auto& line : parse_lines(read_file(dir.path() / "ref.jsonl"))) {
    const int position = line["input_line"].get<int>();
    INFO("line " << position << ": " << page_of_line[position]);
    CHECK(fleet[position]["status"] == line["status"]);
    if (position <= kSites && std::find(decided.begin(), decided.end(), page_of_line[position]) != decided.end())
      CHECK(fleet[position]["verdict"] == line["verdict"]);
  }

  // Watching the fleet.
  const auto listing = testsupport::cjcrawl({"crawls", "--db", uri, "--json"});
  outputs.add(listing);
  REQUIRE(listing.exit_code == 0);
  const auto crawl = Json::parse(listing.out);
  CHECK(crawl["name"] == "fleet");
  CHECK(crawl["state"] == "completed");
  CHECK(crawl["queue"]["done"] == kSites);
  CHECK(crawl["queue"]["in_flight"] == 0);
  CHECK(crawl["eta_seconds"] == 0);
  outputs.check_no_password();
}

TEST_CASE("fleet: a worker killed mid-visit loses its site to another once the lease lapses and it is recorded once",
          "[fleet][browser]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  // The password from the environment, as an operator would give it (never on a command line).
  ::setenv("PGPASSWORD", PgCluster::kPassword, 1);
  const auto uri = cluster.uri_without_password(database);
  TempDir dir;
  Outputs outputs;
  std::string list;
  for (int i = 1; i <= 3; ++i) list += server().url("k" + std::to_string(i) + ".test", "/busy-main.html") + "\n";
  write_file(dir.path() / "list.txt", list);

  std::int64_t killed_position = 0;
  {
    Process doomed(
        worker(uri, "killed", dir.path() / "w1.jsonl", {(dir.path() / "list.txt").string(), "--lease", "6"}));
    for (int i = 0; i < 600 && killed_position == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      killed_position = std::max<std::int64_t>(
          0, count(cluster, database, "SELECT position FROM crawl_queue WHERE state = 'leased'"));
    }
    REQUIRE(killed_position != 0);
    doomed.signal(SIGKILL);
    outputs.add(doomed.wait(std::chrono::seconds(10)));
  }
  const auto rescuer = testsupport::run_process(worker(uri, "killed", dir.path() / "w2.jsonl", {"--lease", "6"}),
                                                std::chrono::seconds(240));
  INFO(rescuer.err);
  outputs.add(rescuer);
  CHECK(rescuer.exit_code == 0);
  CHECK(count(cluster, database, "SELECT count(*) FROM crawl_sites") == 3);
  CHECK(count(cluster, database, "SELECT count(DISTINCT position) FROM crawl_sites") == 3);
  const auto where = " WHERE position = " + std::to_string(killed_position);
  // Both attempts kept: the killed worker's closed as lapsed, the rescuer's recorded.
  CHECK(cluster.psql("SELECT attempt || ' ' || outcome FROM crawl_attempts" + where + " ORDER BY attempt", database) ==
        "1 lapsed\n2 recorded\n");
  CHECK(count(cluster, database, "SELECT attempt FROM crawl_sites" + where) == 2);
  const auto lines = parse_lines(read_file(dir.path() / "w2.jsonl"));
  for (const auto& line : lines)
    if (line["input_line"] == killed_position) CHECK(line["attempt"] == 2);
  ::unsetenv("PGPASSWORD");
  outputs.check_no_password();
}

TEST_CASE("fleet: PostgreSQL stopped and started again mid-crawl: the worker waits and goes on and loses nothing",
          "[fleet][browser]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  const auto uri = cluster.uri(database);
  TempDir dir;
  Outputs outputs;
  constexpr int kSites = 8;
  std::string list;
  for (int i = 1; i <= kSites; ++i) list += server().url("r" + std::to_string(i) + ".test", "/idle.html") + "\n";
  write_file(dir.path() / "list.txt", list);
  Process crawl(worker(uri, "restart", dir.path() / "out.jsonl", {(dir.path() / "list.txt").string()}));
  for (int i = 0; i < 600 && count(cluster, database, "SELECT count(*) FROM crawl_sites") < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cluster.stop("fast");
  std::this_thread::sleep_for(std::chrono::seconds(6));  // a visit or two finish while it is away
  cluster.start();
  const auto result = crawl.wait(std::chrono::seconds(240));
  INFO(result.err);
  outputs.add(result);
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("database unreachable, retrying") != std::string::npos);
  CHECK(count(cluster, database, "SELECT count(*) FROM crawl_sites") == kSites);
  CHECK(count(cluster, database, "SELECT count(DISTINCT position) FROM crawl_sites") == kSites);
  CHECK(count(cluster, database, "SELECT count(*) FROM visits") == kSites);
  const auto lines = parse_lines(read_file(dir.path() / "out.jsonl"));
  CHECK(lines.size() == kSites);
  outputs.check_no_password();
}

TEST_CASE("fleet: a record whose lease lapsed during a slow commit is refused by the fence", "[fleet][browser]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  const auto uri = cluster.uri(database);
  TempDir dir;
  Outputs outputs;
  write_file(dir.path() / "list.txt", server().url("slow.test", "/idle.html") + "\n");
  // The late worker: its record waits 15 s before its transaction (a test hook); its database thread
  // is busy meanwhile, so its lease (3 s) is not renewed and lapses.
  ::setenv("CJCRAWL_TEST_RECORD_DELAY_MS", "15000", 1);
  Process late(worker(uri, "fenced", dir.path() / "late.jsonl", {(dir.path() / "list.txt").string(), "--lease", "3"}));
  ::unsetenv("CJCRAWL_TEST_RECORD_DELAY_MS");
  for (int i = 0; i < 300 && count(cluster, database, "SELECT count(*) FROM crawl_queue WHERE state = 'leased'") <= 0;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto prompt = testsupport::run_process(worker(uri, "fenced", dir.path() / "prompt.jsonl", {"--lease", "3"}),
                                               std::chrono::seconds(120));
  INFO(prompt.err);
  outputs.add(prompt);
  CHECK(prompt.exit_code == 0);
  const auto late_result = late.wait(std::chrono::seconds(120));
  INFO(late_result.err);
  outputs.add(late_result);
  CHECK(late_result.exit_code == 0);
  CHECK(late_result.err.find("is no longer the site's current one") != std::string::npos);
  CHECK(count(cluster, database, "SELECT count(*) FROM crawl_sites") == 1);
  CHECK(count(cluster, database, "SELECT attempt FROM crawl_sites") == 2);
  CHECK(count(cluster, database, "SELECT count(*) FROM visits") == 1);  // the late visit left nothing
  CHECK(cluster.psql("SELECT attempt || ' ' || outcome FROM crawl_attempts ORDER BY attempt", database) ==
        "1 lapsed\n2 recorded\n");
  CHECK(parse_lines(read_file(dir.path() / "late.jsonl")).empty());
  CHECK(parse_lines(read_file(dir.path() / "prompt.jsonl")).size() == 1);
  outputs.check_no_password();
}

namespace {

// The parent of a process, from /proc (0 when it is gone).
pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  char state = 0;
  pid_t parent = 0;
  rest >> state >> parent;
  return parent;
}

// Kills every Chrome renderer `ancestor` started; how many.
int kill_renderers_of(pid_t ancestor) {
  int killed = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    std::ifstream cmdline(entry.path() / "cmdline");
    const std::string command((std::istreambuf_iterator<char>(cmdline)), {});
    if (command.find("--type=renderer") == std::string::npos) continue;
    pid_t up = pid;
    for (int depth = 0; depth < 12 && up > 1 && up != ancestor; ++depth) up = parent_of(up);
    if (up == ancestor && ::kill(pid, SIGKILL) == 0) ++killed;
  }
  return killed;
}

}  // namespace

TEST_CASE(
    "fleet: a site that crashes Chrome every time is recorded failed after --max-attempts and the crawl completes",
    "[fleet][browser]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  const auto uri = cluster.uri(database);
  TempDir dir;
  Outputs outputs;
  write_file(dir.path() / "list.txt", server().url("crash.test", "/hostile/hang-subresource.html") + "\n" +
                                          server().url("fine.test", "/idle.html") + "\n");
  Process crawl(worker(uri, "crashing", dir.path() / "out.jsonl",
                       {(dir.path() / "list.txt").string(), "--max-attempts", "2", "--retries", "0"}));
  // Every time the page asks for its never-ending subresource, its renderer is killed.
  auto hangs = server().stats().requests_for("/hang");
  int crashes = 0;
  for (int i = 0; i < 1200 && crawl.running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = server().stats().requests_for("/hang");
    if (now > hangs && kill_renderers_of(crawl.pid()) > 0) {
      hangs = now;
      ++crashes;
    }
  }
  const auto result = crawl.wait(std::chrono::seconds(60));
  INFO(result.err);
  outputs.add(result);
  CHECK(result.exit_code == 0);
  CHECK(crashes == 2);
  const auto lines = parse_lines(read_file(dir.path() / "out.jsonl"));
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    if (line["input_line"] == 1) {
      CHECK(line["status"] == "failed");
      CHECK(line["attempt"] == 3);
      CHECK_THAT(line["status_reason"].get<std::string>(),
                 Catch::Contains("2 attempt(s)") && Catch::Contains("Chrome crashed on every retry"));
    } else {
      CHECK(line["status"] == "ok");
    }
  }
  CHECK(cluster.psql("SELECT attempt || ' ' || outcome FROM crawl_attempts WHERE position = 1 ORDER BY attempt",
                     database) == "1 failed\n2 failed\n3 recorded\n");
  CHECK(count(cluster, database, "SELECT count(*) FROM crawls WHERE state = 'completed'") == 1);
  outputs.check_no_password();
}

TEST_CASE("fleet: two serve replicas on one PostgreSQL give the same ETag and bytes and both see an import and a check",
          "[fleet][serve][browser]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  const auto uri = cluster.uri(database);
  Outputs outputs;
  const auto imported =
      testsupport::cjcrawl({"import", (testsupport::kBlocklists / "nocoin-hosts.txt").string(), "--db", uri});
  outputs.add(imported);
  REQUIRE(imported.exit_code == 0);
  Process first({CJCRAWL_BINARY, "serve", "--db", uri, "--listen", "127.0.0.1:0"});
  Process second({CJCRAWL_BINARY, "serve", "--db", uri, "--listen", "127.0.0.1:0"});
  const int one = serve_port(first);
  const int two = serve_port(second);
  const auto a = http_get(one, "/feed/hosts");
  const auto b = http_get(two, "/feed/hosts");
  CHECK(a.status == 200);
  CHECK_FALSE(a.etag.empty());
  CHECK(a.etag == b.etag);
  CHECK(a.body == b.body);
  CHECK(a.body.find("0.0.0.0 ") != std::string::npos);

  TempDir dir;
  write_file(dir.path() / "more.txt", "0.0.0.0 fresh-pool.example\n");
  const auto more = testsupport::cjcrawl({"import", (dir.path() / "more.txt").string(), "--db", uri});
  outputs.add(more);
  REQUIRE(more.exit_code == 0);
  const auto c = http_get(one, "/feed/hosts");
  const auto d = http_get(two, "/feed/hosts");
  CHECK(c.etag != a.etag);
  CHECK(c.etag == d.etag);
  CHECK(c.body == d.body);
  CHECK(c.body.find("fresh-pool.example") != std::string::npos);

  // `check` on the shared database: its finding reaches both replicas at their next request.
  const auto checked = testsupport::run_process(
      {CJCRAWL_BINARY, "check", server().url("miner.test", "/worker-miner.html"), "--db", uri, "--sample-period", "200",
       "--window", "10", "--deadline", "30", kResolverRules, kAllowLoopback},
      std::chrono::seconds(90));
  outputs.add(checked);
  INFO(checked.err);
  CHECK(checked.exit_code == 3);  // cryptojacking
  CHECK(count(cluster, database, "SELECT count(*) FROM visits") == 1);
  const auto e = http_get(one, "/feed/jsonl");
  const auto f = http_get(two, "/feed/jsonl");
  CHECK(e.etag == f.etag);
  CHECK(e.body == f.body);
  CHECK(e.body.find("http://miner.test:") != std::string::npos);  // the page entry
  for (auto* serve : {&first, &second}) {
    serve->signal(SIGTERM);
    const auto result = serve->wait(std::chrono::seconds(10));
    CHECK(result.exit_code == 0);
    outputs.add(result);
  }
  outputs.check_no_password();
}

TEST_CASE("fleet: bad database input is a clear error naming what was wrong and never the password", "[fleet][cli]") {
  auto& cluster = PgCluster::shared();
  const auto database = cluster.create_database();
  TempDir dir;
  Outputs outputs;
  write_file(dir.path() / "a.txt", "http://a.test/\n");
  write_file(dir.path() / "b.txt", "http://b.test/\n");
  const auto run = [&](std::vector<std::string> args) {
    if (args.front() == CJCRAWL_BINARY) args.erase(args.begin());  // worker() names the binary itself
    auto result = testsupport::cjcrawl(std::move(args));
    outputs.add(result);
    return result;
  };

  // Nothing listens there.
  const int closed_port = cluster.port() + 1 == 65536 ? cluster.port() - 1 : cluster.port() + 1;
  const auto unreachable = run({"export", "--format", "hosts", "--db",
                                "postgresql://cjcrawl_test:" + std::string(PgCluster::kPassword) +
                                    "@127.0.0.1:" + std::to_string(closed_port) + "/" + database});
  CHECK(unreachable.exit_code == 1);
  CHECK_THAT(unreachable.err, Catch::Contains("cannot open the database postgresql://cjcrawl_test@127.0.0.1:" +
                                              std::to_string(closed_port)));
  CHECK_THAT(unreachable.err, Catch::Contains("database unreachable"));

  const auto malformed =
      run({"export", "--format", "hosts", "--db",
           "postgresql://cjcrawl_test:" + std::string(PgCluster::kPassword) + "@[127.0.0.1/" + database});
  CHECK(malformed.exit_code == 1);
  CHECK_THAT(malformed.err, Catch::Contains("cannot open the database postgresql://"));

  auto wrong = cluster.uri(database);
  wrong.replace(wrong.find(PgCluster::kPassword), std::string(PgCluster::kPassword).size(), "not-the-password");
  const auto refused = run({"export", "--format", "hosts", "--db", wrong});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("password authentication failed"));
  CHECK_THAT(refused.err, Catch::Contains("permission denied"));
  CHECK(refused.err.find("not-the-password") == std::string::npos);

  // A name holding another list.
  const auto uri = cluster.uri(database);
  REQUIRE(run({"import", (testsupport::kBlocklists / "nocoin-hosts.txt").string(), "--db", uri}).exit_code == 0);
  Process creator(worker(uri, "clash", dir.path() / "a.jsonl", {(dir.path() / "a.txt").string()}));
  for (int i = 0; i < 300 && creator.errors_so_far().find("crawl clash (id") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto clash = run(worker(uri, "clash", dir.path() / "b.jsonl", {(dir.path() / "b.txt").string()}));
  CHECK(clash.exit_code == 2);
  CHECK_THAT(clash.err, Catch::Contains("--crawl clash: that crawl was made from another list"));
  outputs.add(creator.wait(std::chrono::seconds(120)));

  // A name that does not exist, a shared crawl on SQLite, and a mistyped command echoing the URL.
  CHECK(run(worker(uri, "nobody-made-it", dir.path() / "c.jsonl")).exit_code == 2);
  const auto on_sqlite =
      run({"crawl", (dir.path() / "a.txt").string(), "--db", (dir.path() / "x.db").string(), "--crawl", "x"});
  CHECK(on_sqlite.exit_code == 2);
  CHECK_THAT(on_sqlite.err, Catch::Contains("needs a shared PostgreSQL database"));
  const auto typo = run({"crawls", "--db", uri, uri});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::Contains("postgresql://cjcrawl_test:***@127.0.0.1"));
  const auto keywords = run({"crawls", "--db", uri, "host=127.0.0.1 password=" + std::string(PgCluster::kPassword)});
  CHECK(keywords.exit_code == 2);
  CHECK_THAT(keywords.err, Catch::Contains("password=***"));
  outputs.check_no_password();
}
