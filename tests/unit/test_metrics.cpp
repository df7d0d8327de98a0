// tests/unit/test_metrics.cpp — the metrics' exposition (crawler/metrics.hpp) through the checker the
// browser tests use (tests/support/metrics_check.py, which parses with prometheus_client's reference
// parser): what cjcrawl moves is what a scraper reads, label values with quotes, backslashes and
// newlines included; and the checker refuses each kind of malformed exposition, so it can fail.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "crawler/metrics.hpp"
#include "tests/support/subprocess.hpp"

namespace {

using Json = nlohmann::json;

struct Checked {
  int exit_code = -1;
  Json parsed;        // on success: {"families", "samples"}
  std::string error;  // the checker's stderr
};

// Runs the checker over `exposition` (Debian's python3: python3-prometheus-client is a system package).
Checked check(const std::string& exposition) {
  testsupport::TempDir dir;
  std::ofstream(dir.path() / "metrics.txt", std::ios::binary) << exposition;
  const auto run = testsupport::run_process(
      {"/usr/bin/python3", CJCRAWL_SOURCE_DIR "/tests/support/metrics_check.py", (dir.path() / "metrics.txt").string()},
      std::chrono::seconds(60));
  REQUIRE_FALSE(run.timed_out);
  Checked checked{run.exit_code, Json(), run.err};
  if (run.exit_code == 0) checked.parsed = Json::parse(run.out);
  return checked;
}

// The value of the sample `name` with exactly `labels`; nullopt if absent.
std::optional<double> sample(const Json& parsed, const std::string& name, const Json& labels = Json::object()) {
  for (const auto& found : parsed["samples"])
    if (found["name"] == name && found["labels"] == labels) return found["value"].get<double>();
  return std::nullopt;
}

}  // namespace

