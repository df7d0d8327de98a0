// tests/browser/test_hostile.cpp — hostile pages against the real `cjcrawl check --json`: each must get a
// status and a verdict within its site deadline (plus teardown), with cjcrawl's own peak memory
// bounded, drops counted where a limit was hit, and no Chrome process or profile left behind.
//
// The pages are under tests/fixtures/sites/hostile/ (each states its expected outcome) and the routes
// that need server logic (/hang, /redirect-loop, /ws/flood, /generated/big-script.js, /download) are
// in the test's own loopback FixtureServer. Fixture hosts (*.test) resolve to 127.0.0.1; every other
// name fails to resolve, so nothing leaves the machine.
//
// cjcrawl's peak RSS is its VmHWM from /proc/PID/status, polled while it runs: wait4()'s ru_maxrss
// would also cover the Chrome browser process, which cjcrawl reaps (measured ~200–390 MB).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cdp/chrome_process.hpp"
#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testsupport::FixtureServer;
using testsupport::TempDir;

const std::string kResolverRules =
    "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
// The fixture sites live on loopback, which the egress guard keeps pages off unless opened.
const std::string kAllowLoopback = "--allow-network=127.0.0.1";

// cjcrawl's own memory: measured ~18 MB on every page here. The bound is far above that, yet below
// what holding one hostile payload whole would take (the 50 MB script, or a sixth of the flood).
constexpr long kPeakRssBoundKb = 64 * 1024;
// Teardown after the site deadline: Browser.close, reaping Chrome, removing the profile, writing the
// database. Normally well under a second; each of its waits is bounded by about 2 s.
constexpr milliseconds kTeardownMargin{5'000};
// Hard stop for a run that hangs (a bug): far past any deadline used here.
constexpr milliseconds kRunTimeout{60'000};
constexpr milliseconds kMemoryPoll{20};
constexpr milliseconds kProcessPoll{100};
// crawler::VisitLimits defaults the hostile pages run into.
constexpr std::uint64_t kInstrumentedTargetCap = 64;  // max_targets
constexpr std::uint64_t kTargetRecordCap = 256;       // kMaxTargetRecords in crawler/visit.cpp
constexpr std::uint64_t kStoredFramesPerSocket = 20;  // max_frames_per_socket

FixtureServer& server() {
  static FixtureServer instance(fs::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

// ---- processes -------------------------------------------------------------------------------------

struct ProcessEntry {
  pid_t pid = 0;
  pid_t parent = 0;
  pid_t group = 0;
  char state = '?';
  unsigned long long start_ticks = 0;  // with pid, identifies the process across pid reuse
  std::string cmdline;                 // NULs as spaces; empty for zombies
};

// A /proc file, or "" when the process ended meanwhile (reading a vanished process's file fails with
// ESRCH, which libstdc++'s stream buffer throws as std::ios_base::failure).
std::string read_text(const fs::path& path) {
  try {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return {};
  }
}

std::optional<ProcessEntry> read_process(pid_t pid) {
  const fs::path dir = fs::path("/proc") / std::to_string(pid);
  const std::string stat = read_text(dir / "stat");
  // "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses, so parse after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  ProcessEntry entry;
  entry.pid = pid;
  fields >> entry.state >> entry.parent >> entry.group;
  std::string skipped;
  for (int field = 6; field < 22; ++field) fields >> skipped;  // session .. nice, num_threads, itrealvalue
  fields >> entry.start_ticks;
  if (!fields) return std::nullopt;
  entry.cmdline = read_text(dir / "cmdline");
  std::replace(entry.cmdline.begin(), entry.cmdline.end(), '\0', ' ');
  return entry;
}

std::vector<ProcessEntry> all_processes() {
  std::vector<ProcessEntry> out;
  std::error_code error;
  for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (auto entry = read_process(static_cast<pid_t>(std::stol(name)))) out.push_back(std::move(*entry));
  }
  return out;
}

// Everything `root` started: its descendants, plus any process in one of their process groups (Chrome
// is its own group leader; a helper whose parent died is reparented but keeps the group).
std::vector<ProcessEntry> started_by(pid_t root) {
  const auto processes = all_processes();
  std::multimap<pid_t, const ProcessEntry*> children;
  for (const auto& process : processes) children.emplace(process.parent, &process);
  std::set<pid_t> found;
  std::vector<pid_t> frontier{root};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    auto [from, to] = children.equal_range(parent);
    for (auto it = from; it != to; ++it)
      if (found.insert(it->second->pid).second) frontier.push_back(it->second->pid);
  }
  std::set<pid_t> groups;
  for (const auto& process : processes)
    if (found.contains(process.pid) && process.group != ::getpgrp()) groups.insert(process.group);
  std::vector<ProcessEntry> out;
  for (const auto& process : processes)
    if (found.contains(process.pid) || groups.contains(process.group)) out.push_back(process);
  return out;
}

bool is_renderer(const ProcessEntry& process) { return process.cmdline.find("--type=renderer") != std::string::npos; }

long vm_hwm_kb(pid_t pid) {
  std::ifstream status(fs::path("/proc") / std::to_string(pid) / "status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  return 0;
}

std::vector<fs::path> profiles_of(pid_t owner) {
  std::vector<fs::path> out;
  const std::string prefix = "cjcrawl-profile-" + std::to_string(owner) + "-";
  std::error_code error;
  for (fs::directory_iterator it(cdp::profile_root(), error), end; !error && it != end; it.increment(error))
    if (it->path().filename().string().starts_with(prefix)) out.push_back(it->path());
  return out;
}

// ---- one run -----------------------------------------------------------------------------------------

struct Settings {
  int deadline_seconds = 15;
  std::optional<int> load_timeout_seconds;
  int sample_period_ms = 200;
  int window = 10;
};

struct HostileRun {
  testsupport::ProcessResult process;
  Json report;
  milliseconds took{0};
  long peak_rss_kb = 0;
  std::set<std::string> chrome_types;    // --type= of every process seen ("browser" when it has none)
  std::vector<std::string> left_behind;  // processes or profiles still there after cjcrawl exited
};

// Called every kProcessPoll with what cjcrawl has started so far (Chrome and its helpers).
using Watcher = std::function<void(pid_t cjcrawl, const std::vector<ProcessEntry>& started)>;

std::string chrome_type(const ProcessEntry& process) {
  const auto at = process.cmdline.find("--type=");
  if (at == std::string::npos) return "browser";
  return process.cmdline.substr(at + 7, process.cmdline.find(' ', at) - at - 7);
}

HostileRun run_check(const std::string& url, const fs::path& db, const Settings& settings,
                     const Watcher& watch = nullptr) {
  std::vector<std::string> command{CJCRAWL_BINARY,
                                   "check",
                                   url,
                                   "--json",
                                   "--db",
                                   db.string(),
                                   "--deadline",
                                   std::to_string(settings.deadline_seconds),
                                   "--sample-period",
                                   std::to_string(settings.sample_period_ms),
                                   "--window",
                                   std::to_string(settings.window),
                                   kResolverRules,
                                   kAllowLoopback};
  if (settings.load_timeout_seconds) {
    command.push_back("--load-timeout");
    command.push_back(std::to_string(*settings.load_timeout_seconds));
  }

  HostileRun run;
  std::map<pid_t, ProcessEntry> seen;  // every process cjcrawl started, as first seen
  const auto started = Clock::now();
  testsupport::Process process(command);
  auto next_process_poll = started;
  while (process.running() && Clock::now() - started < kRunTimeout) {
    run.peak_rss_kb = std::max(run.peak_rss_kb, vm_hwm_kb(process.pid()));
    if (Clock::now() >= next_process_poll) {
      const auto tree = started_by(process.pid());
      for (const auto& entry : tree) {
        if (entry.cmdline.empty()) continue;  // a zombie, or gone while reading
        if (seen.emplace(entry.pid, entry).second) run.chrome_types.insert(chrome_type(entry));
      }
      if (watch) watch(process.pid(), tree);
      next_process_poll = Clock::now() + kProcessPoll;
    }
    std::this_thread::sleep_for(kMemoryPoll);
  }
  run.process = process.wait(milliseconds(0));  // kills it if kRunTimeout passed
  run.took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  if (!run.process.out.empty()) run.report = Json::parse(run.process.out, nullptr, false);

  // Nothing cjcrawl started may outlive it (a reaped group can take a moment to vanish).
  const auto settle_until = Clock::now() + std::chrono::seconds(3);
  for (;;) {
    run.left_behind.clear();
    for (const auto& [pid, first] : seen) {
      const auto now = read_process(pid);
      if (now && now->start_ticks == first.start_ticks && now->state != 'Z')
        run.left_behind.push_back(std::to_string(pid) + ": " + first.cmdline.substr(0, 160));
    }
    for (const auto& profile : profiles_of(process.pid())) run.left_behind.push_back("profile " + profile.string());
    if (run.left_behind.empty() || Clock::now() >= settle_until) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return run;
}

std::uint64_t counter(const Json& report, const std::string& name) {
  return report.value("counters", Json::object()).value(name, std::uint64_t{0});
}

bool has_reason(const Json& report, const std::string& signal) {
  for (const auto& reason : report.value("reasons", Json::array()))
    if (reason.value("signal", "") == signal) return true;
  return false;
}

// What every hostile case must hold, whatever the page did.
void check_bounded(const HostileRun& run, const Settings& settings, const fs::path& db) {
  INFO("stdout: " << run.process.out.substr(0, 4000));
  INFO("stderr: " << run.process.err.substr(0, 4000));
  REQUIRE_FALSE(run.process.timed_out);
  REQUIRE(run.report.is_object());
  // Within the site deadline plus teardown, by the wall clock and by cjcrawl's own account.
  const milliseconds bound = std::chrono::seconds(settings.deadline_seconds) + kTeardownMargin;
  CHECK(run.took < bound);
  CHECK(run.report.at("elapsed_ms").get<std::int64_t>() < bound.count());
  CHECK(run.peak_rss_kb > 0);  // it was measured at all
  CHECK(run.peak_rss_kb < kPeakRssBoundKb);
  // A real Chrome ran, and the watch saw it: the browser process and at least one renderer.
  CHECK(run.chrome_types.contains("browser"));
  CHECK(run.chrome_types.contains("renderer"));
  INFO("left behind: " << Json(run.left_behind).dump());
  CHECK(run.left_behind.empty());
  // The database holds the same visit, counters included.
  const std::string stored = testsupport::sql(
      db, "SELECT status || '|' || verdict || '|' || json_extract(evidence_json, '$.counters') FROM visits");
  const std::string status = run.report.at("status").get<std::string>();
  const std::string verdict = run.report.at("verdict").get<std::string>();
  const std::string counters = run.report.at("counters").dump();
  CHECK(stored == status + "|" + verdict + "|" + counters + "\n");
  // One line per case for the record: the measured figures.
  WARN("measured: " << run.report.at("input").get<std::string>() << " status=" << status << " verdict=" << verdict
                    << " wall=" << run.took.count() << "ms peak_rss=" << run.peak_rss_kb << "kB counters=" << counters);
}

}  // namespace

TEST_CASE("hostile: a load that never finishes is sampled anyway, ok and clean", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  settings.load_timeout_seconds = 2;
  const auto hangs_before = server().stats().requests_for("/hang");
  auto run = run_check(server().url("site.test", "/hostile/hang-subresource.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  CHECK(server().stats().requests_for("/hang") > hangs_before);  // the subresource really hung
  CHECK(counter(run.report, "load_timeout") == 1);
  CHECK(run.report["cpu_samples"].size() >= 1);
}

TEST_CASE("hostile: alert/confirm/prompt in an endless loop are all dismissed", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  settings.load_timeout_seconds = 2;  // the loop starts while parsing: no load event ever
  auto run = run_check(server().url("site.test", "/hostile/dialogs.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  // Dialogs kept coming and kept being answered (~100 a second here), not stuck on the first.
  CHECK(counter(run.report, "dialogs_dismissed") >= 20);
  CHECK(counter(run.report, "load_timeout") == 1);
}

TEST_CASE("hostile: a beforeunload trap with spinning unload handlers does not hold the visit", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  auto run = run_check(server().url("site.test", "/hostile/beforeunload.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  CHECK(run.report["final_url"] == server().url("site.test", "/hostile/beforeunload.html"));
}

// One visit of the popup storm, shared by the two cases below (run once, by whichever comes first).
struct PopupStorm {
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  Settings settings;
  HostileRun run;
  std::uint64_t children_loaded = 0;  // popup-child.html requests during the visit
};

const PopupStorm& popup_storm() {
  static const PopupStorm storm = [] {
    PopupStorm out;
    out.settings.deadline_seconds = 15;
    // Chrome itself needs ~19 s to open 500 windows (measured without cjcrawl), and the load event
    // waits for the handler that opens them: sampling starts at the load timeout.
    out.settings.load_timeout_seconds = 5;
    const auto before = server().stats().requests_for("/hostile/popup-child.html");
    out.run = run_check(server().url("site.test", "/hostile/popup-storm.html"), out.dir->path() / "t.db", out.settings);
    out.children_loaded = server().stats().requests_for("/hostile/popup-child.html") - before;
    return out;
  }();
  return storm;
}

TEST_CASE("hostile: a storm of 500 popups is capped, counted, and every popup still runs", "[browser][hostile]") {
  const auto& storm = popup_storm();
  Json report = storm.run.report;
  check_bounded(storm.run, storm.settings, storm.dir->path() / "t.db");
  CHECK(storm.run.process.exit_code == 0);
  CHECK(report["status"] == "ok");
  CHECK(report["verdict"] != "cryptojacking");  // clean or suspicious: see below
  CHECK(counter(report, "load_timeout") == 1);
  // Past the cap, popups are resumed but not instrumented; records stop at their own cap.
  // (Targets are recorded as they attach: popups before their first navigation, with no URL yet.)
  std::uint64_t instrumented = 0;
  std::uint64_t pages = 0;
  for (const auto& target : report["targets"]) {
    instrumented += target["instrumented"].get<bool>();
    pages += target["type"] == "page";
  }
  CHECK(instrumented == kInstrumentedTargetCap);
  CHECK(counter(report, "targets_over_cap") > 0);
  CHECK(report["targets"].size() + counter(report, "targets_not_stored") ==
        kInstrumentedTargetCap + counter(report, "targets_over_cap"));
  CHECK(report["targets"].size() <= kTargetRecordCap);
  CHECK(pages == report["targets"].size());  // ours and the popups, nothing else
  // More popups loaded than could be instrumented: the ones over the cap were resumed, not left waiting.
  CHECK(storm.children_loaded > kInstrumentedTargetCap);
}

// Not asserted: clean rather than suspicious. The storm's renderers compute little of their own
// (24–31% of a core), but while Chrome opens 500 windows both cores are saturated and those renderers
// wait in the run queue; cjcrawl counts that wait as demand (crawler/visit.cpp, RendererCpu), so the
// samples read 62–96% and the CPU rule may fire: `suspicious` (CPU alone, no miner signal). That is a
// fair reading of a page that makes the machine busy; what the user needs is asserted above: a status,
// a verdict that is not cryptojacking, within the deadline.

namespace {

// A check of `url` that also records, in `saved`, anything a download could have written while it
// ran: files in the profiles of cjcrawl's Chromes (a profile is also its Chrome's HOME) named like
// the fixture's downloads, or partial downloads.
HostileRun run_check_watching_downloads(const std::string& url, const fs::path& db, const Settings& settings,
                                        std::vector<std::string>& saved) {
  auto watch = [&](pid_t cjcrawl, const std::vector<ProcessEntry>&) {
    for (const auto& profile : profiles_of(cjcrawl)) {
      std::error_code error;
      for (fs::recursive_directory_iterator it(profile, fs::directory_options::skip_permission_denied, error), end;
           !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (name.find("cjcrawl-fixture-download") != std::string::npos || name.find("invoice") != std::string::npos ||
            name.ends_with(".crdownload"))
          saved.push_back(it->path().string());
      }
    }
  };
  return run_check(url, db, settings, watch);
}

}  // namespace

TEST_CASE("hostile: a forced download is refused and the page stays", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  const auto downloads_before = server().stats().requests_for("/download");
  std::vector<std::string> saved;
  auto run = run_check_watching_downloads(server().url("site.test", "/hostile/download.html"), dir.path() / "t.db",
                                          settings, saved);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  CHECK(server().stats().requests_for("/download") > downloads_before);  // the page did force it
  CHECK(run.report["final_url"] == server().url("site.test", "/hostile/download.html"));
  INFO("saved: " << Json(saved).dump());
  CHECK(saved.empty());
}

TEST_CASE("hostile: a URL that is itself a download is a finished visit with nothing to watch, no file kept",
          "[browser][hostile]") {
  // Links to executables fill URL feeds: such a URL is reached, answers, and has no page that could
  // run anything (that it is not retried in a crawl: test_crawl.cpp).
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  const auto downloads_before = server().stats().requests_for("/download");
  std::vector<std::string> saved;
  auto run = run_check_watching_downloads(server().url("site.test", "/download"), dir.path() / "t.db", settings, saved);
  check_bounded(run, settings, dir.path() / "t.db");
  INFO(run.report.dump());
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["status_reason"].get<std::string>().starts_with("not a page: HTTP 200 application/octet-stream"));
  CHECK(run.report["verdict"] == "clean");
  CHECK(run.report["cpu_samples"].empty());
  CHECK(server().stats().requests_for("/download") > downloads_before);  // it was reached
  INFO("saved: " << Json(saved).dump());
  CHECK(saved.empty());
}

TEST_CASE("hostile: a 50 MB script is recorded as oversize, never read", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 15;
  const auto bytes_before = server().stats().big_script_bytes_sent;
  auto run = run_check(server().url("site.test", "/hostile/big-script.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(server().stats().big_script_bytes_sent - bytes_before == testsupport::kBigScriptBytes);  // Chrome got it all
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  bool recorded = false;
  for (const auto& script : run.report["scripts"]) {
    if (script["url"].get<std::string>().find("/generated/big-script.js") == std::string::npos) continue;
    recorded = true;
    CHECK(script["source"] == "oversize");
    CHECK(script["length"] == testsupport::kBigScriptBytes);
  }
  CHECK(recorded);
  // A script too large to read is unexplained: suspicious by design (README, signal oversize_script).
  CHECK(run.report["verdict"] == "suspicious");
  CHECK(has_reason(run.report, "oversize_script"));
  CHECK(run.report["cpu_rule"]["decision"] != "fired");  // the oversize script alone decided
}

TEST_CASE("hostile: a WebSocket flooding 100,000 frames is counted in full, stored in part", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  // The page holds its load event until the last frame (3–8 s here, 22 s on a 2-core machine with
  // stress-ng and a build running beside it), so the visit sees the whole flood and then samples an
  // idle page. The load timeout is far above that: the test is about counting, not about speed.
  settings.deadline_seconds = 60;
  settings.load_timeout_seconds = 50;
  const auto flood_before = server().stats().flood_connections;
  auto run = run_check(server().url("site.test", "/hostile/ws-flood.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(server().stats().flood_connections == flood_before + 1);
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  REQUIRE(run.report["websockets"].size() == 1);
  const auto& socket = run.report["websockets"][0];
  CHECK(socket["url"] == "ws://feed.test:" + std::to_string(server().port()) + "/ws/flood");
  // Every frame seen and examined; only the first few kept.
  CHECK(socket["frames_received"] == testsupport::kFloodFrames);
  CHECK(socket["frames"].size() == kStoredFramesPerSocket);
  CHECK(counter(run.report, "frames_received") == testsupport::kFloodFrames);
  CHECK(counter(run.report, "frames_not_stored") == testsupport::kFloodFrames - kStoredFramesPerSocket);
  CHECK(socket["pool"]["protocol"] == "");
  CHECK(counter(run.report, "load_timeout") == 0);  // the page released its load: it had every frame
}

TEST_CASE("hostile: an HTTP redirect loop is redirect_loop, exit 1", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  auto run = run_check(server().url("site.test", "/redirect-loop"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 1);
  CHECK(run.report["status"] == "redirect_loop");
  CHECK(run.report["status_reason"].get<std::string>().find("ERR_TOO_MANY_REDIRECTS") != std::string::npos);
  // Nothing to judge: clean by default, saying why.
  CHECK(run.report["verdict"] == "clean");
  CHECK(has_reason(run.report, "status"));
}

TEST_CASE("hostile: a meta refresh to file:///etc/passwd goes nowhere", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 10;
  const std::string url = server().url("site.test", "/hostile/meta-refresh-file.html");
  auto run = run_check(url, dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  CHECK(run.report["final_url"] == url);
  for (const auto& target : run.report["targets"]) CHECK_FALSE(target["url"].get<std::string>().starts_with("file:"));
  CHECK(run.process.out.find("root:x:0:0") == std::string::npos);
}

TEST_CASE("hostile: a page spawning 200 workers is capped, counted, and every worker runs", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 15;
  // Starting 200 workers keeps the renderer busy for ~1.5 s: a 4 s window sees a burst, not a miner.
  settings.window = 20;
  const auto answered_before = server().stats().requests_for("/hostile/all-workers-answered");
  auto run = run_check(server().url("site.test", "/hostile/worker-storm.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "clean");
  std::uint64_t workers = 0;
  std::uint64_t instrumented = 0;
  for (const auto& target : run.report["targets"]) {
    workers += target["type"] == "worker";
    instrumented += target["instrumented"].get<bool>();
  }
  CHECK(workers == 200);
  CHECK(instrumented == kInstrumentedTargetCap);
  CHECK(counter(run.report, "targets_over_cap") == 200 + 1 - kInstrumentedTargetCap);
  // All 200 answered, those over the cap included: none was left waiting for the debugger.
  CHECK(server().stats().requests_for("/hostile/all-workers-answered") == answered_before + 1);
}

TEST_CASE("hostile: a miner library carrying a lone UTF-16 surrogate is still recorded and read",
          "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 6;  // miner keywords keep an idle page watched to its deadline
  auto run = run_check(server().url("site.test", "/hostile/lone-surrogate.html"), dir.path() / "t.db", settings);
  check_bounded(run, settings, dir.path() / "t.db");
  CHECK(run.process.exit_code == 0);
  CHECK(run.report["status"] == "ok");
  CHECK(run.report["verdict"] == "suspicious");
  bool library = false;
  for (const auto& script : run.report["scripts"]) {
    if (script["url"] != "library\xEF\xBF\xBD.js") continue;  // its sourceURL, U+D800 read as U+FFFD
    library = true;
    CHECK(script["source"] == "fetched");
    CHECK(script["keywords"]["miner"] == true);
  }
  CHECK(library);
  CHECK(counter(run.report, "lone_surrogates_replaced") >= 1);
  CHECK(counter(run.report, "bad_cdp_messages") == 0);
}

TEST_CASE("hostile: a renderer killed during the visit is a crash, exit 1", "[browser][hostile]") {
  TempDir dir;
  Settings settings;
  settings.deadline_seconds = 15;
  // Kills every renderer cjcrawl's Chrome runs, once `ready()` says the page is where we want it.
  std::vector<pid_t> killed;
  auto kill_renderers_when = [&](std::function<bool()> ready) {
    return [&killed, ready](pid_t, const std::vector<ProcessEntry>& started) {
      if (!killed.empty() || !ready()) return;
      for (const auto& process : started)
        if (is_renderer(process) && ::kill(process.pid, SIGKILL) == 0) killed.push_back(process.pid);
    };
  };

  SECTION("while the page is still loading") {
    settings.load_timeout_seconds = 10;  // the visit waits for a load that never comes; the crash cuts it short
    const auto hangs_before = server().stats().requests_for("/hang");
    auto run = run_check(server().url("site.test", "/hostile/hang-subresource.html"), dir.path() / "t.db", settings,
                         kill_renderers_when([&] { return server().stats().requests_for("/hang") > hangs_before; }));
    check_bounded(run, settings, dir.path() / "t.db");
    CHECK_FALSE(killed.empty());
    CHECK(run.process.exit_code == 1);
    CHECK(run.report["status"] == "crash");
    CHECK(run.report["status_reason"].get<std::string>().find("renderer crashed") != std::string::npos);
    CHECK(run.report["verdict"] == "clean");
    CHECK(has_reason(run.report, "status"));                                 // "not checked: crash"
    CHECK(run.took < std::chrono::seconds(*settings.load_timeout_seconds));  // did not wait out the load timeout
  }
  SECTION("while CPU is being sampled") {
    // busy-main.html loads at once and keeps a core busy; with 20 samples of 200 ms the rule cannot
    // fire before 3.6 s of sampling, and the renderer dies 1.5 s after the page was requested.
    settings.window = 20;
    const std::string path = "/busy-main.html";
    const auto requests_before = server().stats().requests_for(path);
    std::optional<Clock::time_point> requested_at;
    auto run = run_check(server().url("site.test", path), dir.path() / "t.db", settings, kill_renderers_when([&] {
                           if (!requested_at && server().stats().requests_for(path) > requests_before)
                             requested_at = Clock::now();
                           return requested_at && Clock::now() - *requested_at > milliseconds(1'500);
                         }));
    check_bounded(run, settings, dir.path() / "t.db");
    CHECK_FALSE(killed.empty());
    CHECK(run.process.exit_code == 1);
    CHECK(run.report["status"] == "crash");
    CHECK(run.report["status_reason"].get<std::string>().find("renderer crashed during sampling") != std::string::npos);
    CHECK(run.report["cpu_samples"].size() >= 2);
    // Partial evidence: the CPU rule never got to fire, so nothing is claimed.
    CHECK(run.report["verdict"] == "clean");
  }
}
