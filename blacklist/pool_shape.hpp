// blacklist/pool_shape.hpp — recognises mining-pool traffic by what it carries, not by what its
// fields are called: a pool hands out CryptoNote *hashing blobs* and receives *hashes that meet a
// difficulty*. Both have a structure that benign traffic does not have, whatever the channel
// (WebSocket text or binary frames, HTTP request and response bodies, server-sent events) and
// whatever the framing (JSON under any key names, a custom text format, raw bytes).
//
// A hashing blob (the CryptoNote block-header blob a pool sends as a job; the same layout for
// CryptoNight and RandomX coins) is, in order:
//   major version   varint, 1..kMaxBlobVersion (one byte)
//   minor version   varint, 0..kMaxBlobVersion (one byte)
//   timestamp       varint of exactly 5 bytes, a Unix time in [kMinBlobTime, kMaxBlobTime)
//   previous id     32 bytes (a hash: at least kMinHashDistinctBytes distinct values)
//   nonce           4 bytes (the miner's; a pool leaves at least 3 of them zero)
//   merkle root     32 bytes (a hash, as above)
//   tx count        varint, 1..kMaxBlobTransactions
// That is 76 bytes at least. In text it is read from a hex run (152+ characters) or a base64 run
// (102+ characters), from the start of the run; in binary at every offset, and there the nonce rule
// is required (a pool's job leaves the nonce to the miner), which makes a chance match in random
// bytes vanishingly rare (about 2^-40 per offset).
//
// A share is a sent 32-byte hash whose most significant byte (the last, CryptoNote hashes compare
// as little-endian numbers) is zero — every share meets a difficulty of at least 256, and pools
// never hand browsers less — and whose first 24 bytes look like a hash. In text: a run of exactly 64
// hex characters or a 43/44-character base64 run. In binary: any 32-byte window of a message of at
// most kMaxShareMessageBytes. A share alone is weak (1 in 256 random hashes ends in a zero byte); it
// counts towards a channel that also received a job.
//
// Pure: bytes in, counts out; no allocation beyond one decoded run of at most kMaxDecodedBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace blacklist {

inline constexpr std::size_t kMaxShapeBytes = 64 * 1024;         // longer messages: the first bytes only
inline constexpr std::size_t kMaxDecodedBytes = 4096;            // one decoded hex/base64 run, at most
inline constexpr std::size_t kMinBlobBytes = 76;                 // the smallest CryptoNote hashing blob
inline constexpr std::uint64_t kMaxBlobVersion = 32;             // Monero is at 16; forks count higher
inline constexpr std::uint64_t kMinBlobTime = 1'388'534'400;     // 2014-01-01, before CryptoNote coins
inline constexpr std::uint64_t kMaxBlobTime = 2'524'608'000;     // 2050-01-01
inline constexpr std::uint64_t kMaxBlobTransactions = 1u << 20;  // a block holds far fewer
inline constexpr int kMinHashDistinctBytes = 16;                 // of 32 (24 for a share's head)
inline constexpr std::size_t kMaxShareMessageBytes = 512;        // larger binary messages are no share

// How the finding was encoded in the message.
enum class ShapeEncoding { none, hex, base64, binary };
std::string to_string(ShapeEncoding encoding);

struct ShapeFinding {
  bool job = false;    // a hashing blob, in a received message
  bool share = false;  // a difficulty-meeting hash, in a sent message
  ShapeEncoding encoding = ShapeEncoding::none;
  std::size_t blob_bytes = 0;  // the blob's parsed length (job only)
};

// Whether `bytes` start with a CryptoNote hashing blob; returns its length, or 0. With
// `require_pool_nonce`, at least 3 of the 4 nonce bytes must be zero.
std::size_t parse_hashing_blob(std::string_view bytes, bool require_pool_nonce);
// Whether 32 bytes are a hash that meets a difficulty of at least 256.
bool is_share_hash(std::string_view hash32);

// `text`: the message is text (WebSocket opcode 1, a text body); otherwise raw bytes. Only the
// direction a pool sends each part in is examined: jobs received, shares sent. Never throws.
ShapeFinding examine_pool_shape(std::string_view message, bool text, bool sent);

// The tally of one channel (a socket, an HTTP endpoint).
struct PoolShapeStats {
  std::uint64_t jobs = 0;
  std::uint64_t shares = 0;
  ShapeEncoding encoding = ShapeEncoding::none;  // of the first job

  void add(const ShapeFinding& finding);
  // Work handed out and hashes sent back on the same channel.
  bool confirmed() const { return jobs > 0 && shares > 0; }
};

}  // namespace blacklist
