// Loopback fixture server: static fixture sites, fake mining pools (coinhive-style, webminerpool,
// stratum, a binary framing in clear and scrambled, HTTP), a chat echo socket, and the hostile
// routes (a frame flood, a huge script, a download).
// One single-threaded io_context on its own thread; every connection is one coroutine that is the
// only reader of its socket and writes only between its own reads, so one write is in flight.
#include "tests/support/fixture_server.hpp"

#include "tests/support/checking_pool.hpp"
#include "tests/support/pool_messages.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace testsupport {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Every asynchronous step reports its error as a value; exceptions are left for bugs.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kServerName = "cjcrawl-fixture-server";
constexpr std::string_view kPortPlaceholder = "{{PORT}}";
constexpr std::size_t kJobBlobHexChars = 152;  // a 76-byte CryptoNight hashing blob, as coinhive sent
constexpr std::string_view kJobTarget = "ffffff00";
constexpr std::size_t kMaxPathKeyChars = 256;  // longer paths are counted under "<other>"
constexpr std::string_view kOtherPathsKey = "<other>";
constexpr std::size_t kHangReadChunk = 4096;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// How long the destructor lets connections finish after closing them before stopping the loop.
constexpr std::chrono::seconds kShutdownGrace{5};
// /generated/big-script.js: 128-byte lines, the first opening with one statement, all the rest `//`
// comments; written kBigScriptChunkBytes at a time.
constexpr std::string_view kBigScriptStatement = "window.bigScriptRan = true; ";
constexpr std::size_t kBigScriptLineBytes = 128;
constexpr std::size_t kBigScriptChunkBytes = 64 * 1024;
static_assert(kBigScriptBytes % kBigScriptChunkBytes == 0 && kBigScriptChunkBytes % kBigScriptLineBytes == 0);

// The WebSocket routes. `pool` and `relay` speak the same coinhive-style protocol.
enum class SocketKind { pool, relay, webminerpool, stratum, echo, flood, binary_pool, scrambled_pool };

std::optional<SocketKind> socket_kind_for(const std::optional<std::string>& path) {
  if (!path) return std::nullopt;
  if (*path == "/ws/pool") return SocketKind::pool;
  if (*path == "/ws/relay") return SocketKind::relay;
  if (*path == "/ws/wmp") return SocketKind::webminerpool;
  if (*path == "/ws/stratum") return SocketKind::stratum;
  if (*path == "/ws/echo") return SocketKind::echo;
  if (*path == "/ws/flood") return SocketKind::flood;
  if (*path == "/ws/binary-pool") return SocketKind::binary_pool;
  if (*path == "/ws/scrambled-pool") return SocketKind::scrambled_pool;
  return std::nullopt;
}

// Beast's parser errors are answered with a status; transport errors just end the connection.
bool is_http_parse_error(const error_code& error) {
  return error.category() == http::make_error_code(http::error::bad_target).category() &&
         error != http::error::end_of_stream && error != http::error::partial_message;
}

// Only 127.0.0.0/8: the server must never be reachable from outside this machine.
bool is_ipv4_loopback(const asio::ip::address& address) {
  return address.is_v4() && address.to_v4().to_bytes()[0] == 127;
}

// Decodes %XX escapes; nullopt for a malformed escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view text) {
  auto hex_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    decoded.push_back(c);
  }
  return decoded;
}

// The decoded path of a request target, without query or fragment; nullopt if undecodable.
std::optional<std::string> url_path_of(std::string_view target) {
  std::size_t end = target.find_first_of("?#");
  return percent_decode(target.substr(0, end));
}

