// tests/fuzz/targets.hpp — the fuzz targets of issue 16: every parser that takes bytes from outside.
//
// Each target is a plain function over one input. The same functions run in two places: under
// libFuzzer in the fuzz build (tests/fuzz/libfuzzer_main.cpp wraps one per executable; clang 14,
// -fsanitize=fuzzer,address,undefined; scripts/fuzz.sh), and in the ordinary unit tests, which
// replay every seed and every found crash (tests/fuzz/corpus/<name>/, tests/fuzz/regressions/<name>/)
// on every build, so the ASan + UBSan stage of scripts/test.sh checks them too. A target returns 0;
// it reports a broken invariant by throwing InvariantBroken (libFuzzer then aborts on it as a crash,
// Catch2 reports it as a failed test), and product code must never throw for any input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cjcrawl::fuzz {

// A property the code promises for every input did not hold.
struct InvariantBroken : std::logic_error {
  using std::logic_error::logic_error;
};

inline void expect(bool holds, std::string_view what) {
  if (!holds) throw InvariantBroken("fuzz invariant broken: " + std::string(what));
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return size == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(data), size);
}

// One per file tests/fuzz/fuzz_<name>.cpp.
int cdp_message(const std::uint8_t* data, std::size_t size);    // cdp/message_text
int cdp_router(const std::uint8_t* data, std::size_t size);     // cdp::Connection + TargetManager
int blocklist(const std::uint8_t* data, std::size_t size);      // blacklist/list_import
int wasm(const std::uint8_t* data, std::size_t size);           // blacklist/wasm
int pool_protocol(const std::uint8_t* data, std::size_t size);  // blacklist/pool_protocol, pool_shape
int feed(const std::uint8_t* data, std::size_t size);           // crawler::FeedService, serve's parse_listen
int url_input(const std::uint8_t* data, std::size_t size);      // crawler/url_input
int crawl_input(const std::uint8_t* data, std::size_t size);    // crawler/crawl_input

struct Target {
  std::string_view name;  // the folder under corpus/ and regressions/, and fuzz_<name> in the fuzz build
  int (*run)(const std::uint8_t* data, std::size_t size);
};

inline constexpr Target kTargets[] = {
    {"cdp_message", cdp_message},     {"cdp_router", cdp_router},
    {"blocklist", blocklist},         {"wasm", wasm},
    {"pool_protocol", pool_protocol}, {"feed", feed},
    {"url_input", url_input},         {"crawl_input", crawl_input},
};

}  // namespace cjcrawl::fuzz
