// The Wasm fingerprint over the corpus of builds (tests/fixtures/wasm/builds): nine CryptoNight
// miners and eleven benign compute kernels, each by clang and emscripten at -O1 -O2 -O3 -Os -Oz.
// Every miner build shows CryptoNight's core (Keccak, AES and the scratchpad loop) and no benign
// build is a miner — the AES-GCM library with the very same T-tables, the Argon2 and scrypt
// password hashers, the hashcash captcha, the codecs and the chess engine included. And the
// specification constants alone: each signature on its own, with its look-alikes.
#include <catch2/catch.hpp>

#include <algorithm>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "blacklist/wasm.hpp"
#include "blacklist/wasm_signatures.hpp"

namespace {

const std::string kBuilds = std::string(CJCRAWL_SOURCE_DIR) + "/tests/fixtures/wasm/builds/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

struct Build {
  std::string file;
  bool miner = false;
};

std::vector<Build> manifest() {
  std::vector<Build> out;
  std::ifstream in(kBuilds + "MANIFEST.tsv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    out.push_back({line.substr(0, tab), line.compare(tab + 1, 5, "miner") == 0});
  }
  return out;
}

std::string little_endian64(std::uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  return out;
}

}  // namespace

TEST_CASE("every miner build in the corpus shows CryptoNight's core, and no benign build is a miner",
          "[wasm][corpus]") {
  const auto builds = manifest();
  REQUIRE(builds.size() == 210);
  int miners = 0;
  for (const auto& build : builds) {
    INFO(build.file);
    const auto print = blacklist::wasm::fingerprint(read_file(kBuilds + build.file));
    INFO(print.summary);
    REQUIRE(print.ok);
    CHECK(print.miner == build.miner);
    CHECK(print.cryptonight_core == build.miner);
    miners += build.miner ? 1 : 0;
    // Every miner carries JH (the spec's C0 and S-boxes, or the bit-sliced round constants); the
    // build with Monero's table-driven Groestl shows Groestl by its T-table. (The byte-form Groestl
    // of the other miners is AES's S-box and arithmetic: nothing tells it from AES.)
    const auto has = [&](const char* primitive) {
      return std::find(print.primitives.begin(), print.primitives.end(), primitive) != print.primitives.end();
    };
    if (build.miner) CHECK(has("jh"));
    if (build.file.starts_with("cn_monero.")) CHECK(has("groestl"));
    if (!build.miner) CHECK_FALSE((has("groestl") || has("jh")));
  }
  CHECK(miners == 100);
}

