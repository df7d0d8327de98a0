// tests/unit/test_wasm.cpp — the Wasm reader and fingerprint: fixture modules compiled from C
// (tests/fixtures/wasm, see build.sh there) with their expected primitives and miner decision, a
// differential check of instruction counts against wabt's disassembler, decoding details on
// modules built here byte by byte, and hostile inputs (truncations, overflows, absurd counts,
// deep nesting, random corruption) that must give errors or partial profiles, never a crash.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "blacklist/wasm.hpp"

namespace wasm = blacklist::wasm;
using wasm::Operation;

namespace {

std::filesystem::path fixtures() {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures/wasm";
}

std::string read_fixture(const std::string& name) {
  std::ifstream in(fixtures() / name, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::uint32_t count(const wasm::FunctionProfile& profile, Operation operation) {
  return profile.operations[static_cast<std::size_t>(operation)];
}

// ---- A tiny module builder: enough binary format to write hostile and edge-case modules by hand.
using Bytes = std::string;

Bytes leb(std::uint64_t value) {
  Bytes out;
  do {
    std::uint8_t byte = value & 0x7F;
    value >>= 7;
    if (value) byte |= 0x80;
    out += static_cast<char>(byte);
  } while (value);
  return out;
}

// Signed LEB128, as i32.const and i64.const immediates are written.
Bytes signed_leb(std::int64_t value) {
  Bytes out;
  while (true) {
    const std::uint8_t byte = value & 0x7F;
    value >>= 7;  // arithmetic shift
    const bool done = (value == 0 && !(byte & 0x40)) || (value == -1 && (byte & 0x40));
    out += static_cast<char>(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int value : values) out += static_cast<char>(value);
  return out;
}

const Bytes kHeader = bytes({0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00});

Bytes section(int id, const Bytes& payload) { return static_cast<char>(id) + leb(payload.size()) + payload; }

// One type `[] -> []`, one function per body, and the bodies (each: locals vector + instructions).
Bytes module_with_bodies(const std::vector<Bytes>& bodies) {
  Bytes functions = leb(bodies.size());
  Bytes code = leb(bodies.size());
  for (const Bytes& body : bodies) {
    functions += '\0';
    code += leb(body.size()) + body;
  }
  return kHeader + section(1, bytes({1, 0x60, 0, 0})) + section(3, functions) + section(10, code);
}

Bytes body(const Bytes& instructions) { return bytes({0}) + instructions + bytes({0x0B}); }  // no locals

}  // namespace

// -------------------------------------------------------------------------------------------------

TEST_CASE("fixture modules give the expected primitives and miner decision", "[wasm]") {
  struct Expected {
    const char* file;
    std::set<std::string> primitives;
    bool miner;
    double min_score, max_score;
  };
  const std::vector<Expected> table = {
      // CryptoNight-shaped: three or more distinct primitives.
      {"miner.wasm", {"keccak", "aes", "blake", "groestl"}, true, 0.9, 1.0},
      {"cn_final_hashes.wasm", {"keccak", "skein", "jh"}, true, 0.9, 1.0},
      // Each primitive alone is recognised, matches nothing else, and is not a miner.
      {"keccak.wasm", {"keccak"}, false, 0.0, 0.5},
      {"aes.wasm", {"aes"}, false, 0.0, 0.5},
      {"blake256.wasm", {"blake"}, false, 0.0, 0.5},
      {"groestl.wasm", {"groestl"}, false, 0.0, 0.5},
      {"skein.wasm", {"skein"}, false, 0.0, 0.5},
      {"jh.wasm", {"jh"}, false, 0.0, 0.5},
      // Two primitives (a wallet with SHA-3 and AES) is not mining-hash structure either.
      {"keccak_aes.wasm", {"keccak", "aes"}, false, 0.0, 0.75},
      // Legitimate single-hash uses: argon2 password hashing, a SHA-256 proof-of-work captcha.
      {"argon2.wasm", {"blake"}, false, 0.0, 0.5},
      {"sha256_pow.wasm", {}, false, 0.0, 0.25},
      // Benign compute scores low.
      {"image_filter.wasm", {}, false, 0.0, 0.25},
      {"physics.wasm", {}, false, 0.0, 0.25},
      {"chess.wasm", {}, false, 0.0, 0.25},
  };
  for (const Expected& expected : table) {
    INFO(expected.file);
    const std::string module = read_fixture(expected.file);
    REQUIRE(!module.empty());
    const wasm::Fingerprint result = wasm::fingerprint(module);
    INFO(result.summary);
    REQUIRE(result.ok);
    CHECK(result.incomplete_functions == 0);
    CHECK(std::set<std::string>(result.primitives.begin(), result.primitives.end()) == expected.primitives);
    CHECK(result.distinct_primitives == static_cast<int>(expected.primitives.size()));
    CHECK(result.miner == expected.miner);
    CHECK(result.score >= expected.min_score);
    CHECK(result.score <= expected.max_score);
    CHECK(result.summary.find(expected.miner ? "mining-hash structure" : "no mining-hash structure") == 0);
  }
}

TEST_CASE("instruction counts agree with wabt's disassembler on every fixture", "[wasm]") {
  // golden.txt: "name instructions=N simd=N i32.xor=N ..." written by build.sh from wasm-objdump -d.
  std::ifstream golden(fixtures() / "golden.txt");
  REQUIRE(golden);
  std::map<std::string, Operation> by_name;
  for (std::size_t i = 0; i < wasm::kOperationCount; ++i)
    by_name.emplace(std::string(wasm::to_string(static_cast<Operation>(i))), static_cast<Operation>(i));
  int modules = 0;
  for (std::string line; std::getline(golden, line);) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    INFO(name);
    const wasm::ModuleProfile profile = wasm::read_module(read_fixture(name + ".wasm"));
    REQUIRE(profile.ok);
    for (std::string field; fields >> field;) {
      const auto equals = field.find('=');
      const std::string key = field.substr(0, equals);
      const std::uint64_t value = std::stoull(field.substr(equals + 1));
      INFO(key);
      if (key == "instructions") CHECK(profile.instructions == value);
      else if (key == "simd") CHECK(profile.operations[static_cast<std::size_t>(Operation::simd)] == value);
      else {
        REQUIRE(by_name.count(key) == 1);
        CHECK(profile.operations[static_cast<std::size_t>(by_name.at(key))] == value);
      }
    }
    ++modules;
  }
  CHECK(modules == 14);
}

TEST_CASE("per-function profiles show the primitive's structure", "[wasm]") {
  const wasm::ModuleProfile module = wasm::read_module(read_fixture("keccak.wasm"), true);
  REQUIRE(module.ok);
  REQUIRE(module.kept.size() == 2);
  const wasm::FunctionProfile& keccakf = module.kept[0];  // keccakf(st, rounds)
  CHECK(keccakf.complete);
  CHECK(keccakf.rotations64[1] == 5);  // theta: D[x] = C[x-1] ^ rotl(C[x+1], 1)
  CHECK(keccakf.nots64 == 25);         // chi: ~a & b on each of 25 lanes
  CHECK(count(keccakf, Operation::i64_and) == 25);
  CHECK(count(keccakf, Operation::i64_xor) >= 100);
  CHECK(count(keccakf, Operation::loop) >= 1);  // the round loop
  CHECK(keccakf.loop_instructions > keccakf.instructions / 2);
  CHECK(keccakf.scores[static_cast<std::size_t>(wasm::Primitive::keccak)] == 1.0);
  CHECK(module.best[static_cast<std::size_t>(wasm::Primitive::keccak)].function == keccakf.index);

  // Extensions are decoded, not skipped: the image filter is vectorised, physics uses saturating casts.
  const wasm::ModuleProfile image = wasm::read_module(read_fixture("image_filter.wasm"));
  REQUIRE(image.ok);
  CHECK(image.incomplete_functions == 0);
  CHECK(image.operations[static_cast<std::size_t>(Operation::simd)] > 100);
  const wasm::ModuleProfile physics = wasm::read_module(read_fixture("physics.wasm"));
  REQUIRE(physics.ok);
  CHECK(physics.incomplete_functions == 0);
  CHECK(physics.operations[static_cast<std::size_t>(Operation::float_arithmetic)] > 50);
}

TEST_CASE("decoding details on hand-built bodies", "[wasm]") {
  SECTION("constant operands: rotr is normalised to rotl, byte shifts and masks, nots, swap masks") {
    const Bytes code = bytes({0x20, 0x00}) +                                // local.get 0 (never mind validity)
                       bytes({0x42, 0x18, 0x8A}) +                          // i64.const 24  i64.rotr → rotl 40
                       bytes({0x41, 0x08, 0x76}) +                          // i32.const 8   i32.shr_u
                       bytes({0x41, 0xFC, 0x07, 0x71}) +                    // i32.const 1020 i32.and (byte mask)
                       bytes({0x42, 0x7F, 0x85}) +                          // i64.const -1  i64.xor (not)
                       bytes({0x41, 0x88, 0x80, 0x80, 0x80, 0x00, 0x76}) +  // padded i32.const 8, shr_u
                       bytes({0x42}) + signed_leb(0x5555555555555555LL) + bytes({0x83});  // SWAP1 mask, i64.and
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({body(code)}), true);
    REQUIRE(module.ok);
    REQUIRE(module.kept.size() == 1);
    const wasm::FunctionProfile& f = module.kept[0];
    CHECK(f.complete);
    CHECK(f.rotations64[40] == 1);
    CHECK(f.right_shifts32[8] == 2);
    CHECK(f.byte_masks == 1);
    CHECK(f.nots64 == 1);
    CHECK(f.swap_masks == 1);
    CHECK(f.swap_mask_kinds == 1);
    CHECK(f.instructions == 14);  // every opcode, the final `end` included
  }
  SECTION("instructions inside loops are counted as loop instructions") {
    // block  loop  i32.const 1  br_if 0  end  end  nop
    const Bytes code = bytes({0x02, 0x40, 0x03, 0x40, 0x41, 0x01, 0x0D, 0x00, 0x0B, 0x0B, 0x01});
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({body(code)}), true);
    REQUIRE(module.ok);
    const wasm::FunctionProfile& f = module.kept[0];
    CHECK(f.instructions == 8);
    CHECK(f.loop_instructions == 3);  // i32.const, br_if, the loop's end
    CHECK(f.loop_operations[static_cast<std::size_t>(Operation::br_if)] == 1);
  }
  SECTION("immediates of SIMD, bulk memory, br_table, select t, try_table, GC and atomics") {
    const Bytes code = bytes({0xFD, 0x0C}) + Bytes(16, '\x01') +      // v128.const
                       bytes({0xFD, 0x0D}) + Bytes(16, '\x02') +      // i8x16.shuffle
                       bytes({0xFD, 0x15, 0x03}) +                    // i8x16.extract_lane_s 3
                       bytes({0xFD, 0x54, 0x00, 0x10, 0x07}) +        // v128.load8_lane align=0 offset=16 lane 7
                       bytes({0xFD, 0x51}) +                          // v128.xor
                       bytes({0xFD, 0x00, 0x04, 0x00}) +              // v128.load align=4 offset=0
                       bytes({0xFD, 0x80, 0x02}) +                    // relaxed swizzle (0x100)
                       bytes({0xFC, 0x0A, 0x00, 0x00}) +              // memory.copy 0 0
                       bytes({0xFC, 0x02}) +                          // i32.trunc_sat_f64_s
                       bytes({0x0E, 0x02, 0x00, 0x00, 0x00}) +        // br_table 0 0 0
                       bytes({0x1C, 0x01, 0x7F}) +                    // select (result i32)
                       bytes({0x1F, 0x40, 0x01, 0x02, 0x00, 0x0B}) +  // try_table (catch_all 0) end
                       bytes({0xFB, 0x18, 0x03, 0x00, 0x6E, 0x6E}) +  // br_on_cast flags 3 label 0 any any
                       bytes({0xFE, 0x03, 0x00}) +                    // atomic.fence
                       bytes({0xFE, 0x10, 0x02, 0x00}) +              // i32.atomic.load
                       bytes({0x28, 0x42, 0x01, 0x00});               // i32.load with memory index 1 (multi-memory)
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({body(code)}), true);
    REQUIRE(module.ok);
    const wasm::FunctionProfile& f = module.kept[0];
    INFO(f.problem);
    CHECK(f.complete);
    CHECK(count(f, Operation::simd) == 7);
    CHECK(count(f, Operation::simd_bitwise) == 1);
    CHECK(count(f, Operation::simd_byte_shuffle) == 2);
    CHECK(count(f, Operation::bulk_memory) == 1);
    CHECK(count(f, Operation::atomic) == 2);
    CHECK(count(f, Operation::i32_load) == 1);
  }
  SECTION("imported functions come first in the index space") {
    const Bytes import = leb(1) + leb(3) + "env" + leb(4) + "hash" + bytes({0x00, 0x00});
    const Bytes module = kHeader + section(1, bytes({1, 0x60, 0, 0})) + section(2, import) + section(3, bytes({1, 0})) +
                         section(10, bytes({1}) + leb(2) + body(""));
    const wasm::ModuleProfile profile = wasm::read_module(module, true);
    REQUIRE(profile.ok);
    CHECK(profile.imported_functions == 1);
    CHECK(profile.kept.at(0).index == 1);
  }
}

