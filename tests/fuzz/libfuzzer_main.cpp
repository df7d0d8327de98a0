// tests/fuzz/libfuzzer_main.cpp — libFuzzer's entry point for one target, compiled once per fuzz
// executable with -DCJCRAWL_FUZZ_TARGET=<name> (tests/fuzz/CMakeLists.txt; the fuzz build only).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cjcrawl::fuzz::CJCRAWL_FUZZ_TARGET(data, size);
}