// The percent-decoded value of the first `name=` parameter of a request target's query; nullopt when
// there is none, or its escapes are malformed or decode to a NUL.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  const std::size_t query_start = target.find('?');
  if (query_start == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(query_start + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const std::size_t end = std::min(query.find('&'), query.size());
    const std::string_view parameter = query.substr(0, end);
    if (parameter.size() > name.size() && parameter.starts_with(name) && parameter[name.size()] == '=') {
      return percent_decode(parameter.substr(name.size() + 1));
    }
    query.remove_prefix(std::min(end + 1, query.size()));
  }
  return std::nullopt;
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

bool is_within(const fs::path& candidate, const fs::path& root) {
  auto [root_end, candidate_end] = std::mismatch(root.begin(), root.end(), candidate.begin(), candidate.end());
  return root_end == root.end();
}

std::string_view content_type_for(const fs::path& file) {
  const std::string extension = file.extension().string();
  if (extension == ".html" || extension == ".htm") return "text/html; charset=utf-8";
  if (extension == ".js" || extension == ".mjs") return "text/javascript; charset=utf-8";
  if (extension == ".wasm") return "application/wasm";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".json") return "application/json";
  if (extension == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool has_port_placeholders(const fs::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".html" || extension == ".htm" || extension == ".js" || extension == ".mjs" ||
         extension == ".css" || extension == ".json";
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// A deterministic pseudo-random blob per job (splitmix64), so traces are reproducible.
std::string job_blob(std::uint64_t job_number) {
  static constexpr std::string_view kHexDigits = "0123456789abcdef";
  std::string blob;
  blob.reserve(kJobBlobHexChars);
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::uint64_t state = mix(job_number + 0x2545f4914f6cdd1dULL);  // unrelated streams per job
  while (blob.size() < kJobBlobHexChars) {
    const std::uint64_t z = mix(state += 0x9e3779b97f4a7c15ULL);
    for (int nibble = 0; nibble < 16 && blob.size() < kJobBlobHexChars; ++nibble) {
      blob.push_back(kHexDigits[(z >> (nibble * 4)) & 0xf]);
    }
  }
  return blob;
}

std::string html_page(std::string_view title, std::string_view message) {
  std::string page = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>";
  page += title;
  page += "</title></head><body><h1>";
  page += title;
  page += "</h1><p>";
  page += message;
  page += "</p></body></html>\n";
  return page;
}

// A short hex string from the job stream, e.g. for webminerpool's GUID-like job ids.
std::string hex_id(std::uint64_t number, std::size_t length) {
  return job_blob(number ^ 0x6a09e667f3bcc908ULL).substr(0, length);
}

// One of the Stats counters.
using StatsCounter = std::uint64_t FixtureServer::Stats::*;

// Per-socket state of a fake pool's protocol.
struct PoolSession {
  bool authed = false;                // auth / handshake / login seen
  std::uint64_t hashes_accepted = 0;  // shares accepted on this socket
  std::string miner_id;               // stratum: the id handed out at login
};

// Where the coinhive-style protocol counts, per route.
struct CoinhiveCounters {
  StatsCounter auths;
  StatsCounter jobs_sent;
  StatsCounter submits;
};

CoinhiveCounters coinhive_counters(SocketKind kind) {
  using Stats = FixtureServer::Stats;
  if (kind == SocketKind::relay) return {&Stats::relay_auths, &Stats::relay_jobs_sent, &Stats::relay_submits};
  return {&Stats::pool_auths, &Stats::pool_jobs_sent, &Stats::pool_submits};
}

StatsCounter connections_counter(SocketKind kind) {
  using Stats = FixtureServer::Stats;
  switch (kind) {
    case SocketKind::pool: return &Stats::pool_connections;
    case SocketKind::relay: return &Stats::relay_connections;
    case SocketKind::webminerpool: return &Stats::wmp_connections;
    case SocketKind::stratum: return &Stats::stratum_connections;
    case SocketKind::echo: return &Stats::echo_connections;
    case SocketKind::flood: return &Stats::flood_connections;
    case SocketKind::binary_pool: return &Stats::binary_pool_connections;
    case SocketKind::scrambled_pool: return &Stats::scrambled_pool_connections;
  }
  return &Stats::echo_connections;
}

// Pools answer in text, the binary pools in binary; the echo answers in kind.
bool replies_in_text(SocketKind kind, bool got_text) {
  if (kind == SocketKind::binary_pool || kind == SocketKind::scrambled_pool) return false;
  return kind != SocketKind::echo || got_text;
}

}  // namespace

std::uint64_t FixtureServer::Stats::requests_for(std::string_view path) const {
  auto found = requests_by_path.find(path);
  return found == requests_by_path.end() ? 0 : found->second;
}

struct FixtureServer::Impl {
  // Keeps a connection listed while its coroutine lives, so shutdown can close its socket.
  // Lives in the coroutine frame; frames destroyed by ~io_context still find the map alive.
  class ConnectionSlot {
   public:
    explicit ConnectionSlot(Impl& impl) : impl_(impl), id_(impl.next_connection_id_++) {
      impl_.live_connections_.emplace(id_, nullptr);
    }
    ~ConnectionSlot() { impl_.live_connections_.erase(id_); }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

    // Replaces how shutdown closes this connection (the socket moves on a WebSocket upgrade).
    void set_closer(std::function<void()> closer) { impl_.live_connections_[id_] = std::move(closer); }

   private:
    Impl& impl_;
    std::uint64_t id_;
  };

  Impl(fs::path root, const asio::ip::address& address, std::uint16_t requested_port);
  ~Impl();

  void run_io_thread() noexcept;
  void begin_shutdown();
  void record_internal_error(std::exception_ptr error) noexcept;
  void record_request(std::string_view path);
  template <class Update>
  void update_stats(Update update) {
    std::lock_guard lock(stats_mutex_);
    update(stats_);
  }
  auto spawn_completion() {
    return [this](std::exception_ptr error) {
      if (error) record_internal_error(error);
    };
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve_connection(tcp::socket socket, std::unique_ptr<ConnectionSlot> slot);
  asio::awaitable<void> serve_websocket(websocket::stream<beast::tcp_stream>& ws, const Request& request,
                                        SocketKind kind);
  asio::awaitable<void> hang(beast::tcp_stream& stream);
  asio::awaitable<void> flood(websocket::stream<beast::tcp_stream>& ws);
  asio::awaitable<void> send_big_script(beast::tcp_stream& stream, const Request& request);
  std::vector<std::string> coinhive_replies(SocketKind kind, PoolSession& session, std::string_view text, bool is_text);
  std::vector<std::string> webminerpool_replies(PoolSession& session, std::string_view text, bool is_text);
  std::vector<std::string> stratum_replies(PoolSession& session, std::string_view text, bool is_text);
  std::vector<std::string> binary_framing_replies(CheckingPool& pool, std::string_view message, bool is_text);
  std::vector<std::string> binary_pool_replies(std::string_view message, bool is_text);
  std::vector<std::string> scrambled_pool_replies(std::string_view message, bool is_text);
  Response http_pool_response(const Request& request, std::string_view path);
  nlohmann::ordered_json next_job(StatsCounter jobs_sent_counter);
  void count(StatsCounter counter);
  Response respond(const Request& request, const std::optional<std::string>& path) const;
  Response static_file(const Request& request, const std::string& path) const;
  std::optional<fs::path> resolve_static(std::string_view url_path) const;

  // Fixed at construction.
  const fs::path docroot_;
  std::uint16_t port_ = 0;

  // Shared with other threads.
  mutable std::mutex stats_mutex_;
  Stats stats_;

  // Touched only on the io thread. Declared before io_context_ so that coroutine frames
  // destroyed by ~io_context can still unregister themselves.
  std::unordered_map<std::uint64_t, std::function<void()>> live_connections_;
  std::uint64_t next_connection_id_ = 0;
  std::uint64_t jobs_issued_ = 0;
  CheckingPool binary_pool_;  // /ws/binary-pool
  // /ws/scrambled-pool, at difficulty 8: its miners run at 20% and 50% of a core, and a visit that
  // settles in seconds must still see shares accepted to show they really hash.
  CheckingPool scrambled_pool_{0x1FFFFFFF};
  CheckingPool http_pool_;                  // /pool-api/*
  std::uint64_t logins_issued_ = 0;         // stratum miner ids
  std::set<std::string> once_unavailable_;  // /once-unavailable targets already refused once
  bool stopping_ = false;

  asio::io_context io_context_{1};
  tcp::acceptor acceptor_{io_context_};
  asio::steady_timer accept_retry_timer_{io_context_};
  std::promise<void> io_thread_done_;
  std::thread io_thread_;
};

FixtureServer::Impl::Impl(fs::path root, const asio::ip::address& address, std::uint16_t requested_port)
    : docroot_(std::move(root)) {
  // Bind and listen now, so errors throw here and port() is valid when the constructor returns.
  const tcp::endpoint endpoint(address, requested_port);
  error_code error;
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    throw boost::system::system_error(error, "FixtureServer: cannot listen on " + address.to_string() + ":" +
                                                 std::to_string(requested_port) +
                                                 " (pass port 0 to let the kernel pick a free one)");
  }
  port_ = acceptor_.local_endpoint().port();
  // The accept loop runs once the thread starts; the thread is the last thing that can fail.
  asio::co_spawn(io_context_, accept_loop(), spawn_completion());
  io_thread_ = std::thread([this] { run_io_thread(); });
}

FixtureServer::Impl::~Impl() {
  if (!io_thread_.joinable()) return;
  std::future<void> done = io_thread_done_.get_future();
  try {
    // Close the listener and every socket on the io thread; their coroutines then finish.
    asio::post(io_context_, [this] { begin_shutdown(); });
  } catch (...) {
    io_context_.stop();
  }
  // A coroutine that does not finish in time (a bug) is abandoned: ~io_context destroys it.
  if (done.wait_for(kShutdownGrace) != std::future_status::ready) io_context_.stop();
  io_thread_.join();
}

void FixtureServer::Impl::run_io_thread() noexcept {
  // A handler that throws is a bug; record it and keep serving until stopped.
  for (;;) {
    try {
      io_context_.run();
      break;
    } catch (...) {
      record_internal_error(std::current_exception());
    }
  }
  io_thread_done_.set_value();
}

void FixtureServer::Impl::begin_shutdown() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  // Closing completes every pending read and write with an error; no handler runs from here.
  for (auto& [id, close] : live_connections_) {
    if (close) close();
  }
}

void FixtureServer::Impl::record_internal_error(std::exception_ptr error) noexcept {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    what = exception.what();
  } catch (...) {
  }
  try {
    update_stats([&](Stats& stats) {
      ++stats.internal_errors;
      stats.last_internal_error = std::move(what);
    });
  } catch (...) {
    // Out of memory while recording: nothing more can be done from a server thread.
  }
}

