// blacklist/pool_protocol.hpp — recognises mining-pool protocols in WebSocket text frames, whatever
// the host: the shape of the messages survives proxies, relays and fresh domains, where blacklists
// do not. Pure: a frame's text in, what kind of pool message it is out; no I/O, no allocation beyond
// one bounded JSON parse per frame.
//
// Recognised (a message must have the documented shape, a verb alone is never enough, and must
// travel in the direction the protocol sends it; anything else is {none, none}):
//
//   coinhive-style (also CryptoLoot, deepMiner and other clones): {"type": T, "params": {...}}
//     sent      auth           params.site_key a non-empty string                       → login
//     received  authed         params.hashes a non-negative integer                     → login
//     received  job            params is a well-formed job (below)                      → job
//     sent      submit         params is a well-formed share (below)                    → submit
//     received  hash_accepted  params.hashes a non-negative integer                     → accepted
//   webminerpool (notgiven688/webminerpool): {"identifier": I, ...} with the fields at top level
//     sent      handshake      a non-empty string login or loginid                      → login
//     received  job            the object itself is a well-formed job                   → job
//     sent      solved         the object itself is a well-formed share                 → submit
//     received  hashsolved     (nothing else is required: the server sends only this)   → accepted
//   stratum JSON-RPC, Monero flavour (xmrig, WebSocket-to-stratum proxies): needs an "id" unless
//   it is a notification ("method" "job")
//     sent      method login       params.login a non-empty string                      → login
//     received  method job         params is a well-formed job                          → job
//     received  result.job         the login reply, result.job well-formed, error null  → job
//     sent      method submit      params is a well-formed share                        → submit
//     received  result.status OK   error null/absent                                    → accepted
//     sent      method keepalived                                                       → keepalive
//     received  result.status KEEPALIVED                                                → keepalive
//
//   A well-formed job:   blob   hex, even length, kMinBlobHexChars..kMaxBlobHexChars
//                        target hex, 8 or 16 characters (compact 32- or 64-bit target)
//                        job_id a non-empty string of at most kMaxJobIdChars, or an integer ≥ 0
//   A well-formed share: nonce  hex, exactly 8 characters (4 bytes)
//                        result hex, exactly 64 characters (a 32-byte hash)
//                        job_id as for a job
//   Hex accepts either case. Extra fields are ignored; missing or mistyped required ones are not.
//
// Limits: frames over kMaxPoolFrameBytes are not parsed (`PoolMessage::oversize`), nor frames whose
// brackets nest deeper than kMaxPoolFrameDepth (pool messages nest three levels; this also bounds
// the parser). Only a single JSON object per frame is recognised: arrays (JSON-RPC batches) and
// several newline-separated objects in one frame are not. Binary frames are not pool frames here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "blacklist/evidence.hpp"

namespace blacklist {

inline constexpr std::size_t kMaxPoolFrameBytes = 64 * 1024;  // larger frames are not parsed
inline constexpr int kMaxPoolFrameDepth = 16;                 // deeper nesting is not parsed
inline constexpr std::size_t kMinBlobHexChars = 76;           // 38 bytes; Monero's blob is 76 bytes
inline constexpr std::size_t kMaxBlobHexChars = 4096;         // 2 KB, generous for merge-mined coins
inline constexpr std::size_t kMaxJobIdChars = 256;

enum class PoolProtocol { none, coinhive, webminerpool, stratum };

enum class PoolMessageKind { none, login, job, submit, accepted, keepalive };

std::string to_string(PoolProtocol protocol);
std::string to_string(PoolMessageKind kind);

// What one frame was. {none, none} for anything that is not a recognised pool message.
struct PoolMessage {
  PoolProtocol protocol = PoolProtocol::none;
  PoolMessageKind kind = PoolMessageKind::none;
  bool oversize = false;  // not examined: over kMaxPoolFrameBytes (protocol and kind are none)

  friend bool operator==(const PoolMessage&, const PoolMessage&) = default;
};

// `payload`: the whole text of one text frame (opcode 1), as CDP's payloadData gives it. A truncated
// prefix does not parse and so is not recognised. `sent`: true for page → server frames.
// Never throws on any input.
PoolMessage classify_pool_frame(std::string_view payload, bool sent);

// Per-socket tally of classified frames.
//
// confirmed(): at least one well-formed job received, or at least one well-formed share submitted.
// Either one means a pool is handing this page work or receiving its hashes: the shapes above (a
// hex blob of 38+ bytes with a compact hex target under a pool verb, inbound; or an 8-hex nonce
// with a 32-byte hex hash under a submit verb, outbound) do not occur in benign traffic. It does not
// wait for a submit, because a throttled miner may take many seconds to find its first share, and
// it does not need a login, because the login may precede instrumentation. A login, an
// acknowledgement or a keepalive alone never confirms: a page greeting a dead pool shows intent but
// is not mining, and these messages carry little shape.
struct PoolSocketStats {
  PoolProtocol protocol = PoolProtocol::none;  // of the first recognised message
  bool mixed_protocols = false;                // a later message was of another protocol
  std::uint64_t frames = 0;                    // every frame added, recognised or not
  std::uint64_t skipped_frames = 0;            // not examined: oversize, or (tally) binary or truncated
  std::uint64_t logins = 0;                    // login requests sent plus login acknowledgements received
  std::uint64_t jobs = 0;                      // well-formed jobs received
  std::uint64_t submits = 0;                   // well-formed shares sent
  std::uint64_t accepted = 0;                  // shares acknowledged by the pool
  std::uint64_t keepalives = 0;                // keepalive requests and their replies

  void add(const PoolMessage& message);
  bool confirmed() const;
};

// Classifies the stored frames of one socket. Binary frames and frames stored truncated
// (payload shorter than length) are counted in skipped_frames, not examined. The record holds only
// the first frames of a busy socket, so the counts are lower bounds.
PoolSocketStats tally_pool_frames(const WebSocketRecord& socket);

}  // namespace blacklist