TEST_CASE("metrics: a worker's exposition is well-formed and reads back what was moved", "[metrics]") {
  crawler::MetricsExposition exposition;
  crawler::CrawlMetrics crawl(exposition.registry());
  crawler::HttpMetrics http(exposition.registry());
  const std::string awkward = "a \"quoted\" name\\ with\na newline";
  crawl.crawl_info(7, awkward);
  crawl.recorded("clean", "ok");
  crawl.recorded("clean", "ok");
  crawl.recorded("clean", "dns_error");
  crawl.recorded("cryptojacking", "ok");
  crawl.not_checked();
  crawl.visits_in_flight(2);
  crawl.slots(3, 1);
  crawl.browser_launched();
  crawl.browser_launched();
  crawl.browser_replaced("connection lost");
  crawl.commit_took(0.003);
  crawl.commit_took(20);  // past the last bucket: only +Inf holds it
  crawl.chrome_pss(1, 400u << 20);
  http.answered("metrics", 200, 0.002);
  http.unrouted(400);

  const auto checked = check(exposition.render());
  INFO(checked.error);
  REQUIRE(checked.exit_code == 0);
  const Json& parsed = checked.parsed;
  CHECK(parsed["families"]["cjcrawl_sites_recorded_total"] == "counter");
  CHECK(parsed["families"]["cjcrawl_commit_duration_seconds"] == "histogram");
  CHECK(sample(parsed, "cjcrawl_sites_recorded_total", {{"verdict", "clean"}, {"status", "ok"}}) == 2.0);
  CHECK(sample(parsed, "cjcrawl_sites_recorded_total", {{"verdict", "clean"}, {"status", "dns_error"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_sites_recorded_total", {{"verdict", "cryptojacking"}, {"status", "ok"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_sites_not_checked_total") == 1.0);
  CHECK(sample(parsed, "cjcrawl_visits_in_flight") == 2.0);
  CHECK(sample(parsed, "cjcrawl_slots", {{"state", "running"}}) == 3.0);
  CHECK(sample(parsed, "cjcrawl_slots", {{"state", "stopped"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_browser_launches_total") == 2.0);
  CHECK(sample(parsed, "cjcrawl_browser_replacements_total", {{"why", "connection_lost"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_browser_replacements_total", {{"why", "sites"}}) == 0.0);  // there from the start
  CHECK(sample(parsed, "cjcrawl_commit_duration_seconds_count") == 2.0);
  CHECK(sample(parsed, "cjcrawl_commit_duration_seconds_bucket", {{"le", "0.005"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_commit_duration_seconds_bucket", {{"le", "10"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_commit_duration_seconds_bucket", {{"le", "+Inf"}}) == 2.0);
  CHECK(sample(parsed, "cjcrawl_chrome_pss_bytes", {{"slot", "1"}}) == static_cast<double>(400u << 20));
  // The label value comes back byte for byte, escapes undone.
  CHECK(sample(parsed, "cjcrawl_crawl_info", {{"crawl_id", "7"}, {"name", awkward}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_http_requests_total", {{"route", "metrics"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_http_responses_total", {{"code", "200"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_http_responses_total", {{"code", "400"}}) == 1.0);
  CHECK(sample(parsed, "cjcrawl_http_request_duration_seconds_count", {{"route", "metrics"}}) == 1.0);
  // The process's own, as every Prometheus client names them.
  CHECK(sample(parsed, "process_resident_memory_bytes").value_or(0) > 0);
  CHECK(sample(parsed, "process_cpu_seconds_total").has_value());
  CHECK(sample(parsed, "process_start_time_seconds").value_or(0) > 1.7e9);
}

TEST_CASE("metrics check: each kind of malformed exposition is refused with its reason", "[metrics]") {
  const std::string good =
      "# HELP a_total A.\n# TYPE a_total counter\na_total{route=\"x\"} 1\na_total{route=\"y\"} 2\n"
      "# HELP h_seconds H.\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"0.1\"} 1\nh_seconds_bucket{le=\"1\"} "
      "2\nh_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 0.5\nh_seconds_count 2\n";
  REQUIRE(check(good).exit_code == 0);

  struct Malformed {
    const char* what;
    std::string text;
    const char* reason;  // in the checker's stderr
  };
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  const std::vector<Malformed> table{
      {"a sample before its TYPE", "a_total 1\n# HELP a_total A.\n# TYPE a_total counter\n", "before (or without)"},
      {"no HELP", replaced("# HELP a_total A.\n", ""), "# HELP of a_total"},
      {"a family twice", good + "a_total{route=\"z\"} 3\n", "appears twice"},
      {"TYPE twice", good + "# TYPE h_seconds histogram\n", "given twice"},
      {"a counter without _total", "# HELP a A.\n# TYPE a counter\na 1\n", "does not end in _total"},
      {"a label set twice", replaced("route=\"y\"", "route=\"x\""), "the same label set twice"},
      {"buckets not cumulative", replaced("le=\"1\"} 2", "le=\"1\"} 0"), "buckets are cumulative"},
      {"+Inf is not the count", replaced("h_seconds_count 2", "h_seconds_count 3"), "is not the +Inf bucket's"},
      {"no +Inf bucket", replaced("h_seconds_bucket{le=\"+Inf\"} 2\n", ""), "no +Inf bucket"},
      {"an unescaped newline in HELP (as prometheus-cpp 1.0.1 would write one)",
       replaced("# HELP a_total A.", "# HELP a_total A\nsecond line."), "sample second before"},
      {"a bad escape in a label", replaced("route=\"x\"", "route=\"x\\t\""), "a backslash escapes only"},
      {"not a number", replaced("a_total{route=\"x\"} 1", "a_total{route=\"x\"} one"), "not a number"},
      {"an invalid label name", replaced("route=\"x\"", "1route=\"x\""), "invalid label name"},
      {"no final newline", good.substr(0, good.size() - 1), "end with a newline"},
  };
  for (const auto& [what, text, reason] : table) {
    INFO(what << "\n" << text);
    const auto checked = check(text);
    INFO(checked.error);
    CHECK(checked.exit_code == 1);
    CHECK(checked.error.find(reason) != std::string::npos);
  }
}