void FixtureServer::Impl::record_request(std::string_view path) {
  update_stats([&](Stats& stats) {
    ++stats.http_requests;
    auto found = stats.requests_by_path.find(path);
    if (found != stats.requests_by_path.end()) {
      ++found->second;
    } else if (stats.requests_by_path.size() < kMaxDistinctPaths && path.size() <= kMaxPathKeyChars) {
      stats.requests_by_path.emplace(std::string(path), 1);
    } else {
      ++stats.requests_by_path[std::string(kOtherPathsKey)];
    }
  });
}

asio::awaitable<void> FixtureServer::Impl::accept_loop() {
  for (;;) {
    // Wait for the next client.
    auto [accept_error, socket] = co_await acceptor_.async_accept(kNoThrow);
    if (stopping_) co_return;
    if (accept_error) {
      // Transient (e.g. out of file descriptors): pause so a lasting error cannot spin.
      accept_retry_timer_.expires_after(kAcceptRetryDelay);
      co_await accept_retry_timer_.async_wait(kNoThrow);
      continue;
    }
    // Over the connection budget: refuse by closing, and count it.
    if (live_connections_.size() >= kMaxConnections) {
      error_code ignored;
      socket.close(ignored);
      update_stats([](Stats& stats) { ++stats.connections_rejected; });
      continue;
    }
    // Register before spawning so the budget counts connections not yet started.
    auto slot = std::make_unique<ConnectionSlot>(*this);
    asio::co_spawn(io_context_, serve_connection(std::move(socket), std::move(slot)), spawn_completion());
  }
}

