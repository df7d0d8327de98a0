// Loopback HTTP + WebSocket server for the browser tests and the demo: serves the fixture sites
// from a docroot and plays fake mining pools in three protocols (coinhive-style, webminerpool,
// stratum JSON-RPC) and a benign chat socket. It binds only on 127.0.0.0/8 and runs on its own
// thread until destroyed.
//
// Contract:
// - The constructor binds and listens before it returns (so `port()` is valid at once) and throws
//   std::invalid_argument for a non-loopback bind address or a docroot that is not a directory,
//   and boost::system::system_error if the port cannot be bound.
// - The destructor closes the listener and every live connection, stops the thread and joins it.
//   It never throws and never waits on a client.
// - `stats()` may be called from any thread. The server never asserts; tests assert on snapshots.
//
// Routes (any Host header; fixture hosts are mapped to 127.0.0.1 by the browser):
//   GET/HEAD /PATH      static file under docroot ("/" and directories serve index.html);
//                       `{{PORT}}` in .html .js .css .json is replaced by the server's port;
//                       every file carries an ETag; a matching If-None-Match gets 304 and no body;
//                       every response carries `Cache-Control: no-store`.
//   /ws/pool            WebSocket fake pool, coinhive-style: auth -> authed + job;
//                       submit -> hash_accepted + job.
//   /ws/relay           the same coinhive-style pool behind an innocuous name (for the obfuscated
//                       fixture: only the protocol gives it away); counted separately.
//   /ws/wmp             WebSocket fake pool, webminerpool protocol: handshake -> job;
//                       solved -> hashsolved (the job stays valid, as webminerpool does).
//   /ws/stratum         WebSocket fake pool, Monero stratum JSON-RPC: login -> result {id, job,
//                       status OK}; submit -> result {status OK} + a "job" notification;
//                       keepalived -> result {status KEEPALIVED}.
//   /ws/binary-pool     WebSocket fake pool in a binary framing of its own (checking_pool.hpp):
//                       hello 0x00 -> job 0x01 (id, target, a real-shaped 76-byte blob);
//                       share 0x02 (id, nonce, 32-byte result) -> verdict 0x03 + a new job. Shares
//                       are checked with real CryptoNight-pico: a fixture miner must really hash.
//   /ws/scrambled-pool  the binary pool's framing and checks, with every frame in both directions
//                       XORed with a keystream (byte i ^= (0x5A + 31 i) mod 256, i counted within
//                       the frame): no hashing blob and no hash travels in clear; binary frames.
//   GET /pool-api/work  an HTTP pool in a line format of its own: "J ID BLOBHEX TARGETHEX";
//   POST /pool-api/result "S ID NONCEHEX RESULTHEX" -> "OK N" or "REJECT why"; shares checked
//                       as above.
//   /ws/echo            WebSocket chat: echoes every message.
//   /ws/flood           WebSocket flood (hostile fixture): on connect, kFloodFrames small text frames
//                       as fast as the client reads them, then a normal close; anything read is ignored.
//   A fake pool answers a message it cannot use (not JSON, unknown verb, share before login) with
//   its protocol's error message and counts it in pool_errors_sent; it never closes on one.
//   Jobs carry a 152-hex-character blob, a job id and the target "ffffff00".
//   /hang               reads the request and never answers (until the client or server closes,
//                       at most kHangLimit).
//   /redirect-loop      302 to itself.
//   GET /redirect-to?url=URL
//                       302 with Location: URL, percent-decoded (%XX only; '+' stays '+'), wherever it
//                       points (the egress tests' redirects to a loopback canary); 400 when the query has
//                       no `url` parameter, or it is malformed or decodes to a control character.
//   /slow               a short text/plain answer, kSlowDelay after the request (holds a page's load).
//   /once-unavailable/FILE?KEY
//                       503 the first time each full target (path and query) is asked for, FILE
//                       from the docroot every later time (a script that fails to load once).
//   /status/404         an HTML 404 page.
//   /generated/big-script.js
//                       a valid script of exactly kBigScriptBytes, generated while it is sent (never
//                       held in memory): one statement, then comment filler.
//   /download           a forced download: application/octet-stream with Content-Disposition: attachment.
//   /download-html      an HTML page (one that would spin a core) sent as an attachment: a download.
//   /no-content         HTTP 204, no body.
//   anything else       404 (also for `..`, NUL, absolute or escaping paths).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace testsupport {

// Limits, all enforced per connection or per server.
inline constexpr std::size_t kMaxConnections = 256;                  // live sockets at once; more are closed on accept
inline constexpr std::uint32_t kMaxRequestHeaderBytes = 16 * 1024;   // Beast parser header limit
inline constexpr std::uint64_t kMaxRequestBodyBytes = 64 * 1024;     // GET bodies are not expected
inline constexpr std::size_t kMaxWsMessageBytes = 1024 * 1024;       // WebSocket read_message_max
inline constexpr std::uintmax_t kMaxFileBytes = 16 * 1024 * 1024;    // larger files get a 500
inline constexpr std::size_t kMaxDistinctPaths = 1024;               // keys kept in Stats::requests_by_path
inline constexpr std::chrono::seconds kHttpIdleTimeout{30};          // per HTTP read or write
inline constexpr std::chrono::minutes kHangLimit{10};                // /hang gives up after this
inline constexpr std::chrono::seconds kSlowDelay{4};                 // /slow answers after this
inline constexpr std::size_t kMaxOnceUnavailableKeys = 4096;         // /once-unavailable targets remembered
inline constexpr std::uint64_t kFloodFrames = 100'000;               // frames /ws/flood sends per connection
inline constexpr std::uint64_t kBigScriptBytes = 50u * 1024 * 1024;  // size of /generated/big-script.js
inline constexpr std::size_t kDownloadBytes = 256 * 1024;            // body of /download

