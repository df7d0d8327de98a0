// tests/unit/test_crawl_slots.cpp — crawler::run_crawl's slots against scripted Chromes (no process)
// and a real in-memory SQLite store: retries in a fresh browser after a crash, recycling every M
// sites, the failure budget, sites cjcrawl could not check, and a commit that waits on the database
// while another slot keeps sampling its CPU on time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "blacklist/detector.hpp"
#include "blacklist/rules.hpp"
#include "crawler/crawl.hpp"
#include "db/sqlite_store.hpp"
#include "tests/support/fake_chrome.hpp"

namespace {

using namespace std::chrono_literals;
using testsupport::FakeChrome;
using testsupport::FakeLauncher;
using Navigation = FakeChrome::Navigation;
using Target = FakeChrome::Target;
using Json = nlohmann::json;

const blacklist::Detector& detector() {
  static const blacklist::Detector instance = [] {
    auto loaded = blacklist::Rules::load(CJCRAWL_SOURCE_RULES);
    return blacklist::Detector(std::move(loaded.rules));
  }();
  return instance;
}

crawler::CrawlOptions options_for(FakeLauncher& launcher) {
  crawler::CrawlOptions options;
  options.visit.browser_factory = launcher.factory();
  options.visit.site_deadline = 3s;
  options.visit.load_timeout = 1s;
  options.visit.sample_period = 20ms;
  options.visit.cpu_rule.window = 5;
  options.visit.cpu_rule.ratio = 0.8;
  options.visit.detector = &detector();
  options.visit.interact = false;
  options.concurrency = 1;
  options.retries = 1;
  options.failure_budget = 3;
  options.recycle_after = 50;
  return options;
}

std::vector<crawler::CrawlTarget> sites(int count) {
  std::string list;
  for (int i = 1; i <= count; ++i) list += "http://site" + std::to_string(i) + ".test/\n";
  return crawler::parse_crawl_input(list).targets;
}

struct CrawlRun {
  crawler::CrawlSummary summary;
  std::vector<Json> lines;
};

CrawlRun crawl(db::Store& store, const crawler::CrawlOptions& options,
               const std::vector<crawler::CrawlTarget>& targets) {
  db::Store::CrawlRow row;
  row.input_path = "test";
  row.total = static_cast<std::int64_t>(targets.size());
  const auto crawl_id = store.begin_crawl(row).value();
  CrawlRun run;
  run.summary = crawler::run_crawl(
      store, detector(), crawl_id, targets, options,
      [&](const std::string& line) {
        run.lines.push_back(Json::parse(line));
        return true;
      },
      targets.size(), 0);
  return run;
}

// The SQLite store, with record_visit made to wait as if another process held the file's lock.
class SlowStore final : public db::Store {
 public:
  explicit SlowStore(std::chrono::milliseconds wait) : wait_(wait) {}
  util::Result<std::int64_t> record_visit(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                                          std::int64_t now_ms, const CrawlSite* site) override {
    if (std::exchange(first_, false)) std::this_thread::sleep_for(wait_);
    return inner_.record_visit(evidence, judgement, now_ms, site);
  }
  util::Result<std::optional<db::VisitRow>> visit(std::int64_t id) const override { return inner_.visit(id); }
  util::Result<std::int64_t> visit_count() const override { return inner_.visit_count(); }
  util::Result<std::vector<db::VisitRow>> latest_visits(const std::vector<std::string>& verdicts,
                                                        int limit) const override {
    return inner_.latest_visits(verdicts, limit);
  }
  util::Status record_skipped(std::int64_t id, const std::vector<SkippedLine>& lines, std::int64_t now) override {
    return inner_.record_skipped(id, lines, now);
  }
  util::Result<std::int64_t> begin_crawl(const CrawlRow& crawl) override { return inner_.begin_crawl(crawl); }
  util::Status set_crawl_state(std::int64_t id, std::string_view state, std::int64_t now) override {
    return inner_.set_crawl_state(id, state, now);
  }
  util::Result<std::optional<CrawlRow>> crawl(std::int64_t id) const override { return inner_.crawl(id); }
  util::Result<std::optional<CrawlRow>> find_crawl(std::string_view path, std::string_view digest,
                                                   std::string_view selection) const override {
    return inner_.find_crawl(path, digest, selection);
  }
  util::Result<std::vector<CrawlRow>> crawls() const override { return inner_.crawls(); }
  util::Result<std::vector<CrawlLine>> crawl_lines(std::int64_t id) const override { return inner_.crawl_lines(id); }
  util::Result<std::vector<std::int64_t>> crawl_positions(std::int64_t id) const override {
    return inner_.crawl_positions(id);
  }
  util::Result<std::vector<CrawlLine>> crawl_lines_after(std::int64_t id, std::int64_t after,
                                                         int limit) const override {
    return inner_.crawl_lines_after(id, after, limit);
  }
  util::Result<std::optional<std::string>> crawl_line(std::int64_t id, std::int64_t position) const override {
    return inner_.crawl_line(id, position);
  }
  util::Result<std::optional<SourceRow>> source(std::string_view name) const override { return inner_.source(name); }
  util::Result<std::vector<SourceRow>> sources() const override { return inner_.sources(); }
  util::Result<ImportChange> replace_source_entries(std::string_view name, std::string_view format,
                                                    const std::vector<ListedEntry>& entries, std::string_view etag,
                                                    std::string_view last_modified, int confidence,
                                                    std::int64_t now) override {
    return inner_.replace_source_entries(name, format, entries, etag, last_modified, confidence, now);
  }
  util::Status note_source_fetch(std::string_view name, std::string_view error, std::int64_t now) override {
    return inner_.note_source_fetch(name, error, now);
  }
  util::Result<std::vector<RecheckPage>> pages_due(std::int64_t before) const override {
    return inner_.pages_due(before);
  }
  util::Result<std::int64_t> begin_recheck(const CrawlRow& crawl, const std::vector<RecheckPage>& pages,
                                           std::int64_t before, int drop_after) override {
    return inner_.begin_recheck(crawl, pages, before, drop_after);
  }
  util::Result<std::vector<RecheckPage>> recheck_pages(std::int64_t id) const override {
    return inner_.recheck_pages(id);
  }
  util::Result<std::optional<CrawlRow>> latest_recheck() const override { return inner_.latest_recheck(); }
  util::Result<RecheckTally> recheck_tally(std::int64_t id) const override { return inner_.recheck_tally(id); }
  util::Result<std::int64_t> allow(std::string_view value, std::string_view reason, std::int64_t now) override {
    return inner_.allow(value, reason, now);
  }
  util::Result<std::optional<EntryProof>> entry_proof(std::int64_t id, int limit) override {
    return inner_.entry_proof(id, limit);
  }
  util::Result<std::int64_t> generation() const override { return inner_.generation(); }
  util::Result<std::vector<db::ExportEntry>> export_entries(const ExportFilter& filter) const override {
    return inner_.export_entries(filter);
  }
  util::Result<FeedSnapshot> feed_snapshot(const ExportFilter& filter) override { return inner_.feed_snapshot(filter); }
  util::Result<EntryPage> entries_page(std::string_view kind, std::string_view contains, std::int64_t after,
                                       int limit) override {
    return inner_.entries_page(kind, contains, after, limit);
  }
  util::Result<Summary> summary() override { return inner_.summary(); }
  util::Result<blacklist::KnownEntries> known_entries() const override { return inner_.known_entries(); }
  util::Result<std::vector<db::BlacklistEntry>> blacklist_entries() const override {
    return inner_.blacklist_entries();
  }
  util::Result<int> schema_version() const override { return inner_.schema_version(); }
  const std::string& location() const override { return inner_.location(); }