TEST_CASE("a problem inside one body stops that body only", "[wasm]") {
  const Bytes good = body(bytes({0x42, 0x01, 0x42, 0x01, 0x89, 0x1A}));  // i64.const 1 i64.const 1 i64.rotl drop
  SECTION("unknown opcode") {
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({body(bytes({0x01, 0xFF})), good}), true);
    REQUIRE(module.ok);
    CHECK(module.functions == 2);
    CHECK(module.incomplete_functions == 1);
    CHECK(module.first_problem.find("unknown opcode 0xff") != std::string::npos);
    CHECK_FALSE(module.kept[0].complete);
    CHECK(module.kept[0].instructions == 2);  // the nop and the unknown byte
    CHECK(module.kept[1].complete);
    CHECK(module.kept[1].rotations64[1] == 1);
    const wasm::Fingerprint result = wasm::fingerprint(module);
    CHECK(result.ok);
    CHECK(result.incomplete_functions == 1);
    CHECK(result.summary.find("1 function only partly decoded") != std::string::npos);
  }
  SECTION("nesting deeper than the limit") {
    Bytes deep;
    for (std::uint32_t i = 0; i < wasm::kMaxNestingDepth + 1; ++i) deep += bytes({0x02, 0x40});
    for (std::uint32_t i = 0; i < wasm::kMaxNestingDepth + 1; ++i) deep += bytes({0x0B});
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({body(deep), good}));
    REQUIRE(module.ok);
    CHECK(module.incomplete_functions == 1);
    CHECK(module.first_problem.find("nested deeper than 1024") != std::string::npos);
    CHECK(module.instructions == wasm::kMaxNestingDepth + 1 + 5);  // blocks up to the limit, then `good`
  }
  SECTION("nesting at the limit is fine") {
    Bytes deep;
    for (std::uint32_t i = 0; i < wasm::kMaxNestingDepth; ++i) deep += bytes({0x03, 0x40});
    for (std::uint32_t i = 0; i < wasm::kMaxNestingDepth; ++i) deep += bytes({0x0B});
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({body(deep)}));
    REQUIRE(module.ok);
    CHECK(module.incomplete_functions == 0);
  }
  SECTION("locals over the limit, or a local count of 2^32-1") {
    const Bytes many = leb(2) + leb(wasm::kMaxLocals) + bytes({0x7F}) + leb(1) + bytes({0x7E, 0x0B});
    const Bytes absurd = leb(1) + leb(0xFFFFFFFFu) + bytes({0x7F, 0x0B});
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({many, absurd, good}));
    REQUIRE(module.ok);
    CHECK(module.incomplete_functions == 2);
    CHECK(module.first_problem.find("over 50000 locals") != std::string::npos);
  }
  SECTION("immediate running past the body, code after the final end, br_table count past the body") {
    const Bytes cut = bytes({0x00, 0x41, 0x80, 0x80});  // i32.const with a truncated LEB
    const Bytes after = bytes({0x00, 0x0B, 0x01});      // end, then a nop
    const Bytes table = bytes({0x00, 0x0E}) + leb(0xFFFFFFF0u) + bytes({0x0B});
    const Bytes overflow = bytes({0x00, 0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B});  // s32 overflows
    const wasm::ModuleProfile module = wasm::read_module(module_with_bodies({cut, after, table, overflow, good}));
    REQUIRE(module.ok);
    CHECK(module.incomplete_functions == 4);
    CHECK(module.functions == 5);
  }
}

