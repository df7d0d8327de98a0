// bench/bench_wasm.cpp — Wasm fingerprinting speed. Target (issue 3): a 2 MB module in ≤ 20 ms.
// The 2 MB modules are built here, not stored: the function bodies of the committed fixtures
// (tests/fixtures/wasm) are replicated into one big code section, so the instruction mix is what
// clang -O3 emits for CryptoNight primitives (miner) or for image/physics/chess code (benign).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "blacklist/wasm.hpp"

namespace {

constexpr std::size_t kTargetModuleBytes = 2u << 20;

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(CJCRAWL_SOURCE_DIR) + "/tests/fixtures/wasm/" + name, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Just enough of the format to cut a trusted fixture into its type section and function bodies.
struct Pieces {
  std::string type_section;         // whole section, id and size included
  std::vector<std::string> bodies;  // each with its size prefix
  std::vector<std::string> types;   // each body's type index, encoded
};

std::uint32_t read_leb(const std::string& bytes, std::size_t& position) {
  std::uint32_t value = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<std::uint8_t>(bytes.at(position++));
    value |= static_cast<std::uint32_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return value;
  }
}

std::string leb(std::uint32_t value) {
  std::string out;
  do {
    std::uint8_t byte = value & 0x7F;
    value >>= 7;
    out += static_cast<char>(value ? byte | 0x80 : byte);
  } while (value);
  return out;
}

Pieces split(const std::string& module, std::uint32_t type_offset) {
  Pieces pieces;
  std::size_t position = 8;
  while (position < module.size()) {
    const std::size_t start = position;
    const auto id = static_cast<std::uint8_t>(module[position++]);
    const std::uint32_t size = read_leb(module, position);
    const std::size_t end = position + size;
    if (id == 1) pieces.type_section = module.substr(start, end - start);
    if (id == 3) {
      for (std::uint32_t count = read_leb(module, position); count > 0; --count)
        pieces.types.push_back(leb(read_leb(module, position) + type_offset));
    }
    if (id == 10) {
      for (std::uint32_t count = read_leb(module, position); count > 0; --count) {
        const std::size_t body_start = position;
        position += read_leb(module, position);
        pieces.bodies.push_back(module.substr(body_start, position - body_start));
      }
    }
    position = end;
  }
  return pieces;
}

std::string section(int id, const std::string& payload) {
  return static_cast<char>(id) + leb(static_cast<std::uint32_t>(payload.size())) + payload;
}

// One module of about kTargetModuleBytes from the bodies of `fixtures`, round-robin. The type
// sections are concatenated (type indices shifted), so every body keeps a type of its own module.
std::string build_module(const std::vector<std::string>& fixtures) {
  std::vector<Pieces> all;
  std::uint32_t type_count = 0;
  std::string types;
  for (const std::string& name : fixtures) {
    const std::string module = read_fixture(name);
    if (module.size() < 8) return {};
    all.push_back(split(module, type_count));
    std::size_t position = 1;
    const std::string& type_section = all.back().type_section;
    read_leb(type_section, position);  // section size
    const std::uint32_t count = read_leb(type_section, position);
    types += type_section.substr(position);
    type_count += count;
  }
  std::string function_entries, code_entries;
  std::uint32_t functions = 0;
  while (code_entries.size() < kTargetModuleBytes)
    for (const Pieces& pieces : all)
      for (std::size_t i = 0; i < pieces.bodies.size(); ++i) {
        function_entries += pieces.types[i];
        code_entries += pieces.bodies[i];
        ++functions;
      }
  return std::string("\0asm\1\0\0\0", 8) + section(1, leb(type_count) + types) +
         section(3, leb(functions) + function_entries) + section(10, leb(functions) + code_entries);
}

void run(benchmark::State& state, const std::string& module, bool expect_miner) {
  if (module.empty()) {
    state.SkipWithError("fixture missing: tests/fixtures/wasm");
    return;
  }
  const blacklist::wasm::Fingerprint check = blacklist::wasm::fingerprint(module);
  if (!check.ok || check.miner != expect_miner || check.incomplete_functions != 0) {
    state.SkipWithError(("unexpected fingerprint: " + check.summary).c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(blacklist::wasm::fingerprint(module));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * module.size()));
  state.counters["module_bytes"] = static_cast<double>(module.size());
  state.counters["instructions"] = static_cast<double>(check.instructions);
}

void BM_Fingerprint2MBMiner(benchmark::State& state) {
  static const std::string module = build_module({"miner.wasm", "cn_final_hashes.wasm"});
  run(state, module, true);
}

void BM_Fingerprint2MBBenign(benchmark::State& state) {
  static const std::string module = build_module({"image_filter.wasm", "physics.wasm", "chess.wasm"});
  run(state, module, false);
}

void BM_FingerprintSmallMiner(benchmark::State& state) {
  static const std::string module = read_fixture("miner.wasm");
  run(state, module, true);
}

}  // namespace

BENCHMARK(BM_Fingerprint2MBMiner)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fingerprint2MBBenign)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FingerprintSmallMiner)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