TEST_CASE("specification constants are found wherever they sit, and their look-alikes are not", "[wasm][corpus]") {
  using namespace blacklist::wasm;
  SECTION("Keccak: the round-constant table in data, or its distinctive constants in code") {
    Signatures data;
    scan_data("prefix" + little_endian64(1) + little_endian64(0x8082) + little_endian64(0x800000000000808AULL) +
                  little_endian64(0x8000000080008000ULL),
              data);
    CHECK(data.keccak_table);
    Signatures code;
    for (std::int64_t value : {0x1, 0x8082, 0x88}) note_i64_constant(value, code);  // everyday numbers: not counted
    CHECK(code.keccak_constants_seen() == 0);
    note_i64_constant(static_cast<std::int64_t>(0x800000000000808AULL), code);
    note_i64_constant(static_cast<std::int64_t>(0x8000000080008000ULL), code);
    CHECK(code.keccak_constants_seen() == 2);
  }
  SECTION("AES: the S-box and any rotation of a T-table in either byte order") {
    Signatures sbox;
    scan_data(std::string("\x63\x7c\x77\x7b\xf2\x6b\x6f\xc5\x30\x01\x67\x2b\xfe\xd7\xab\x76", 16), sbox);
    CHECK(sbox.aes_sbox);
    Signatures te3;
    scan_data(std::string("\x63\x63\xa5\xc6\x7c\x7c\x84\xf8", 8), te3);
    CHECK(te3.aes_tables);
    Signatures half;
    scan_data(std::string("\x63\x63\xa5\xc6", 4), half);  // one word is not a table
    CHECK_FALSE(half.aes_tables);
  }
  SECTION("BLAKE's π words are Blowfish's too: Blowfish's S-box word tells them apart") {
    Signatures blake;
    for (std::uint32_t word :
         {0x243F6A88u, 0x85A308D3u, 0x13198A2Eu, 0x03707344u, 0xA4093822u, 0x299F31D0u, 0x082EFA98u, 0xEC4E6C89u})
      note_i32_constant(static_cast<std::int32_t>(word), blake);
    CHECK(blake.blake_words_seen() == 8);
    CHECK_FALSE(blake.blowfish);
    note_i32_constant(static_cast<std::int32_t>(0xD1310BA6u), blake);
    CHECK(blake.blowfish);
  }
  SECTION("Skein: Threefish's parity constant, in code or in data") {
    Signatures code;
    note_i64_constant(0x1BD11BDAA9FC1A22LL, code);
    CHECK(code.skein_parity);
    Signatures data;
    scan_data(little_endian64(0x1BD11BDAA9FC1A22ULL), data);
    CHECK(data.skein_parity);
  }
  SECTION("Groestl: a T-table in 64-bit entries or 32-bit halves, never an AES T-table") {
    Signatures monero_layout;  // GROESTL_T[0..3]: 0xa5f432c6, 0xc6a597f4, 0x84976ff8, 0xf884eb97 (LE words)
    scan_data(std::string("\xc6\x32\xf4\xa5\xf4\x97\xa5\xc6\xf8\x6f\x97\x84\x97\xeb\x84\xf8", 16), monero_layout);
    CHECK(monero_layout.groestl_tables);
    CHECK_FALSE(monero_layout.aes_tables);
    Signatures aes;
    scan_data(std::string("\xa5\x63\x63\xc6\x84\x7c\x7c\xf8", 8), aes);
    CHECK(aes.aes_tables);
    CHECK_FALSE(aes.groestl_tables);
  }
  SECTION("JH: C0 past SHA-512's first word, the bit-sliced round constants, in data or code") {
    Signatures sha512_iv;  // SHA-512's IV starts with the same 64 bits of sqrt(2), then sqrt(3)'s
    scan_data(little_endian64(0x08c9bcf367e6096aULL) + little_endian64(0x3ba7ca8485ae67bbULL), sha512_iv);
    note_i64_constant(0x6a09e667f3bcc908LL, sha512_iv);
    CHECK_FALSE(sha512_iv.jh_table);
    CHECK(sha512_iv.jh_words_seen() == 0);
    Signatures c0;
    scan_data(std::string("\x6a\x09\xe6\x67\xf3\xbc\xc9\x08\xb2\xfb\x13\x66\xea\x95\x7d\x3e", 16), c0);
    CHECK(c0.jh_table);
    Signatures bitsliced;
    scan_data(std::string("\x72\xd5\xde\xa2\xdf\x15\xf8\x67\x7b\x84\x15\x0a\xb7\x23\x15\x57", 16), bitsliced);
    CHECK(bitsliced.jh_table);
    Signatures code;
    note_i64_constant(static_cast<std::int64_t>(0x67f815dfa2ded572ULL), code);
    CHECK(code.jh_words_seen() == 1);
    note_i64_constant(static_cast<std::int64_t>(0x571523b70a15847bULL), code);
    CHECK(code.jh_words_seen() == 2);
  }
  SECTION("scratchpad masks: 16-byte blocks of a 128 KiB to 4 MiB pad, nothing else") {
    for (std::int64_t mask : {0x1FFF0, 0x3FFF0, 0xFFFF0, 0x1FFFF0, 0x3FFFF0}) CHECK(is_scratchpad_mask(mask));
    for (std::int64_t other : {0xFFF0, 0x1FFFF, 0x1FFFF8, 0xFF, 0x7FFFFFF0, 0x1FFFFF})
      CHECK_FALSE(is_scratchpad_mask(other));
  }
}