TEST_CASE("malformed module framing is an error, never a crash", "[wasm]") {
  auto error_of = [](const Bytes& module) {
    const wasm::ModuleProfile profile = wasm::read_module(module);
    CHECK_FALSE(profile.ok);
    CHECK_FALSE(profile.error.empty());
    const wasm::Fingerprint result = wasm::fingerprint(module);
    CHECK_FALSE(result.ok);
    CHECK_FALSE(result.miner);
    CHECK(result.summary.find("Wasm not fingerprinted: ") == 0);
    return profile.error;
  };
  const Bytes type = section(1, bytes({1, 0x60, 0, 0}));
  CHECK(error_of("").find("shorter than the 8-byte Wasm header") != std::string::npos);
  CHECK(error_of("<html><body>not wasm</body></html>").find("no \\0asm magic") != std::string::npos);
  CHECK(error_of(bytes({0, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00})).find("version 0x0001000d") != std::string::npos);
  // Section size: LEB128 longer than 5 bytes, or overflowing 32 bits.
  CHECK(error_of(kHeader + bytes({1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})).find("longer than 5 bytes") !=
        std::string::npos);
  CHECK(error_of(kHeader + bytes({1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})).find("overflows 32 bits") != std::string::npos);
  CHECK(error_of(kHeader + bytes({1, 0x80})).find("runs past the end") != std::string::npos);
  // Section size beyond the end of the module.
  CHECK(error_of(kHeader + bytes({1, 0x20, 1, 0x60})).find("claims 32 bytes, only 2 remain") != std::string::npos);
  CHECK(error_of(kHeader + bytes({14, 0})).find("unknown section id 14") != std::string::npos);
  // Counts: 2^32-1 functions declared, or bodies; a count that cannot fit the section.
  CHECK(error_of(kHeader + type + section(3, leb(0xFFFFFFFFu))).find("4294967295 functions declared") !=
        std::string::npos);
  CHECK(error_of(kHeader + type + section(10, leb(0xFFFFFFFFu))).find("4294967295 function bodies") !=
        std::string::npos);
  CHECK(error_of(kHeader + type + section(10, leb(1000) + bytes({2, 0, 0x0B}))).find("cannot fit") !=
        std::string::npos);
  CHECK(error_of(kHeader + type + section(2, leb(0xFFFFFFFFu))).find("imports, over the limit") != std::string::npos);
  // A body claiming more bytes than its section holds.
  CHECK(error_of(kHeader + type + section(3, bytes({1, 0})) + section(10, bytes({1, 0x7F, 0, 0x0B})))
            .find("claims 127 bytes") != std::string::npos);
  // Sections out of order or repeated; declared functions without bodies.
  const Bytes code = section(10, bytes({1, 2, 0, 0x0B}));
  CHECK(error_of(kHeader + type + section(3, bytes({1, 0})) + code + code).find("out of order or repeated") !=
        std::string::npos);
  CHECK(error_of(kHeader + code + type).find("out of order") != std::string::npos);
  CHECK(error_of(kHeader + type + section(3, bytes({2, 0, 0})) + code).find("declares 2 functions") !=
        std::string::npos);
  CHECK(error_of(kHeader + type + section(3, bytes({1, 0}))).find("(no code section)") != std::string::npos);
  // Too large to fingerprint.
  CHECK(error_of(kHeader + Bytes(wasm::kMaxModuleBytes, '\0')).find("over the limit") != std::string::npos);
}

