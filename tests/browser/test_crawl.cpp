// tests/browser/test_crawl.cpp — `cjcrawl crawl` end to end: the real binary, real sandboxed
// Chromium, fixture sites on loopback. The list's handling (comments, duplicates, bad lines, bare
// hosts), the JSON lines and the database agreeing, the corpus judged the same at concurrency 1 and
// at the default, and kill -9 / Ctrl-C followed by --resume losing no site and recording none twice.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"

namespace {

using Json = nlohmann::json;
using testsupport::TempDir;

const std::string kResolverRules =
    "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
// The fixture sites live on loopback, which the egress guard keeps pages off unless opened.
const std::string kAllowLoopback = "--allow-network=127.0.0.1";

testsupport::FixtureServer& server() {
  static testsupport::FixtureServer instance(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

std::vector<std::string> crawl_command(const std::filesystem::path& list, const std::filesystem::path& db,
                                       const std::filesystem::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{CJCRAWL_BINARY, "crawl",           list.string(), "--db",     db.string(), "--out",
                                out.string(),   "--sample-period", "200",         "--window", "10",        "--deadline",
                                "30",           kResolverRules,    kAllowLoopback};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::vector<Json> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<Json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line, nullptr, false));
  return lines;
}

void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

int recorded_sites(const std::filesystem::path& db) {
  const auto out = testsupport::sql(db, "SELECT count(*) FROM crawl_sites");
  return out.empty() ? 0 : std::stoi(out);
}

}  // namespace

