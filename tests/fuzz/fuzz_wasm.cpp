// tests/fuzz/fuzz_wasm.cpp — blacklist/wasm, the reader and fingerprint of WebAssembly modules a
// page hands the browser (any bytes at all: the page compiles what it likes). The input is one
// module, read with per-function profiles kept and fingerprinted. Asserts beyond "no crash": the
// header's limits and consistency — an error exactly when not ok; incomplete bodies, kept profiles
// and named hash functions within their bounds and the bodies read; every profile's and hash
// function's byte range inside the module; every score in [0, 1]; a failed module is never a miner;
// and fingerprinting the bytes equals fingerprinting their profile (one reading, deterministic).
#include <string_view>

#include "blacklist/wasm.hpp"
#include "tests/fuzz/targets.hpp"

namespace cjcrawl::fuzz {
namespace {

namespace wasm = blacklist::wasm;

bool unit_interval(double value) { return value >= 0 && value <= 1; }

void check_profile(const wasm::ModuleProfile& profile, std::size_t size) {
  expect(profile.ok == profile.error.empty(), "a module has an error exactly when it is not ok");
  if (!profile.ok) return;
  expect(profile.incomplete_functions <= profile.functions, "incomplete bodies are bodies");
  expect(profile.kept.size() <= wasm::kMaxKeptFunctions, "at most kMaxKeptFunctions profiles are kept");
  expect(profile.kept.size() + profile.functions_not_kept == profile.functions, "every body is kept or counted");
  expect(profile.hash_functions.size() <= wasm::kMaxHashFunctions, "at most kMaxHashFunctions hash functions");
  expect(profile.loop_instructions <= profile.instructions, "loop instructions are instructions");
  for (const auto& function : profile.kept) {
    expect(std::size_t{function.begin} + function.body_bytes <= size, "a body lies inside the module");
    expect(function.loop_instructions <= function.instructions, "a body's loop instructions are its instructions");
    expect(function.complete == function.problem.empty(), "a body has a problem exactly when incomplete");
    for (const double score : function.scores) expect(unit_interval(score), "a primitive score is in [0, 1]");
  }
  for (const auto& hash : profile.hash_functions) {
    expect(hash.begin <= hash.end && hash.end <= size, "a hash function's range lies inside the module");
    expect(!hash.what.empty(), "a hash function says why");
  }
  for (const auto& best : profile.best) expect(unit_interval(best.score), "a best score is in [0, 1]");
}

}  // namespace

int wasm(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  const auto profile = wasm::read_module(bytes, /*keep_functions=*/true);
  check_profile(profile, size);

  const auto from_bytes = wasm::fingerprint(bytes);
  const auto from_profile = wasm::fingerprint(profile);
  expect(from_bytes.ok == profile.ok, "the fingerprint reads the module as read_module does");
  expect(from_bytes.ok || !from_bytes.miner, "an unread module is never a miner");
  expect(!from_bytes.cryptonight_core || from_bytes.miner, "a CryptoNight core is a miner");
  expect(unit_interval(from_bytes.score) && unit_interval(from_bytes.crypto_density), "scores are in [0, 1]");
  expect(from_bytes.distinct_primitives == static_cast<int>(from_bytes.primitives.size()),
         "the primitives named are the primitives counted");
  expect(from_bytes.ok == from_profile.ok && from_bytes.miner == from_profile.miner &&
             from_bytes.score == from_profile.score && from_bytes.primitives == from_profile.primitives &&
             from_bytes.summary == from_profile.summary && from_bytes.functions == from_profile.functions,
         "fingerprinting the bytes is fingerprinting their profile");
  return 0;
}

}  // namespace cjcrawl::fuzz