TEST_CASE("a module truncated at every byte offset is an error or a consistent partial profile", "[wasm]") {
  const std::string module = read_fixture("miner.wasm");
  REQUIRE(module.size() > 1000);
  const wasm::ModuleProfile full = wasm::read_module(module);
  REQUIRE(full.ok);
  int errors = 0;
  for (std::size_t length = 0; length < module.size(); ++length) {
    const wasm::ModuleProfile profile = wasm::read_module(std::string_view(module).substr(0, length));
    if (!profile.ok) {
      ++errors;
      REQUIRE_FALSE(profile.error.empty());
      continue;
    }
    // Only a cut exactly between sections leaves a valid module, and it holds a prefix of the code.
    REQUIRE(profile.instructions <= full.instructions);
  }
  CHECK(errors >= static_cast<int>(module.size()) - 16);
}

TEST_CASE("random corruption of fixtures never crashes and never throws", "[wasm]") {
  std::mt19937 random(20181015);  // fixed: the test is deterministic
  for (const char* name : {"miner.wasm", "image_filter.wasm", "cn_final_hashes.wasm", "chess.wasm"}) {
    const std::string original = read_fixture(name);
    REQUIRE(!original.empty());
    for (int trial = 0; trial < 300; ++trial) {
      std::string module = original;
      const int flips = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < flips; ++i) module[random() % module.size()] = static_cast<char>(random() & 0xFF);
      wasm::Fingerprint result;
      REQUIRE_NOTHROW(result = wasm::fingerprint(module));
      CHECK(result.score >= 0.0);
      CHECK(result.score <= 1.0);
      if (!result.ok) CHECK_FALSE(result.miner);
    }
  }
}

