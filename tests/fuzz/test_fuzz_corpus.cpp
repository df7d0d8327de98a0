// tests/fuzz/test_fuzz_corpus.cpp — the fuzz targets in the ordinary unit tests: every seed of
// tests/fuzz/corpus/<target>/ and every input that once crashed a target (tests/fuzz/regressions/
// <target>/, each with its fix) runs through the target on every build, under g++, and again under
// ASan + UBSan in scripts/test.sh. A target throws on a broken invariant; the file is named.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/targets.hpp"

namespace {

namespace fs = std::filesystem;

const cjcrawl::fuzz::Target& target_named(std::string_view name) {
  for (const auto& target : cjcrawl::fuzz::kTargets)
    if (target.name == name) return target;
  throw std::invalid_argument("no fuzz target " + std::string(name));
}

std::vector<fs::path> files_under(const fs::path& folder) {
  std::vector<fs::path> files;
  if (!fs::is_directory(folder)) return files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Runs every seed and regression of `name`; returns how many seeds there were.
std::size_t replay(std::string_view name) {
  const auto& target = target_named(name);
  const fs::path root = fs::path(CJCRAWL_SOURCE_DIR) / "tests" / "fuzz";
  const auto seeds = files_under(root / "corpus" / name);
  auto inputs = seeds;
  const auto regressions = files_under(root / "regressions" / name);
  inputs.insert(inputs.end(), regressions.begin(), regressions.end());
  for (const auto& file : inputs) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(file.string());
    CHECK_NOTHROW(target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
  return seeds.size();
}

}  // namespace

TEST_CASE("fuzz corpus: every seed and every found crash of cdp_message replays cleanly", "[fuzz]") {
  CHECK(replay("cdp_message") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of cdp_router replays cleanly", "[fuzz]") {
  CHECK(replay("cdp_router") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of blocklist replays cleanly", "[fuzz]") {
  CHECK(replay("blocklist") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of wasm replays cleanly", "[fuzz]") {
  CHECK(replay("wasm") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of pool_protocol replays cleanly", "[fuzz]") {
  CHECK(replay("pool_protocol") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of feed replays cleanly", "[fuzz]") {
  CHECK(replay("feed") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of url_input replays cleanly", "[fuzz]") {
  CHECK(replay("url_input") > 0);
}

TEST_CASE("fuzz corpus: every seed and every found crash of crawl_input replays cleanly", "[fuzz]") {
  CHECK(replay("crawl_input") > 0);
}
