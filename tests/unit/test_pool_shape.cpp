// Pool traffic recognised by its content, under any framing: hashing blobs received, difficulty-
// meeting hashes sent, in hex, base64 or raw bytes — and the benign look-alikes that are not.
#include <catch2/catch.hpp>

#include "blacklist/pool_shape.hpp"
#include "tests/support/pool_messages.hpp"
#include "util/encoding.hpp"

using blacklist::examine_pool_shape;
using blacklist::parse_hashing_blob;
using blacklist::ShapeEncoding;
using test_support::BlobFields;
using test_support::hashing_blob;
using test_support::hashing_blob_hex;
using test_support::pseudo_random_bytes;
using test_support::share_hash;
using test_support::to_hex;

namespace {

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace

TEST_CASE("a hashing blob is a job in hex, base64 or raw bytes, under any key names", "[pool][shape]") {
  const std::string blob = hashing_blob();
  REQUIRE(blob.size() == blacklist::kMinBlobBytes);
  CHECK(parse_hashing_blob(blob, true) == blob.size());

  const auto hex = examine_pool_shape(R"({"w":{"b":")" + to_hex(blob) + R"(","t":"ffffff00","i":9}})", true, false);
  CHECK(hex.job);
  CHECK(hex.encoding == ShapeEncoding::hex);
  CHECK(hex.blob_bytes == blob.size());

  const auto text_line = examine_pool_shape("J " + to_hex(blob) + " 00ffffff 7\n", true, false);
  CHECK(text_line.job);  // a custom line format

  const auto b64 = examine_pool_shape(R"({"data":")" + base64(blob) + R"("})", true, false);
  CHECK(b64.job);
  CHECK(b64.encoding == ShapeEncoding::base64);

  // A binary framing: a made-up header, the blob, a target and a job id after it.
  const std::string frame = std::string("\x02\x00\x4c\x13", 4) + blob + std::string("\xff\xff\xff\x00\x2a", 5);
  const auto binary = examine_pool_shape(frame, false, false);
  CHECK(binary.job);
  CHECK(binary.encoding == ShapeEncoding::binary);

  // Other CryptoNote coins: other versions, bigger blobs (more transactions), a nicehash nonce byte.
  BlobFields other;
  other.major_version = 7;
  other.minor_version = 7;
  other.transactions = 300;
  other.nonce = 0xAB000000;
  CHECK(examine_pool_shape(hashing_blob(other), false, false).job);
  CHECK(examine_pool_shape(hashing_blob_hex(other), true, false).job);
}

TEST_CASE("a job is read only where a pool sends it: received, never sent", "[pool][shape]") {
  CHECK_FALSE(examine_pool_shape(hashing_blob_hex(), true, true).job);
  CHECK_FALSE(examine_pool_shape(hashing_blob(), false, true).job);
}

TEST_CASE("look-alikes of a blob are not jobs", "[pool][shape]") {
  SECTION("random hex of a blob's length (what our older fake pools send)") {
    CHECK_FALSE(examine_pool_shape(R"({"blob":")" + std::string(152, 'a') + R"("})", true, false).job);
    for (std::uint32_t seed = 1; seed <= 200; ++seed)
      CHECK_FALSE(examine_pool_shape(to_hex(pseudo_random_bytes(120, seed)), true, false).job);
  }
  SECTION("random and compressed-looking binary, 1 MiB in all, at every offset") {
    for (std::uint32_t seed = 1; seed <= 16; ++seed)
      CHECK_FALSE(examine_pool_shape(pseudo_random_bytes(64 * 1024, seed), false, false).job);
  }
  SECTION("a blob whose fields are out of range") {
    BlobFields old_time;
    old_time.timestamp = 1'000'000'000;  // 2001: before any CryptoNote coin
    CHECK_FALSE(examine_pool_shape(hashing_blob_hex(old_time), true, false).job);
    BlobFields no_transactions;
    no_transactions.transactions = 0;
    CHECK_FALSE(examine_pool_shape(hashing_blob_hex(no_transactions), true, false).job);
    BlobFields big_version;
    big_version.major_version = 200;  // would be a two-byte varint
    CHECK_FALSE(examine_pool_shape(hashing_blob_hex(big_version), true, false).job);
  }
  SECTION("in binary, a blob whose nonce the pool has not left to the miner") {
    BlobFields filled;
    filled.nonce = 0x12345678;
    CHECK_FALSE(examine_pool_shape(hashing_blob(filled), false, false).job);
    CHECK(examine_pool_shape(hashing_blob_hex(filled), true, false).job);  // in text, the run is delimited
  }
  SECTION("truncated blobs") {
    const std::string blob = hashing_blob();
    for (std::size_t cut = 0; cut < blob.size(); cut += 5) {
      CHECK_FALSE(examine_pool_shape(blob.substr(0, cut), false, false).job);
      CHECK_FALSE(examine_pool_shape(to_hex(blob.substr(0, cut)), true, false).job);
    }
  }
}

TEST_CASE("a share is a sent hash that meets a difficulty, in hex, base64 or bytes", "[pool][shape]") {
  const std::string hash = share_hash(3);
  const auto hex = examine_pool_shape(R"({"n":"0a0b0c0d","r":")" + to_hex(hash) + R"("})", true, true);
  CHECK(hex.share);
  CHECK(hex.encoding == ShapeEncoding::hex);
  CHECK(examine_pool_shape("S 7 0a0b0c0d " + base64(hash), true, true).share);
  const std::string frame = std::string("\x03\x2a\x0d\x0c\x0b\x0a", 6) + hash;
  CHECK(examine_pool_shape(frame, false, true).share);

  SECTION("received, it is not a share") { CHECK_FALSE(examine_pool_shape(to_hex(hash), true, false).share); }
  SECTION("a hash that does not meet difficulty 256 (a SHA-256 of some text, a commit id)") {
    std::string plain = pseudo_random_bytes(32, 5);
    plain.back() = '\x17';
    CHECK_FALSE(examine_pool_shape(to_hex(plain), true, true).share);
    CHECK_FALSE(examine_pool_shape(plain, false, true).share);
  }
  SECTION("zeros and counters are not hashes") {
    CHECK_FALSE(examine_pool_shape(std::string(64, '0'), true, true).share);
    std::string counter;
    for (int i = 0; i < 31; ++i) counter.push_back(static_cast<char>(i % 4));
    counter.push_back('\0');
    CHECK_FALSE(examine_pool_shape(counter, false, true).share);
  }
  SECTION("a large binary message is not read for shares") {
    CHECK_FALSE(examine_pool_shape(pseudo_random_bytes(600, 1) + hash, false, true).share);
  }
}

TEST_CASE("a channel is confirmed only with jobs received and shares sent", "[pool][shape]") {
  blacklist::PoolShapeStats stats;
  stats.add(examine_pool_shape(to_hex(share_hash(1)), true, true));
  CHECK_FALSE(stats.confirmed());
  stats.add(examine_pool_shape(hashing_blob(), false, false));
  CHECK(stats.confirmed());
  CHECK(stats.encoding == ShapeEncoding::binary);
  CHECK(stats.jobs == 1);
  CHECK(stats.shares == 1);
}

TEST_CASE("hostile messages never crash the shape reader", "[pool][shape]") {
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    const auto bytes = pseudo_random_bytes(seed * 7 % 2000, seed);
    (void)examine_pool_shape(bytes, true, seed % 2 == 0);
    (void)examine_pool_shape(bytes, false, seed % 2 == 0);
  }
  const std::string huge(2 * blacklist::kMaxShapeBytes, 'f');
  CHECK_FALSE(examine_pool_shape(huge, true, false).job);
  CHECK_FALSE(examine_pool_shape(huge, true, true).share);
}