asio::awaitable<void> FixtureServer::Impl::serve_connection(tcp::socket socket, std::unique_ptr<ConnectionSlot> slot) {
  // Shutdown may have run between accept and this first step; the socket then just closes.
  if (stopping_) co_return;
  beast::tcp_stream stream(std::move(socket));
  slot->set_closer([&stream] { stream.close(); });
  beast::flat_buffer buffer(kMaxRequestHeaderBytes + kMaxRequestBodyBytes);

  for (;;) {
    // Read one request, bounded in header size, body size and idle time.
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxRequestHeaderBytes);
    parser.body_limit(kMaxRequestBodyBytes);
    stream.expires_after(kHttpIdleTimeout);
    auto [read_error, bytes_read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (read_error) {
      // A malformed or oversized request gets a status saying so; then the connection ends.
      if (is_http_parse_error(read_error)) {
        http::status status = http::status::bad_request;
        if (read_error == http::error::header_limit || read_error == http::error::buffer_overflow) {
          status = http::status::request_header_fields_too_large;
        } else if (read_error == http::error::body_limit) {
          status = http::status::payload_too_large;
        }
        Response response{status, 11};
        response.set(http::field::server, kServerName);
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        response.body() = "fixture server: " + read_error.message() + "\n";
        response.keep_alive(false);
        response.prepare_payload();
        stream.expires_after(kHttpIdleTimeout);
        co_await http::async_write(stream, response, kNoThrow);
      }
      break;
    }
    Request request = parser.release();
    const std::optional<std::string> path = url_path_of(request.target());
    record_request(path ? std::string_view(*path) : std::string_view(kOtherPathsKey));

    // A WebSocket route: hand the socket to the WebSocket stream for the rest of its life.
    const std::optional<SocketKind> socket_kind = socket_kind_for(path);
    if (socket_kind && websocket::is_upgrade(request)) {
      websocket::stream<beast::tcp_stream> ws(std::move(stream));
      slot->set_closer([&ws] { beast::get_lowest_layer(ws).close(); });
      const SocketKind kind = *socket_kind;
      co_await serve_websocket(ws, request, kind);
      co_return;
    }
    // /hang never answers.
    if (path == "/hang") {
      co_await hang(stream);
      co_return;
    }
    // /slow answers like any page, kSlowDelay late (a slow ad server holding a page's load).
    if (path == "/slow") {
      asio::steady_timer delay(stream.get_executor(), kSlowDelay);
      co_await delay.async_wait(kNoThrow);
    }
    // /once-unavailable/FILE?KEY: 503 the first time each target is asked for, then FILE.
    constexpr std::string_view kOnceUnavailable = "/once-unavailable/";
    if (path && path->starts_with(kOnceUnavailable)) {
      const std::string target(request.target());
      Response response{http::status::ok, request.version()};
      if (once_unavailable_.size() < kMaxOnceUnavailableKeys && once_unavailable_.insert(target).second) {
        response.result(http::status::service_unavailable);
        response.set(http::field::server, kServerName);
        response.set(http::field::cache_control, "no-store");
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        response.keep_alive(request.keep_alive());
        response.body() = "unavailable once";
        response.prepare_payload();
      } else {
        response = static_file(request, path->substr(kOnceUnavailable.size() - 1));
      }
      stream.expires_after(kHttpIdleTimeout);
      auto [write_error, bytes_written] = co_await http::async_write(stream, response, kNoThrow);
      if (write_error || response.need_eof()) break;
      continue;
    }
    // The HTTP pool: jobs and shares in a line format of its own.
    if (path && path->starts_with("/pool-api/")) {
      Response response = http_pool_response(request, *path);
      stream.expires_after(kHttpIdleTimeout);
      auto [write_error, bytes_written] = co_await http::async_write(stream, response, kNoThrow);
      if (write_error || response.need_eof()) break;
      continue;
    }
    // The huge script is written as it is generated; the connection ends with it.
    if (path == "/generated/big-script.js") {
      co_await send_big_script(stream, request);
      break;
    }
    // Everything else is one response.
    Response response = respond(request, path);
    stream.expires_after(kHttpIdleTimeout);
    auto [write_error, bytes_written] = co_await http::async_write(stream, response, kNoThrow);
    if (!write_error && path == "/download") update_stats([](Stats& stats) { ++stats.downloads_served; });
    if (write_error || response.need_eof()) break;
  }
  // Send FIN; the socket closes when the stream goes out of scope.
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> FixtureServer::Impl::hang(beast::tcp_stream& stream) {
  // Keep reading (and discarding) until the client gives up, the server stops, or kHangLimit.
  stream.expires_after(kHangLimit);
  std::array<char, kHangReadChunk> discard{};
  for (;;) {
    auto [read_error, bytes_read] = co_await stream.async_read_some(asio::buffer(discard), kNoThrow);
    if (read_error) co_return;
  }
}

asio::awaitable<void> FixtureServer::Impl::serve_websocket(websocket::stream<beast::tcp_stream>& ws,
                                                           const Request& request, SocketKind kind) {
  // The WebSocket stream's own handshake and idle timeouts replace the HTTP ones.
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, kServerName); }));
  ws.read_message_max(kMaxWsMessageBytes);

  // Complete the handshake with the request already read.
  auto [accept_error] = co_await ws.async_accept(request, kNoThrow);
  if (accept_error) co_return;
  count(connections_counter(kind));
  if (kind == SocketKind::flood) {
    co_await flood(ws);
    co_return;
  }

  PoolSession session;
  beast::flat_buffer buffer;
  for (;;) {
    // The only reader of this socket: one message at a time.
    auto [read_error, bytes_read] = co_await ws.async_read(buffer, kNoThrow);
    if (read_error) co_return;  // closed by either side, idle timeout, or over kMaxWsMessageBytes
    std::string text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    const bool is_text = ws.got_text();

    // Decide the replies, then write them one after another: one write in flight.
    std::vector<std::string> replies;
    switch (kind) {
      case SocketKind::pool:
      case SocketKind::relay: replies = coinhive_replies(kind, session, text, is_text); break;
      case SocketKind::webminerpool: replies = webminerpool_replies(session, text, is_text); break;
      case SocketKind::stratum: replies = stratum_replies(session, text, is_text); break;
      case SocketKind::echo:
        count(&Stats::echo_messages);
        replies.push_back(std::move(text));
        break;
      case SocketKind::flood: break;  // handled before the loop
      case SocketKind::binary_pool: replies = binary_pool_replies(text, is_text); break;
      case SocketKind::scrambled_pool: replies = scrambled_pool_replies(text, is_text); break;
    }
    ws.text(replies_in_text(kind, is_text));
    for (const std::string& reply : replies) {
      auto [write_error, bytes_written] = co_await ws.async_write(asio::buffer(reply), kNoThrow);
      if (write_error) co_return;
    }
  }
}

