// tests/support/pool_messages.hpp — the bytes mining pools exchange, built for tests: CryptoNote
// hashing blobs (what a job carries) and difficulty-meeting hashes (what a share carries), with
// deterministic pseudo-random content so a test's input is the same on every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace test_support {

// Deterministic bytes (xorshift32 from `seed`, never all equal).
std::string pseudo_random_bytes(std::size_t count, std::uint32_t seed);
std::string to_hex(std::string_view bytes);

struct BlobFields {
  std::uint8_t major_version = 16;  // Monero's current
  std::uint8_t minor_version = 16;
  std::uint64_t timestamp = 1'700'000'000;  // 2023-11-14
  std::uint32_t nonce = 0;                  // a pool leaves it to the miner
  std::uint32_t transactions = 7;
  std::uint32_t seed = 1;  // previous id and merkle root
};
// A CryptoNote hashing blob: versions, 5-byte varint timestamp, previous id, nonce, merkle root,
// transaction count (76 bytes with the defaults).
std::string hashing_blob(const BlobFields& fields = {});
std::string hashing_blob_hex(const BlobFields& fields = {});
// A 32-byte hash whose last (most significant) byte is zero: it meets a difficulty of 256.
std::string share_hash(std::uint32_t seed);

}  // namespace test_support
