// crawler/serve.hpp — the sockets of `cjcrawl serve`: a Boost.Beast HTTP/1.1 server on C++20
// coroutines and one single-threaded io_context, answering through an HttpHandler (crawler::FeedService
// for `serve`; a crawl worker's metrics for `crawl --metrics-listen`).
//
// Built for hostile clients: a malformed request gets 400 and the connection is closed; headers over
// max_header_bytes get 431; a body on a GET is refused. Every read has a deadline: the first request
// must arrive whole within header_timeout (a slow-loris client that trickles bytes is cut off then,
// and never delays others, since every connection is its own coroutine); a keep-alive connection may
// idle idle_timeout before its next request; a response must be taken within write_timeout. At most
// max_connections are served at once; beyond that a connection gets a short 503 and is closed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "crawler/feed.hpp"
#include "util/status.hpp"

namespace prometheus {
class Collectable;
}

namespace crawler {

class HttpMetrics;

struct ServeOptions {
  boost::asio::ip::tcp::endpoint listen{boost::asio::ip::make_address("127.0.0.1"), 8080};
  std::size_t max_connections = 256;
  std::chrono::milliseconds header_timeout{10'000};  // the whole first request
  std::chrono::milliseconds idle_timeout{15'000};    // waiting for, and reading, each next request
  std::chrono::milliseconds write_timeout{120'000};  // writing one response
  std::size_t max_header_bytes = 8 * 1024;
  // Response bodies held for clients still reading them; a response that would go over gets a 503.
  // Cached feeds are shared, but a slow reader of a ?since= variant holds its own body.
  std::size_t max_bytes_in_flight = std::size_t{1} << 30;
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080" or ":8080" (loopback). Only IP literals (and
// localhost): a feed server never resolves names. An invalid_argument error says what was expected.
util::Result<boost::asio::ip::tcp::endpoint> parse_listen(std::string_view text);

class FeedServer {
 public:
  // `metrics` (optional) counts every answer (metrics.hpp); it is shared with the connections.
  FeedServer(boost::asio::io_context& io, HttpHandler& handler, ServeOptions options,
             std::shared_ptr<HttpMetrics> metrics = nullptr);
  ~FeedServer();

  // Binds and listens. Throws boost::system::system_error naming the address on failure.
  boost::asio::ip::tcp::endpoint bind();
  // Accepts until stop(). Spawns one coroutine per connection on the io_context.
  boost::asio::awaitable<void> run();
  // Stops accepting; connections in progress end with the io_context.
  void stop();
  // The connection counts below as metric families (cjcrawl_http_connections_*), read when
  // collected: collect on this server's io thread only.
  std::shared_ptr<const prometheus::Collectable> connection_metrics() const;

  struct Counters {
    std::size_t active = 0;     // connections being served
    std::size_t rejecting = 0;  // 503s being written
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;        // over max_connections
    std::size_t bytes_in_flight = 0;  // response bodies being written (shared bodies counted per client)
  };

 private:
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  HttpHandler& handler_;
  ServeOptions options_;
  std::shared_ptr<HttpMetrics> metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // Shared with every connection coroutine: their frames may outlive this object when the
  // io_context is destroyed after it, and they count themselves out in their destructors.
  std::shared_ptr<Counters> counters_;
};

}  // namespace crawler