asio::awaitable<void> FixtureServer::Impl::flood(websocket::stream<beast::tcp_stream>& ws) {
  // Writes only, one frame in flight: a slow reader slows the flood instead of growing a queue.
  // Nothing is read until the end, so a client that goes away shows up as a write error.
  ws.text(true);
  std::string frame;
  for (std::uint64_t number = 1; number <= kFloodFrames; ++number) {
    frame = "flood frame " + std::to_string(number) + " of " + std::to_string(kFloodFrames);
    auto [write_error, bytes_written] = co_await ws.async_write(asio::buffer(frame), kNoThrow);
    if (write_error) co_return;
    count(&Stats::flood_frames_sent);
  }
  // A normal close, then read until the client's close reply (or the stream's idle timeout).
  auto [close_error] = co_await ws.async_close(websocket::close_code::normal, kNoThrow);
  if (close_error) co_return;
  beast::flat_buffer discard;
  for (;;) {
    auto [read_error, bytes_read] = co_await ws.async_read(discard, kNoThrow);
    if (read_error) co_return;
    discard.consume(discard.size());
  }
}

asio::awaitable<void> FixtureServer::Impl::send_big_script(beast::tcp_stream& stream, const Request& request) {
  // The header first, with the exact length; then the body in fixed chunks, never held whole.
  http::response<http::empty_body> header{http::status::ok, request.version()};
  header.set(http::field::server, kServerName);
  header.set(http::field::cache_control, "no-store");
  header.set(http::field::content_type, "text/javascript; charset=utf-8");
  header.content_length(kBigScriptBytes);
  header.keep_alive(false);
  http::response_serializer<http::empty_body> serializer{header};
  stream.expires_after(kHttpIdleTimeout);
  auto [header_error, header_bytes] = co_await http::async_write_header(stream, serializer, kNoThrow);
  if (header_error || request.method() == http::verb::head) co_return;

  // Whole lines of `//xxx...x\n`; the very first line starts with the statement instead.
  std::string chunk(kBigScriptChunkBytes, 'x');
  for (std::size_t line_start = 0; line_start < chunk.size(); line_start += kBigScriptLineBytes) {
    chunk[line_start] = '/';
    chunk[line_start + 1] = '/';
    chunk[line_start + kBigScriptLineBytes - 1] = '\n';
  }
  std::string first_chunk = chunk;
  first_chunk.replace(0, kBigScriptStatement.size() + 2, std::string(kBigScriptStatement) + "//");
  for (std::uint64_t written = 0; written < kBigScriptBytes;) {
    const std::string& piece = written == 0 ? first_chunk : chunk;
    stream.expires_after(kHttpIdleTimeout);
    auto [write_error, bytes_written] = co_await asio::async_write(stream, asio::buffer(piece), kNoThrow);
    if (write_error) co_return;
    written += bytes_written;
    update_stats([bytes_written = bytes_written](Stats& stats) { stats.big_script_bytes_sent += bytes_written; });
  }
}

void FixtureServer::Impl::count(StatsCounter counter) {
  update_stats([counter](Stats& stats) { ++(stats.*counter); });
}

// A fresh job's fields, common to the three protocols; counts it on the route's counter.
nlohmann::ordered_json FixtureServer::Impl::next_job(StatsCounter jobs_sent_counter) {
  const std::uint64_t job_number = ++jobs_issued_;
  count(jobs_sent_counter);
  return {{"job_id", std::to_string(job_number)}, {"blob", job_blob(job_number)}, {"target", kJobTarget}};
}

