// tests/unit/test_crawl_output.cpp — crawler::reconcile_output, the repair a resumed crawl makes to
// its --out file: a torn last line is cut, recorded sites missing from the file are appended once,
// lines of other crawls are left alone, and the file is changed in place (a symlink stays one).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "crawler/crawl.hpp"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("cjcrawl-out-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string line(int crawl, int position) {
  return "{\"crawl_id\":" + std::to_string(crawl) + ",\"input_line\":" + std::to_string(position) +
         ",\"verdict\":\"clean\"}";
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What the database would answer for crawl 7.
std::optional<std::string> database_line(std::int64_t position) { return line(7, static_cast<int>(position)); }

}  // namespace

TEST_CASE("reconcile: a torn last line is cut and missing recorded sites are appended once", "[crawl][output]") {
  TempDir dir;
  const auto out = dir.path / "out.jsonl";
  // Sites 1 and 3 written; site 2 committed but its line never written; site 4 torn mid-line; a
  // line of another crawl (crawl 6) that must stay.
  std::ofstream(out) << line(7, 1) << "\n"
                     << line(6, 2) << "\n"
                     << line(7, 3) << "\n"
                     << R"({"crawl_id":7,"inp)";
  const std::size_t appended = crawler::reconcile_output(out.string(), 7, {1, 2, 3, 4}, database_line);
  CHECK(appended == 2);
  CHECK(read(out) == line(7, 1) + "\n" + line(6, 2) + "\n" + line(7, 3) + "\n" + line(7, 2) + "\n" + line(7, 4) + "\n");
  // Idempotent: a second repair finds nothing to do.
  CHECK(crawler::reconcile_output(out.string(), 7, {1, 2, 3, 4}, database_line) == 0);
  CHECK(read(out) == line(7, 1) + "\n" + line(6, 2) + "\n" + line(7, 3) + "\n" + line(7, 2) + "\n" + line(7, 4) + "\n");
}

TEST_CASE("reconcile: a missing file is created, a symlink is written through, not replaced", "[crawl][output]") {
  TempDir dir;
  const auto missing = dir.path / "new.jsonl";
  CHECK(crawler::reconcile_output(missing.string(), 7, {5}, database_line) == 1);
  CHECK(read(missing) == line(7, 5) + "\n");

  const auto target = dir.path / "real.jsonl";
  const auto link = dir.path / "link.jsonl";
  std::ofstream(target) << line(7, 1) << "\n";
  fs::create_symlink(target, link);
  CHECK(crawler::reconcile_output(link.string(), 7, {1, 2}, database_line) == 1);
  CHECK(fs::is_symlink(link));
  CHECK(read(target) == line(7, 1) + "\n" + line(7, 2) + "\n");
}

TEST_CASE("reconcile: an unwritable place is an error naming the file", "[crawl][output]") {
  CHECK_THROWS_WITH(crawler::reconcile_output("/nonexistent-dir/out.jsonl", 7, {1}, database_line),
                    Catch::Contains("/nonexistent-dir/out.jsonl"));
}