TEST_CASE("crawl: a list with comments, duplicates, a bad line and a bare host, lines and database agree",
          "[crawl][browser]") {
  TempDir dir;
  const auto idle = server().url("site.test", "/idle.html");
  const auto miner = server().url("site.test", "/worker-miner.html");
  const std::string bare_host = "site.test:" + std::to_string(server().port());  // https fails, then http
  write_file(dir.path() / "list.txt", "# sites to check\n" + idle + "\n\n" + miner + "  # the miner\n" + idle +
                                          "\njavascript:alert(1)\n" + bare_host + "\n");
  const auto run = testsupport::run_process(
      crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl", {"--concurrency", "2"}),
      std::chrono::seconds(180));
  INFO(run.err);
  CHECK(run.exit_code == 0);  // completed, whatever the verdicts
  CHECK(run.err.find("list.txt:6: skipped") != std::string::npos);
  CHECK(run.err.find("1 duplicate and 1 invalid") != std::string::npos);

  const auto lines = read_lines(dir.path() / "out.jsonl");
  REQUIRE(lines.size() == 4);  // three sites and the bad line, `skipped`
  std::map<int, Json> by_line;
  for (const auto& line : lines) {
    REQUIRE(line.is_object());
    CHECK(line["schema_version"] == 1);
    CHECK(line["crawl_id"] == 1);
    by_line[line["input_line"].get<int>()] = line;
  }
  REQUIRE(by_line.size() == 4);
  CHECK(by_line[6]["status"] == "skipped");
  CHECK(by_line[6]["input"] == "javascript:alert(1)");
  CHECK(by_line[6]["attempt"] == 0);  // never visited
  CHECK(by_line[6]["status_reason"].get<std::string>().find("unsupported scheme") != std::string::npos);
  CHECK(by_line[2]["verdict"] == "clean");
  CHECK(by_line[2]["attempt"] == 1);
  CHECK(by_line[4]["verdict"] == "cryptojacking");
  CHECK(by_line[7]["status"] == "http_error");  // the fixture server has no "/": its answer, a 404
  CHECK(by_line[7]["http_status"] == 404);
  CHECK(by_line[7]["attempt"] == 2);  // https refused, then http
  CHECK(by_line[7]["url"].get<std::string>().rfind("http://", 0) == 0);

  // The database holds the same sites, and `cjcrawl crawls` shows the crawl completed.
  CHECK(testsupport::sql(dir.path() / "c.db", "SELECT position, verdict FROM crawl_sites ORDER BY position") ==
        "2|clean\n4|cryptojacking\n6|clean\n7|clean\n");
  CHECK(testsupport::sql(dir.path() / "c.db", "SELECT status FROM crawl_sites WHERE visit_id IS NULL") == "skipped\n");
  CHECK(testsupport::sql(dir.path() / "c.db", "SELECT count(*) FROM visits") == "3\n");
  const auto listed = testsupport::cjcrawl({"crawls", "--db", (dir.path() / "c.db").string()});
  CHECK(listed.out.find("completed") != std::string::npos);
  CHECK(listed.out.find("4/4") != std::string::npos);

  // A resume has nothing left to do, and writes no line twice (the skipped one included).
  const auto again = testsupport::run_process(
      crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl", {"--resume"}),
      std::chrono::seconds(60));
  CHECK(again.exit_code == 0);
  CHECK(read_lines(dir.path() / "out.jsonl").size() == 4);

  // Usage errors are 2, before anything is launched.
  CHECK(testsupport::cjcrawl({"crawl", (dir.path() / "missing.txt").string(), "--db", (dir.path() / "c.db").string()})
            .exit_code == 2);
  CHECK(testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--shard", "2/2"}).exit_code == 2);
  CHECK(testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--concurrency", "0"}).exit_code == 2);
  CHECK(testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--concurrency", "65"}).exit_code == 2);
}

TEST_CASE("crawl: kill -9 mid-crawl, then --resume: every site exactly once, in the file and the database",
          "[crawl][browser]") {
  TempDir dir;
  std::string list;
  constexpr int kSites = 8;
  for (int i = 1; i <= kSites; ++i) list += server().url("site.test", "/idle.html?n=" + std::to_string(i)) + "\n";
  write_file(dir.path() / "list.txt", list);
  const auto db = dir.path() / "c.db";
  const auto out = dir.path() / "out.jsonl";
  {
    testsupport::Process crawl(crawl_command(dir.path() / "list.txt", db, out, {"--concurrency", "1"}));
    for (int i = 0; i < 600 && recorded_sites(db) < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    crawl.signal(SIGKILL);
    crawl.wait(std::chrono::seconds(10));
  }
  const int before = recorded_sites(db);
  REQUIRE(before >= 3);
  REQUIRE(before < kSites);
  // The worst moments of a kill: a site committed but its line not yet written, and a torn line.
  {
    auto lines = read_lines(out);
    REQUIRE(lines.size() >= 2);
    std::ofstream rewrite(out, std::ios::trunc);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) rewrite << lines[i].dump() << "\n";
    rewrite << R"({"schema_version":1,"input":"http://site.te)";  // no newline: torn
  }

  const auto resumed = testsupport::run_process(crawl_command(dir.path() / "list.txt", db, out, {"--resume"}),
                                                std::chrono::seconds(240));
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(resumed.err.find("already recorded") != std::string::npos);
  const auto lines = read_lines(out);
  std::multiset<int> positions;
  for (const auto& line : lines) {
    REQUIRE(line.is_object());  // the torn line is gone
    CHECK(line["crawl_id"] == 1);
    positions.insert(line["input_line"].get<int>());
  }
  CHECK(lines.size() == kSites);
  for (int position = 1; position <= kSites; ++position) CHECK(positions.count(position) == 1);
  CHECK(recorded_sites(db) == kSites);
  CHECK(testsupport::sql(db, "SELECT count(*) FROM visits") == std::to_string(kSites) + "\n");
  CHECK(testsupport::sql(db, "SELECT state FROM crawls") == "completed\n");
}

TEST_CASE("crawl: Ctrl-C finishes the visit in flight, records it, exits 130, --resume completes", "[crawl][browser]") {
  TempDir dir;
  std::string list;
  constexpr int kSites = 5;
  for (int i = 1; i <= kSites; ++i) list += server().url("site.test", "/idle.html?c=" + std::to_string(i)) + "\n";
  write_file(dir.path() / "list.txt", list);
  const auto db = dir.path() / "c.db";
  const auto out = dir.path() / "out.jsonl";
  {
    testsupport::Process crawl(crawl_command(dir.path() / "list.txt", db, out, {"--concurrency", "1"}));
    for (int i = 0; i < 600 && recorded_sites(db) < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    crawl.signal(SIGINT);
    const auto result = crawl.wait(std::chrono::seconds(60));
    INFO(result.err);
    CHECK(result.exit_code == 130);
    CHECK(result.err.find("--resume") != std::string::npos);
  }
  CHECK(testsupport::sql(db, "SELECT state FROM crawls") == "interrupted\n");
  const int before = recorded_sites(db);
  CHECK(static_cast<int>(read_lines(out).size()) == before);  // every recorded site has its line
  const auto resumed = testsupport::run_process(crawl_command(dir.path() / "list.txt", db, out, {"--resume"}),
                                                std::chrono::seconds(180));
  CHECK(resumed.exit_code == 0);
  CHECK(read_lines(out).size() == kSites);
  CHECK(recorded_sites(db) == kSites);
}

TEST_CASE("crawl: the corpus gets the same verdicts at concurrency 1 and at the default", "[crawl][browser][corpus]") {
  TempDir dir;
  std::ifstream expected_file(std::filesystem::path(CJCRAWL_FIXTURES) / "sites/corpus/expected.tsv");
  std::string list;
  std::map<int, std::pair<std::string, std::string>> expected;  // input line → (page, verdict)
  int line_number = 0;
  for (std::string row; std::getline(expected_file, row);) {
    if (row.empty() || row[0] == '#') continue;
    const auto tab = row.find('\t');
    list += server().url("site.test", "/" + row.substr(0, tab)) + "\n";
    expected[++line_number] = {row.substr(0, tab), row.substr(tab + 1)};
  }
  write_file(dir.path() / "corpus.txt", list);
  std::map<std::string, std::map<int, std::string>> verdicts;  // run → input line → verdict
  std::map<std::string, std::map<int, std::string>> lines;     // run → input line → its JSON line, for a miss
  for (const std::string concurrency : {"1", "default"}) {
    // As the corpus test samples: 250 ms × 20, a fresh database per run.
    std::vector<std::string> argv{CJCRAWL_BINARY,
                                  "crawl",
                                  (dir.path() / "corpus.txt").string(),
                                  "--db",
                                  (dir.path() / (concurrency + ".db")).string(),
                                  "--out",
                                  (dir.path() / (concurrency + ".jsonl")).string(),
                                  "--sample-period",
                                  "250",
                                  "--window",
                                  "20",
                                  "--deadline",
                                  "30",
                                  kResolverRules,
                                  kAllowLoopback};
    if (concurrency != "default") argv.insert(argv.end(), {"--concurrency", concurrency});
    const auto run = testsupport::run_process(argv, std::chrono::seconds(400));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    for (const auto& line : read_lines(dir.path() / (concurrency + ".jsonl"))) {
      verdicts[concurrency][line["input_line"].get<int>()] = line["verdict"];
      lines[concurrency][line["input_line"].get<int>()] = line.dump().substr(0, 6000);
    }
  }
  REQUIRE(verdicts["1"].size() == expected.size());
  REQUIRE(verdicts["default"].size() == expected.size());
  for (const auto& [line, row] : expected) {
    INFO(row.first);
    INFO("concurrency 1: " << lines["1"][line]);
    INFO("default: " << lines["default"][line]);
    CHECK(verdicts["1"][line] == row.second);
    CHECK(verdicts["default"][line] == verdicts["1"][line]);
  }
}

TEST_CASE("crawl: a list on standard input, lines on standard output, and a resume that prints only new sites",
          "[crawl][browser]") {
  TempDir dir;
  const auto first = server().url("site.test", "/idle.html?s=1");
  const auto second = server().url("site.test", "/idle.html?s=2");
  write_file(dir.path() / "one.txt", first + "\n");
  write_file(dir.path() / "two.txt", first + "\n" + second + "\n");
  const auto db = (dir.path() / "c.db").string();
  auto crawl_stdin = [&](const std::string& list, const std::string& extra) {
    const std::string command = std::string(CJCRAWL_BINARY) + " crawl - --db '" + db +
                                "' --sample-period 200 --window 10 '" + kResolverRules + "' " + kAllowLoopback + " " +
                                extra + " < '" + (dir.path() / list).string() + "'";
    return testsupport::run_process({"/bin/sh", "-c", command}, std::chrono::seconds(120));
  };
  const auto run = crawl_stdin("one.txt", "");
  INFO(run.err);
  CHECK(run.exit_code == 0);
  std::istringstream lines(run.out);
  std::string text;
  int count = 0;
  while (std::getline(lines, text)) count += Json::parse(text)["input_line"] == 1;
  CHECK(count == 1);
  // The same content again with --resume: the crawl is found (path "-" and the content's hash) and
  // has nothing left to visit, so stdout stays empty.
  const auto again = crawl_stdin("one.txt", "--resume");
  CHECK(again.exit_code == 0);
  CHECK(again.out.empty());
  CHECK(again.err.find("1 already recorded, 0 to visit") != std::string::npos);
  // Other content is another crawl.
  const auto other = crawl_stdin("two.txt", "--resume");
  CHECK(other.exit_code == 0);
  CHECK(other.err.find("starting a new one") != std::string::npos);
  CHECK(testsupport::sql(dir.path() / "c.db", "SELECT count(*) FROM crawls") == "2\n");
}

namespace {

// The scripts a visit saw, by URL path (the server's host and port stripped).
std::set<std::string> script_paths(const Json& line) {
  std::set<std::string> out;
  for (const auto& script : line["scripts"]) {
    const auto url = script.value("url", std::string());
    const auto path = url.find('/', url.find("//") == std::string::npos ? 0 : url.find("//") + 2);
    if (path != std::string::npos) out.insert(url.substr(path));
  }
  return out;
}

bool contains_prefix(const std::set<std::string>& paths, const std::string& prefix) {
  return std::any_of(paths.begin(), paths.end(), [&](const std::string& path) { return path.starts_with(prefix); });
}

// The Chrome browser processes a cjcrawl process runs (its direct children running chromium).
std::vector<pid_t> browsers_of(pid_t cjcrawl) {
  std::vector<pid_t> out;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    std::ifstream stat(it->path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 1));
    char state = 0;
    pid_t parent = 0;
    fields >> state >> parent;
    if (parent != cjcrawl || state == 'Z') continue;
    std::ifstream cmdline(it->path() / "cmdline");
    std::string command((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (command.find("chromium") != std::string::npos && command.find("--type=") == std::string::npos)
      out.push_back(std::stoi(it->path().filename().string()));
  }
  return out;
}

}  // namespace

TEST_CASE("crawl: one browser serves the sites of a slot, each in a fresh context where nothing carries over",
          "[crawl][browser]") {
  // isolation.html looks for a cookie, localStorage, IndexedDB and a service worker an earlier visit
  // left, loading carried-over.js if it finds any; it then leaves all four and, reloaded within the
  // same visit, loads state-seen.js when it finds them (the control: the state really was written).
  // Same origin both times (127.0.0.1: a secure context, so the service worker registers).
  TempDir dir;
  const std::string page = "http://127.0.0.1:" + std::to_string(server().port()) + "/isolation.html";
  write_file(dir.path() / "list.txt",
             page + "?first\n" + page + "?second\n" + server().url("site.test", "/idle.html") + "\n");
  const auto run = testsupport::run_process(
      crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl", {"--concurrency", "1"}),
      std::chrono::seconds(120));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.find("browsers: 1 launched; replaced: none") != std::string::npos);
  const auto lines = read_lines(dir.path() / "out.jsonl");
  REQUIRE(lines.size() == 3);
  for (int i = 0; i < 2; ++i) {
    INFO(lines[i].dump());
    const auto paths = script_paths(lines[i]);
    CHECK(lines[i]["status"] == "ok");
    CHECK(paths.contains("/state-seen.js"));               // the state was there within the visit
    CHECK_FALSE(contains_prefix(paths, "/carried-over"));  // and not in the next site's visit
    CHECK(paths.contains("/isolation-sw.js"));             // the service worker ran, and was watched
  }
}

TEST_CASE("crawl: browsers are replaced every --recycle-after sites and over --memory-cap", "[crawl][browser]") {
  TempDir dir;
  std::string list;
  for (int i = 1; i <= 5; ++i) list += server().url("site.test", "/idle.html?n=" + std::to_string(i)) + "\n";
  write_file(dir.path() / "list.txt", list);
  SECTION("every 2 sites") {
    const auto run =
        testsupport::run_process(crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl",
                                               {"--concurrency", "1", "--recycle-after", "2"}),
                                 std::chrono::seconds(120));
    INFO(run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.err.find("browsers: 3 launched; replaced: sites 2") != std::string::npos);
    CHECK(read_lines(dir.path() / "out.jsonl").size() == 5);
  }
  SECTION("a cap below any Chrome's PSS replaces the browser after every site") {
    const auto run =
        testsupport::run_process(crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl",
                                               {"--concurrency", "1", "--memory-cap", "64"}),
                                 std::chrono::seconds(120));
    INFO(run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.err.find("browsers: 5 launched; replaced: memory 4") !=
          std::string::npos);  // the last is closed, not replaced
    CHECK(read_lines(dir.path() / "out.jsonl").size() == 5);
  }
  SECTION("bad values are usage errors") {
    CHECK(testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--recycle-after", "0"}).exit_code == 2);
    CHECK(testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--memory-cap", "10"}).exit_code == 2);
  }
}

TEST_CASE(
    "crawl: a browser killed mid-visit restarts the slot, the site is retried in a fresh one, and the crawl goes on",
    "[crawl][browser]") {
  TempDir dir;
  const auto hang_page = server().url("site.test", "/hostile/hang-subresource.html");
  write_file(dir.path() / "list.txt", server().url("site.test", "/idle.html?n=1") + "\n" + hang_page + "\n" +
                                          server().url("site.test", "/idle.html?n=2") + "\n");
  const auto hangs_before = server().stats().requests_for("/hang");
  testsupport::Process crawl(
      crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl", {"--concurrency", "1"}));
  std::vector<pid_t> killed;
  for (int i = 0; i < 600 && crawl.running() && killed.empty(); ++i) {
    if (server().stats().requests_for("/hang") > hangs_before)
      for (const pid_t browser : browsers_of(crawl.pid()))
        if (::kill(browser, SIGKILL) == 0) killed.push_back(browser);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto run = crawl.wait(std::chrono::seconds(120));
  INFO(run.err);
  REQUIRE(killed.size() == 1);
  CHECK(run.exit_code == 0);
  CHECK(run.err.find("browsers: 2 launched; replaced: connection lost 1") != std::string::npos);
  std::map<int, Json> by_line;
  for (const auto& line : read_lines(dir.path() / "out.jsonl")) by_line[line["input_line"].get<int>()] = line;
  REQUIRE(by_line.size() == 3);
  CHECK(by_line[2]["attempt"] == 2);  // the crash, then the retry in a fresh browser
  CHECK(by_line[2]["status"] == "ok");
  CHECK(by_line[3]["status"] == "ok");
  CHECK(by_line[3]["attempt"] == 1);
}

namespace {

// The record of the script whose URL ends with `path`, or null.
const Json* script_ending(const Json& line, const std::string& path) {
  for (const auto& script : line["scripts"])
    if (script.value("url", std::string()).ends_with(path)) return &script;
  return nullptr;
}

// The signals a verdict rests on, in order (their details name each site's own host).
std::vector<std::string> signals(const Json& line) {
  std::vector<std::string> out;
  for (const auto& reason : line["reasons"]) out.push_back(reason.value("signal", std::string()));
  return out;
}

}  // namespace

TEST_CASE("crawl: a script scanned on an earlier site is not read again, and brings the same findings",
          "[crawl][browser]") {
  // The same miner worker on two sites (different hosts, so nothing but its content is shared):
  // the second visit copies the first's keyword findings, by content hash, and reaches the same
  // verdict. With --script-cache 0 both visits read it.
  TempDir dir;
  write_file(dir.path() / "list.txt", server().url("site.test", "/worker-miner.html") + "\n" +
                                          server().url("other.test", "/worker-miner.html?again") + "\n");
  for (const bool cached : {true, false}) {
    std::vector<std::string> extra{"--concurrency", "1"};
    if (!cached) extra.insert(extra.end(), {"--script-cache", "0"});
    const auto out = dir.path() / (cached ? "on.jsonl" : "off.jsonl");
    const auto run = testsupport::run_process(
        crawl_command(dir.path() / "list.txt", dir.path() / (cached ? "on.db" : "off.db"), out, extra),
        std::chrono::seconds(120));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    const auto lines = read_lines(out);
    REQUIRE(lines.size() == 2);
    const Json* first = script_ending(lines[0], "/worker-miner.js");
    const Json* second = script_ending(lines[1], "/worker-miner.js");
    REQUIRE(first);
    REQUIRE(second);
    INFO(first->dump() << "\n" << second->dump());
    CHECK((*first)["source"] == "fetched");
    REQUIRE(first->contains("keywords"));
    CHECK((*first)["keywords"]["hits"].size() >= 1);
    CHECK((*second)["source"] == (cached ? "cached" : "fetched"));
    CHECK((*second)["sha256"] == (*first)["sha256"]);
    CHECK((*second)["keywords"] == (*first)["keywords"]);
    CHECK(lines[0]["verdict"] == "cryptojacking");
    CHECK(lines[1]["verdict"] == lines[0]["verdict"]);
    CHECK(signals(lines[1]) == signals(lines[0]));
    CHECK((run.err.find("MB; 0 script(s) not read again") == std::string::npos) == cached);
  }
}

TEST_CASE("crawl: URLs that answer with no page (downloads, 204) are ok and clean, visited once, never retried",
          "[crawl][browser]") {
  // A download is not a connection error: retrying it wastes a visit, and counting it against the
  // slot's failure budget would stop a crawl of a URL feed full of links to executables. An HTML
  // attachment is a download too, though its type says page; its script never runs.
  TempDir dir;
  const std::vector<std::string> paths{"/download", "/download-html", "/no-content"};
  std::map<std::string, std::uint64_t> before;
  std::string list;
  for (const auto& path : paths) {
    before[path] = server().stats().requests_for(path);
    list += server().url("site.test", path) + "\n";
  }
  write_file(dir.path() / "list.txt", list);
  const auto run =
      testsupport::run_process(crawl_command(dir.path() / "list.txt", dir.path() / "c.db", dir.path() / "out.jsonl",
                                             {"--concurrency", "1", "--retries", "1", "--failure-budget", "1"}),
                               std::chrono::seconds(120));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto lines = read_lines(dir.path() / "out.jsonl");
  REQUIRE(lines.size() == paths.size());
  const std::map<std::string, std::string> reasons{
      {"/download", "not a page: HTTP 200 application/octet-stream was not rendered (a download)"},
      {"/download-html", "not a page: HTTP 200 text/html was not rendered (a download)"},
      {"/no-content", "not a page: HTTP 204 "}};
  for (const auto& line : lines) {
    INFO(line.dump());
    const auto url = line.value("url", std::string());
    const auto path = url.substr(url.find('/', url.find("//") + 2));
    REQUIRE(reasons.contains(path));
    CHECK(line["status"] == "ok");
    CHECK(line["status_reason"].get<std::string>().starts_with(reasons.at(path)));
    CHECK(line["verdict"] == "clean");
    CHECK(line["attempt"] == 1);
    CHECK(line["cpu_samples"].empty());
    CHECK(server().stats().requests_for(path) == before[path] + 1);
  }
}

TEST_CASE("crawl: a database another process holds locked does not delay another slot's CPU samples",
          "[crawl][browser]") {
  // Two slots: an idle page that settles at once, and a page whose worker keeps a chat socket, which
  // is sampled every 200 ms until its deadline. Once the visits have started, this test takes the
  // database's write lock (another process, as an import would), waits until the idle page's visit
  // has settled (its commit now waits on the lock), and holds the lock 3 s more. The other slot's
  // samples must go on at their period meanwhile: the commit waits on the database's own thread.
  TempDir dir;
  const auto idle = server().url("site.test", "/idle.html?locked");
  const auto watched = server().url("site.test", "/worker-chat.html?locked");
  write_file(dir.path() / "list.txt", idle + "\n" + watched + "\n");
  const auto db = dir.path() / "c.db";
  const auto idle_requests = server().stats().requests_for("/idle.html");
  const auto chats_before = server().stats().echo_connections;
  testsupport::Process crawl(
      crawl_command(dir.path() / "list.txt", db, dir.path() / "out.jsonl", {"--concurrency", "2", "-v"}));
  const auto wait_for = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 3000 && crawl.running(); ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  };
  // The visits have begun (the crawl's own writes before them are done): take the lock.
  INFO("the crawl's log so far: " << crawl.errors_so_far());
  REQUIRE(wait_for([&] { return server().stats().requests_for("/idle.html") > idle_requests; }));
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  // The idle page has settled (its commit waits on the lock from now on) and the other page's worker
  // has its socket (that page has loaded, so its sampling has begun or is about to): hold the lock
  // 3 s more.
  REQUIRE(wait_for([&] {
    return crawl.errors_so_far().find("visit settled") != std::string::npos &&
           server().stats().echo_connections > chats_before;
  }));
  const auto waiting_since = wall_ms();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const auto released_at = wall_ms();
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);

  const auto run = crawl.wait(std::chrono::seconds(120));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto lines = read_lines(dir.path() / "out.jsonl");
  REQUIRE(lines.size() == 2);
  const auto sampled =
      std::find_if(lines.begin(), lines.end(), [&](const Json& line) { return line["input"] == watched; });
  REQUIRE(sampled != lines.end());
  const auto& samples = (*sampled)["cpu_samples"];
  REQUIRE(samples.size() >= 2);
  // The watched page was sampled (wall clock) for at least 2 s of the time the commit waited: a
  // commit on the loop would have stopped its sampling for all of that overlap.
  const auto ended_at = (*sampled)["started_at_ms"].get<std::int64_t>() + (*sampled)["elapsed_ms"].get<std::int64_t>();
  const auto sampling_from = ended_at - samples.back()["t_ms"].get<std::int64_t>();
  const auto overlap = std::min(ended_at, released_at) - std::max(sampling_from, waiting_since);
  INFO("sampled from " << sampling_from << " to " << ended_at << ", the commit waited from " << waiting_since << " to "
                       << released_at << " (ms since 1970)");
  REQUIRE(overlap >= 2'000);
  double longest_gap = 0;
  for (std::size_t i = 1; i < samples.size(); ++i)
    longest_gap = std::max(longest_gap, samples[i]["t_ms"].get<double>() - samples[i - 1]["t_ms"].get<double>());
  INFO("longest gap between the watched page's samples: " << longest_gap << " ms");
  CHECK(longest_gap < 1'500);  // every 200 ms, and never held up by the other slot's commit
}