namespace {

std::uint32_t read_le32(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

void put_le32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// The binary pool's framing: job    0x01, id u32, target u32, blob (76 bytes)
//                            share  0x02, id u32, nonce u32, result (32 bytes)   (client → pool)
//                            verdict 0x03, accepted u8, accepted so far u32
//                            hello  0x00 (client → pool; answered with a job)
std::string binary_job(const CheckingPool::Job& job, std::uint32_t target) {
  std::string out(1, '\x01');
  put_le32(out, job.id);
  put_le32(out, target);
  return out + job.blob;
}

// /ws/scrambled-pool's keystream: byte i of a frame (i counted from 0 within each frame, in both
// directions) is XORed with (0x5A + 31 i) mod 256. Position-only, so it needs no state per socket
// and is its own inverse; enough that no blob, no zero nonce and no zero-topped hash shows in clear.
std::string scrambled(std::string_view frame) {
  std::string out(frame);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(static_cast<unsigned char>(out[i]) ^ ((0x5A + 31 * i) & 0xFF));
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto value = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int high = value(hex[i]);
    const int low = value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

}  // namespace

// The binary framing both binary pools speak, with `pool` checking the shares. Replies in the clear.
std::vector<std::string> FixtureServer::Impl::binary_framing_replies(CheckingPool& pool, std::string_view message,
                                                                     bool is_text) {
  std::vector<std::string> replies;
  if (!is_text && message.size() == 1 && message[0] == '\x00') {
    replies.push_back(binary_job(pool.next_job(), pool.target()));
  } else if (!is_text && message.size() == 41 && message[0] == '\x02') {
    const auto check = pool.check(read_le32(message, 1), read_le32(message, 5), message.substr(9));
    std::string verdict(1, '\x03');
    verdict.push_back(check == CheckingPool::Check::accepted ? '\x01' : '\x00');
    put_le32(verdict, static_cast<std::uint32_t>(pool.accepted()));
    replies.push_back(std::move(verdict));
    replies.push_back(binary_job(pool.next_job(), pool.target()));
  } else {
    count(&Stats::pool_errors_sent);
    replies.push_back(std::string(1, '\xff'));
  }
  return replies;
}

std::vector<std::string> FixtureServer::Impl::binary_pool_replies(std::string_view message, bool is_text) {
  std::vector<std::string> replies = binary_framing_replies(binary_pool_, message, is_text);
  update_stats([pool = &binary_pool_](Stats& stats) {
    stats.binary_pool_jobs_sent = pool->jobs_sent();
    stats.binary_pool_accepted = pool->accepted();
    stats.binary_pool_rejected = pool->rejected();
  });
  return replies;
}

// The same framing, descrambled on the way in and scrambled on the way out: the frames on the wire
// carry nothing a content rule can read, so only the CPU and the hashing code give the miner away.
std::vector<std::string> FixtureServer::Impl::scrambled_pool_replies(std::string_view message, bool is_text) {
  std::vector<std::string> replies = binary_framing_replies(scrambled_pool_, scrambled(message), is_text);
  for (std::string& reply : replies) reply = scrambled(reply);
  update_stats([pool = &scrambled_pool_](Stats& stats) {
    stats.scrambled_pool_jobs_sent = pool->jobs_sent();
    stats.scrambled_pool_accepted = pool->accepted();
    stats.scrambled_pool_rejected = pool->rejected();
  });
  return replies;
}

// GET  /pool-api/work    → "J <id> <blob hex> <target hex, little-endian>"
// POST /pool-api/result  "S <id> <nonce hex, little-endian> <result hex>" → "OK <accepted>" or
//                        "REJECT <why>"
Response FixtureServer::Impl::http_pool_response(const Request& request, std::string_view path) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::server, kServerName);
  response.set(http::field::cache_control, "no-store");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::access_control_allow_origin, "*");
  response.keep_alive(request.keep_alive());
  auto target_hex = [] {
    std::string bytes;
    put_le32(bytes, CheckingPool::kTarget);
    return test_support::to_hex(bytes);
  };
  if (path == "/pool-api/work" && request.method() == http::verb::get) {
    const auto job = http_pool_.next_job();
    response.body() = "J " + std::to_string(job.id) + " " + test_support::to_hex(job.blob) + " " + target_hex() + "\n";
  } else if (path == "/pool-api/result" && request.method() == http::verb::post) {
    const std::string& body = request.body();
    const auto first = body.find(' ');
    const auto second = first == std::string::npos ? first : body.find(' ', first + 1);
    const auto third = second == std::string::npos ? second : body.find(' ', second + 1);
    std::optional<std::string> nonce;
    std::optional<std::string> result;
    std::uint32_t id = 0;
    if (body.starts_with("S ") && third != std::string::npos) {
      id = static_cast<std::uint32_t>(std::strtoul(body.substr(first + 1, second - first - 1).c_str(), nullptr, 10));
      nonce = hex_decode(body.substr(second + 1, third - second - 1));
      std::string rest = body.substr(third + 1);
      while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.pop_back();
      result = hex_decode(rest);
    }
    if (!nonce || nonce->size() != 4 || !result) {
      count(&Stats::pool_errors_sent);
      response.result(http::status::bad_request);
      response.body() = "REJECT malformed\n";
    } else {
      const auto check = http_pool_.check(id, read_le32(*nonce, 0), *result);
      response.body() = check == CheckingPool::Check::accepted ? "OK " + std::to_string(http_pool_.accepted()) + "\n"
                                                               : std::string("REJECT share\n");
    }
  } else {
    response.result(http::status::method_not_allowed);
    response.body() = "use GET /pool-api/work or POST /pool-api/result\n";
  }
  update_stats([pool = &http_pool_](Stats& stats) {
    stats.http_pool_jobs_sent = pool->jobs_sent();
    stats.http_pool_accepted = pool->accepted();
    stats.http_pool_rejected = pool->rejected();
  });
  response.prepare_payload();
  return response;
}

std::vector<std::string> FixtureServer::Impl::coinhive_replies(SocketKind kind, PoolSession& session,
                                                               std::string_view text, bool is_text) {
  const CoinhiveCounters counters = coinhive_counters(kind);
  auto error_reply = [this](std::string_view what) {
    count(&Stats::pool_errors_sent);
    return nlohmann::ordered_json{{"type", "error"}, {"params", {{"error", what}}}}.dump();
  };
  auto job_message = [&] {
    return nlohmann::ordered_json{{"type", "job"}, {"params", next_job(counters.jobs_sent)}}.dump();
  };
  // Parse without exceptions: a bad message is the client's problem, answered with an error.
  nlohmann::json message = is_text ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json();
  if (!is_text || message.is_discarded() || !message.is_object() || !message.contains("type") ||
      !message["type"].is_string()) {
    return {error_reply("expected a JSON text message {\"type\": ..., \"params\": {...}}")};
  }
  const std::string type = message["type"].get<std::string>();
  if (type == "auth") {
    session.authed = true;
    count(counters.auths);
    nlohmann::ordered_json authed = {{"type", "authed"}, {"params", {{"token", ""}, {"hashes", 0}}}};
    return {authed.dump(), job_message()};
  }
  if (type == "submit") {
    if (!session.authed) return {error_reply("submit before auth")};
    ++session.hashes_accepted;
    count(counters.submits);
    nlohmann::ordered_json accepted = {{"type", "hash_accepted"}, {"params", {{"hashes", session.hashes_accepted}}}};
    return {accepted.dump(), job_message()};
  }
  return {error_reply("unknown message type '" + type + "'; expected auth or submit")};
}