TEST_CASE("the miner decision: three distinct primitives and a crypto density floor", "[wasm]") {
  // A profile is edited by hand to walk the decision table without building modules.
  struct Row {
    std::vector<double> best;   // best score per primitive, in Primitive order
    std::uint64_t crypto, all;  // bitwise/shift/rotate instructions, all instructions
    bool miner;
    int distinct;
  };
  const std::vector<Row> table = {
      {{1, 1, 1, 0, 0, 0}, 300, 1000, true, 3},      // three primitives, dense
      {{1, 1, 0.74, 0, 0, 0}, 300, 1000, false, 2},  // the third just under kPrimitiveMatchScore
      {{1, 1, 0.75, 0, 0, 0}, 300, 1000, true, 3},   // ... and at it
      {{1, 1, 1, 1, 1, 1}, 99, 1000, false, 6},      // all six, but 9.9% density: a big app linking crypto
      {{1, 1, 1, 1, 1, 1}, 100, 1000, true, 6},      // 10%
      {{0, 0, 1, 0, 0, 0}, 500, 1000, false, 1},     // one hash, however dense
  };
  for (const Row& row : table) {
    wasm::ModuleProfile profile;
    profile.ok = true;
    for (std::size_t p = 0; p < wasm::kPrimitiveCount; ++p) profile.best[p].score = row.best[p];
    profile.instructions = row.all;
    profile.operations[static_cast<std::size_t>(Operation::i64_xor)] = row.crypto;
    const wasm::Fingerprint result = wasm::fingerprint(profile);
    INFO(result.summary);
    CHECK(result.miner == row.miner);
    CHECK(result.distinct_primitives == row.distinct);
  }
}

TEST_CASE("fingerprints are deterministic and kept profiles are bounded", "[wasm]") {
  const std::string module = read_fixture("miner.wasm");
  const wasm::Fingerprint first = wasm::fingerprint(module), second = wasm::fingerprint(module);
  CHECK(first.summary == second.summary);
  CHECK(first.score == second.score);

  std::vector<Bytes> bodies(wasm::kMaxKeptFunctions + 10, body(""));
  const wasm::ModuleProfile many = wasm::read_module(module_with_bodies(bodies), true);
  REQUIRE(many.ok);
  CHECK(many.functions == wasm::kMaxKeptFunctions + 10);
  CHECK(many.kept.size() == wasm::kMaxKeptFunctions);
  CHECK(many.functions_not_kept == 10);
  CHECK(wasm::read_module(module_with_bodies(bodies)).kept.empty());
}