class FixtureServer {
 public:
  // A consistent snapshot of the server's counters.
  struct Stats {
    std::uint64_t http_requests = 0;               // HTTP requests parsed, WebSocket upgrades included
    std::uint64_t pool_connections = 0;            // accepted /ws/pool WebSocket handshakes
    std::uint64_t pool_auths = 0;                  // "auth" messages answered with "authed"
    std::uint64_t pool_jobs_sent = 0;              // "job" messages sent
    std::uint64_t pool_submits = 0;                // "submit" messages answered with "hash_accepted"
    std::uint64_t relay_connections = 0;           // /ws/relay (coinhive-style): handshakes accepted
    std::uint64_t relay_auths = 0;                 //   "auth" answered with "authed"
    std::uint64_t relay_jobs_sent = 0;             //   "job" messages sent
    std::uint64_t relay_submits = 0;               //   "submit" answered with "hash_accepted"
    std::uint64_t wmp_connections = 0;             // /ws/wmp (webminerpool): handshakes accepted
    std::uint64_t wmp_handshakes = 0;              //   "handshake" messages answered with a job
    std::uint64_t wmp_jobs_sent = 0;               //   "job" messages sent
    std::uint64_t wmp_solved = 0;                  //   "solved" answered with "hashsolved"
    std::uint64_t stratum_connections = 0;         // /ws/stratum (JSON-RPC): handshakes accepted
    std::uint64_t stratum_logins = 0;              //   "login" requests answered with a job
    std::uint64_t stratum_jobs_sent = 0;           //   jobs sent, in login replies and notifications
    std::uint64_t stratum_submits = 0;             //   "submit" requests answered with status OK
    std::uint64_t stratum_keepalives = 0;          //   "keepalived" requests answered
    std::uint64_t binary_pool_connections = 0;     // /ws/binary-pool (binary framing, shares checked)
    std::uint64_t binary_pool_jobs_sent = 0;       //   jobs sent
    std::uint64_t binary_pool_accepted = 0;        //   shares that are real CryptoNight-pico hashes under the target
    std::uint64_t binary_pool_rejected = 0;        //   shares that are not
    std::uint64_t scrambled_pool_connections = 0;  // /ws/scrambled-pool (binary framing XORed, shares checked)
    std::uint64_t scrambled_pool_jobs_sent = 0;    //   jobs sent
    std::uint64_t scrambled_pool_accepted = 0;     //   shares that are real CryptoNight-pico hashes under the target
    std::uint64_t scrambled_pool_rejected = 0;     //   shares that are not
    std::uint64_t http_pool_jobs_sent = 0;         // /pool-api/work (HTTP, a line format): jobs sent
    std::uint64_t http_pool_accepted = 0;          // /pool-api/result: shares checked and accepted
    std::uint64_t http_pool_rejected = 0;          //   shares checked and rejected
    std::uint64_t pool_errors_sent = 0;            // error replies on any fake pool (a fixture bug); expect 0
    std::uint64_t echo_connections = 0;            // accepted /ws/echo WebSocket handshakes
    std::uint64_t echo_messages = 0;               // messages echoed on /ws/echo
    std::uint64_t flood_connections = 0;           // accepted /ws/flood WebSocket handshakes
    std::uint64_t flood_frames_sent = 0;           //   frames written (kFloodFrames per connection at most)
    std::uint64_t big_script_bytes_sent = 0;       // body bytes of /generated/big-script.js written
    std::uint64_t downloads_served = 0;            // /download responses written
    std::uint64_t connections_rejected = 0;        // closed on accept because kMaxConnections were live
    std::uint64_t internal_errors = 0;             // exceptions escaping a connection (bugs); expect 0
    std::string last_internal_error;               // what() of the last one
    // Requests per URL path (query stripped), e.g. {"/worker-miner.js", 1}. After
    // kMaxDistinctPaths keys, new paths are counted under "<other>".
    std::map<std::string, std::uint64_t, std::less<>> requests_by_path;

    std::uint64_t requests_for(std::string_view path) const;  // 0 if never requested
  };

  explicit FixtureServer(std::filesystem::path docroot, std::string bind_address = "127.0.0.1", std::uint16_t port = 0);
  ~FixtureServer();

  FixtureServer(const FixtureServer&) = delete;
  FixtureServer& operator=(const FixtureServer&) = delete;
  FixtureServer(FixtureServer&&) = delete;
  FixtureServer& operator=(FixtureServer&&) = delete;

  // The bound port (the kernel's choice when constructed with port 0).
  std::uint16_t port() const;

  // "http://HOST:PORT/PATH"; a leading '/' on path is not doubled.
  std::string url(std::string_view host, std::string_view path) const;

  Stats stats() const;

  const std::filesystem::path& docroot() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace testsupport