std::vector<std::string> FixtureServer::Impl::webminerpool_replies(PoolSession& session, std::string_view text,
                                                                   bool is_text) {
  // webminerpool's server ends every message with a newline; so does this one.
  auto error_reply = [this](std::string_view what) {
    count(&Stats::pool_errors_sent);
    return nlohmann::ordered_json{{"identifier", "error"}, {"param", what}}.dump() + "\n";
  };
  auto job_message = [&] {
    nlohmann::ordered_json fields = next_job(&Stats::wmp_jobs_sent);
    const std::uint64_t job_number = jobs_issued_;
    nlohmann::ordered_json job = {{"identifier", "job"},
                                  {"job_id", hex_id(job_number, 32)},
                                  {"algo", "cn"},
                                  {"variant", 1},
                                  {"height", 1500000 + job_number},
                                  {"blob", fields["blob"]},
                                  {"target", fields["target"]}};
    return job.dump() + "\n";
  };
  nlohmann::json message = is_text ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json();
  if (!is_text || message.is_discarded() || !message.is_object() || !message.contains("identifier") ||
      !message["identifier"].is_string()) {
    return {error_reply("expected a JSON text message {\"identifier\": ...}")};
  }
  const std::string identifier = message["identifier"].get<std::string>();
  if (identifier == "handshake") {
    session.authed = true;
    count(&Stats::wmp_handshakes);
    return {job_message()};
  }
  if (identifier == "solved") {
    if (!session.authed) return {error_reply("solved before handshake")};
    ++session.hashes_accepted;
    count(&Stats::wmp_solved);
    return {nlohmann::ordered_json{{"identifier", "hashsolved"}}.dump() + "\n"};
  }
  return {error_reply("unknown identifier '" + identifier + "'; expected handshake or solved")};
}

std::vector<std::string> FixtureServer::Impl::stratum_replies(PoolSession& session, std::string_view text,
                                                              bool is_text) {
  nlohmann::json message = is_text ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json();
  const nlohmann::json id = message.is_object() && message.contains("id") ? message["id"] : nlohmann::json(nullptr);
  auto reply = [&](nlohmann::ordered_json result) {
    return nlohmann::ordered_json{{"id", id}, {"jsonrpc", "2.0"}, {"error", nullptr}, {"result", std::move(result)}}
        .dump();
  };
  auto error_reply = [&](std::string_view what) {
    count(&Stats::pool_errors_sent);
    return nlohmann::ordered_json{
        {"id", id}, {"jsonrpc", "2.0"}, {"error", {{"code", -1}, {"message", what}}}, {"result", nullptr}}
        .dump();
  };
  auto job_fields = [&] {
    nlohmann::ordered_json job = next_job(&Stats::stratum_jobs_sent);
    job["id"] = session.miner_id;
    return job;
  };
  if (!is_text || message.is_discarded() || !message.is_object() || !message.contains("method") ||
      !message["method"].is_string()) {
    return {error_reply("expected a JSON-RPC request {\"id\": ..., \"method\": ..., \"params\": {...}}")};
  }
  const std::string method = message["method"].get<std::string>();
  if (method == "login") {
    session.authed = true;
    session.miner_id = hex_id(++logins_issued_, 16);
    count(&Stats::stratum_logins);
    return {reply({{"id", session.miner_id}, {"job", job_fields()}, {"status", "OK"}})};
  }
  if (method == "submit") {
    if (!session.authed) return {error_reply("Unauthenticated")};
    ++session.hashes_accepted;
    count(&Stats::stratum_submits);
    nlohmann::ordered_json notification = {{"jsonrpc", "2.0"}, {"method", "job"}, {"params", job_fields()}};
    return {reply({{"status", "OK"}}), notification.dump()};
  }
  if (method == "keepalived") {
    count(&Stats::stratum_keepalives);
    return {reply({{"status", "KEEPALIVED"}})};
  }
  return {error_reply("Invalid method '" + method + "'; expected login, submit or keepalived")};
}

Response FixtureServer::Impl::respond(const Request& request, const std::optional<std::string>& path) const {
  Response response{http::status::ok, request.version()};
  response.set(http::field::server, kServerName);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  auto set_page = [&](http::status status, std::string_view title, std::string_view message) {
    response.result(status);
    response.set(http::field::content_type, "text/html; charset=utf-8");
    response.body() = html_page(title, message);
  };

  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    set_page(http::status::method_not_allowed, "405 Method Not Allowed",
             "The fixture server answers only GET and HEAD.");
    response.set(http::field::allow, "GET, HEAD");
  } else if (!path) {
    set_page(http::status::not_found, "404 Not Found", "The request path has a malformed escape or a NUL.");
  } else if (*path == "/redirect-loop") {
    response.result(http::status::found);
    response.set(http::field::location, "/redirect-loop");
  } else if (*path == "/redirect-to") {
    // An open redirect on purpose; a control character would split the Location header.
    const std::optional<std::string> location = query_parameter(request.target(), "url");
    if (!location || location->empty() || has_control_character(*location)) {
      set_page(http::status::bad_request, "400 Bad Request",
               "Expected /redirect-to?url=URL with URL percent-encoded and free of control characters.");
    } else {
      response.result(http::status::found);
      response.set(http::field::location, *location);
    }
  } else if (*path == "/slow") {
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "slow";
  } else if (*path == "/status/404") {
    set_page(http::status::not_found, "404 Not Found", "This page intentionally does not exist.");
  } else if (*path == "/download") {
    // Content-Disposition makes any navigation to it a download, never a page.
    response.set(http::field::content_type, "application/octet-stream");
    response.set(http::field::content_disposition, "attachment; filename=\"cjcrawl-fixture-download.bin\"");
    response.body() = std::string(kDownloadBytes, 'Z');
  } else if (*path == "/download-html") {
    // HTML, but an attachment: a download all the same, whose type alone says "page".
    response.set(http::field::content_type, "text/html; charset=utf-8");
    response.set(http::field::content_disposition, "attachment; filename=\"cjcrawl-fixture-download.html\"");
    response.body() = "<!doctype html><title>saved</title><script>while (true) {}</script>";
  } else if (*path == "/no-content") {
    response.result(http::status::no_content);
  } else if (socket_kind_for(path)) {
    set_page(http::status::upgrade_required, "426 Upgrade Required", "This route is a WebSocket endpoint.");
    response.set(http::field::upgrade, "websocket");
  } else {
    return static_file(request, *path);
  }
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    const std::size_t length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  return response;
}