 private:
  db::SqliteStore inner_ = db::SqliteStore::open_memory();
  std::chrono::milliseconds wait_;
  bool first_ = true;
};

}  // namespace

TEST_CASE("crawl slots: every site is recorded once, in one browser, its line after its commit", "[crawl][slots]") {
  FakeLauncher launcher([](FakeChrome&, const Target&, const std::string&) { return Navigation{}; });
  auto store = db::SqliteStore::open_memory();
  const auto run = crawl(store, options_for(launcher), sites(4));
  CHECK(run.summary.recorded == 4);
  CHECK_FALSE(run.summary.aborted);
  CHECK(run.summary.browsers_launched == 1);
  CHECK(launcher.launched() == 1);
  CHECK(launcher.chromes()[0]->contexts_created() == 4);
  REQUIRE(run.lines.size() == 4);
  CHECK(store.visit_count().value() == 4);
  CHECK(store.crawl_positions(1).value().size() == 4);
  for (const auto& line : run.lines) CHECK(line["attempt"] == 1);
}

TEST_CASE("crawl slots: a renderer crash retires the browser and the site is retried in a fresh one",
          "[crawl][slots]") {
  std::map<std::string, int> navigations;
  FakeLauncher launcher([&](FakeChrome& chrome, const Target& page, const std::string& url) {
    if (++navigations[url] == 1 && url == "http://site2.test/") {
      chrome.set_busy(page.renderer_pid, 1.0);
      chrome.after(40ms, [chrome = &chrome, page] { chrome->crash(page); });
    }
    return Navigation{};
  });
  auto store = db::SqliteStore::open_memory();
  const auto run = crawl(store, options_for(launcher), sites(3));
  CHECK(run.summary.recorded == 3);
  CHECK(run.summary.browsers_retired.at("crash") == 1);
  CHECK(run.summary.browsers_launched == 2);
  REQUIRE(run.lines.size() == 3);
  for (const auto& line : run.lines) {
    INFO(line.dump());
    CHECK(line["status"] == "ok");
    CHECK(line["attempt"] == (line["input"] == "http://site2.test/" ? 2 : 1));
  }
}