Response FixtureServer::Impl::static_file(const Request& request, const std::string& path) const {
  Response response{http::status::ok, request.version()};
  response.set(http::field::server, kServerName);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());

  const std::optional<fs::path> file = resolve_static(path);
  std::error_code size_error;
  const std::uintmax_t size = file ? fs::file_size(*file, size_error) : 0;
  std::string body;
  if (!file || size_error) {
    response.result(http::status::not_found);
    response.set(http::field::content_type, "text/html; charset=utf-8");
    body = html_page("404 Not Found", "No such fixture file.");
  } else if (size > kMaxFileBytes) {
    response.result(http::status::internal_server_error);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    body = "fixture server: " + file->string() + " is larger than the " + std::to_string(kMaxFileBytes) +
           "-byte limit for fixture files\n";
  } else {
    std::ifstream input(*file, std::ios::binary);
    body.resize(static_cast<std::size_t>(size));
    input.read(body.data(), static_cast<std::streamsize>(size));
    if (!input) {
      response.result(http::status::internal_server_error);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      body = "fixture server: could not read " + file->string() + "\n";
    } else {
      response.set(http::field::content_type, content_type_for(*file));
      if (has_port_placeholders(*file)) replace_all(body, kPortPlaceholder, std::to_string(port_));
      // A validator for conditional GETs (blocklist imports): 304 when the client has this body.
      const std::string etag = "\"" + std::to_string(std::hash<std::string>{}(body)) + "\"";
      response.set(http::field::etag, etag);
      if (request[http::field::if_none_match] == etag) {
        response.result(http::status::not_modified);
        body.clear();
      }
    }
  }
  // HEAD gets the GET headers, Content-Length included, and no body.
  const std::size_t length = body.size();
  if (request.method() != http::verb::head) response.body() = std::move(body);
  response.content_length(length);
  return response;
}

std::optional<fs::path> FixtureServer::Impl::resolve_static(std::string_view url_path) const {
  // Only "/relative/path": no absolute ("//x"), no backslashes, no NUL, no "." or ".." segments.
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  std::string_view relative = url_path.substr(1);
  if (relative.find('\0') != std::string_view::npos || relative.find('\\') != std::string_view::npos) {
    return std::nullopt;
  }
  std::size_t segment_start = 0;
  while (segment_start <= relative.size()) {
    std::size_t segment_end = relative.find('/', segment_start);
    if (segment_end == std::string_view::npos) segment_end = relative.size();
    std::string_view segment = relative.substr(segment_start, segment_end - segment_start);
    const bool is_last = segment_end == relative.size();
    if (segment == "." || segment == ".." || (segment.empty() && !is_last)) return std::nullopt;
    segment_start = segment_end + 1;
  }

  // Directories serve their index.html.
  fs::path candidate = docroot_ / fs::path(std::string(relative));
  std::error_code error;
  if (fs::is_directory(candidate, error)) candidate /= "index.html";
  // Resolve symlinks and make sure the result is still inside the docroot.
  const fs::path resolved = fs::weakly_canonical(candidate, error);
  if (error || !is_within(resolved, docroot_)) return std::nullopt;
  if (!fs::is_regular_file(resolved, error)) return std::nullopt;
  return resolved;
}

namespace {

asio::ip::address loopback_address_or_throw(const std::string& bind_address) {
  error_code parse_error;
  const asio::ip::address address = asio::ip::make_address(bind_address, parse_error);
  if (parse_error || !is_ipv4_loopback(address)) {
    throw std::invalid_argument("FixtureServer: bind address '" + bind_address +
                                "' is not an IPv4 loopback address (127.x.y.z); the fixture server "
                                "serves only on loopback");
  }
  return address;
}

fs::path docroot_or_throw(const fs::path& docroot) {
  std::error_code error;
  fs::path canonical = fs::canonical(docroot, error);
  if (error || !fs::is_directory(canonical, error)) {
    throw std::invalid_argument("FixtureServer: docroot '" + docroot.string() + "' is not an existing directory" +
                                (error ? " (" + error.message() + ")" : std::string()));
  }
  return canonical;
}

}  // namespace

FixtureServer::FixtureServer(std::filesystem::path docroot, std::string bind_address, std::uint16_t port)
    : impl_(std::make_unique<Impl>(docroot_or_throw(docroot), loopback_address_or_throw(bind_address), port)) {}

FixtureServer::~FixtureServer() = default;

std::uint16_t FixtureServer::port() const { return impl_->port_; }

std::string FixtureServer::url(std::string_view host, std::string_view path) const {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string url = "http://";
  url += host;
  url += ':';
  url += std::to_string(impl_->port_);
  url += '/';
  url += path;
  return url;
}

FixtureServer::Stats FixtureServer::stats() const {
  std::lock_guard lock(impl_->stats_mutex_);
  return impl_->stats_;
}

const std::filesystem::path& FixtureServer::docroot() const { return impl_->docroot_; }

}  // namespace testsupport