TEST_CASE("crawl slots: browsers are recycled every M sites, the last one closed rather than replaced",
          "[crawl][slots]") {
  FakeLauncher launcher([](FakeChrome&, const Target&, const std::string&) { return Navigation{}; });
  auto options = options_for(launcher);
  options.recycle_after = 2;
  auto store = db::SqliteStore::open_memory();
  const auto run = crawl(store, options, sites(5));
  CHECK(run.summary.recorded == 5);
  CHECK(run.summary.browsers_launched == 3);
  CHECK(run.summary.browsers_retired == std::map<std::string, std::size_t>{{"sites", 2}});
  // Every browser was closed: Browser.close sent to each.
  for (const auto& chrome : launcher.chromes()) CHECK(chrome->commands("Browser.close").size() == 1);
}

TEST_CASE("crawl slots: a slot stops after its failure budget, and the crawl aborts", "[crawl][slots]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    chrome.after(10ms, [chrome = &chrome, page] { chrome->crash(page); });
    return Navigation{};
  });
  auto options = options_for(launcher);
  options.retries = 0;
  options.failure_budget = 2;
  auto store = db::SqliteStore::open_memory();
  const auto run = crawl(store, options, sites(6));
  CHECK(run.summary.slots_stopped == 1);
  CHECK(run.summary.aborted);
  CHECK(run.summary.abort_reason == "every slot was stopped by its failure budget");
  CHECK(run.summary.recorded == 3);  // budget 2: the third consecutive failure stops the slot
}

TEST_CASE("crawl slots: sites cjcrawl could not check are left unrecorded for a resume", "[crawl][slots]") {
  FakeLauncher launcher(nullptr);
  launcher.fail = true;
  auto options = options_for(launcher);
  options.retries = 0;
  auto store = db::SqliteStore::open_memory();
  const auto run = crawl(store, options, sites(2));
  CHECK(run.summary.recorded == 0);
  CHECK(run.summary.not_checked == 2);
  CHECK(run.lines.empty());
  CHECK(store.visit_count().value() == 0);
}

TEST_CASE("crawl slots: a commit waiting on the database does not delay another slot's CPU samples", "[crawl][slots]") {
  // Site 1 settles at once and its commit then waits 1.5 s (the database's thread sleeps); site 2's
  // worker keeps a socket open, so it is sampled every 20 ms to its 3 s deadline meanwhile.
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string& url) {
    if (url == "http://site2.test/") {
      const auto worker = chrome.attach(page, "worker", "http://site2.test/w.js");
      chrome.websocket(worker, "ws1", "ws://chat.site2.test/");
    }
    return Navigation{};
  });
  auto options = options_for(launcher);
  options.concurrency = 2;
  SlowStore store(1'500ms);
  const auto run = crawl(store, options, sites(2));
  REQUIRE(run.summary.recorded == 2);
  const auto watched = std::find_if(run.lines.begin(), run.lines.end(),
                                    [](const Json& line) { return line["input"] == "http://site2.test/"; });
  REQUIRE(watched != run.lines.end());
  const auto& samples = (*watched)["cpu_samples"];
  REQUIRE(samples.size() > 50);  // sampled through the other slot's commit
  double longest_gap = 0;
  for (std::size_t i = 1; i < samples.size(); ++i)
    longest_gap = std::max(longest_gap, samples[i]["t_ms"].get<double>() - samples[i - 1]["t_ms"].get<double>());
  INFO("longest gap between samples: " << longest_gap << " ms");
  CHECK(longest_gap < 750);  // the commit's 1,500 ms wait never reached the loop
}
