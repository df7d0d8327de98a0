// crawler/metrics_server.hpp — a crawl worker's metrics port (`crawl --metrics-listen`): /metrics and
// /healthz served by the same hardened FeedServer as `cjcrawl serve`, on an io_context and a thread
// of its own, from bind before the crawl starts until after its summary is printed (and --metrics-linger
// seconds more, so a final scrape can read the last counts). A thread of its own rather than the
// crawl's io_context (where the design note put it): the server must outlive run_crawl, whose
// io.run() returns only when no work is left, and a scrape then never competes with CPU sampling.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "crawler/metrics.hpp"
#include "crawler/serve.hpp"
#include "util/status.hpp"

namespace crawler {

class MetricsServer {
 public:
  // Binds `listen` and starts serving `exposition` (which must outlive the server). An error names the
  // address and what to do, as `serve --listen` does.
  static util::Result<std::unique_ptr<MetricsServer>> start(const boost::asio::ip::tcp::endpoint& listen,
                                                            MetricsExposition& exposition);
  ~MetricsServer();  // stops accepting, ends the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Where it listens (the port chosen, for port 0): "http://127.0.0.1:PORT/metrics".
  const boost::asio::ip::tcp::endpoint& endpoint() const { return bound_; }
  std::string url() const;
  // Blocks the calling thread for `how_long`, or until SIGINT or SIGTERM, while scrapes go on. Says so
  // on stderr ("the final counts stay on URL for N s") once those signals are caught.
  void linger(std::chrono::seconds how_long);

 private:
  class Handler;
  explicit MetricsServer(MetricsExposition& exposition);

  boost::asio::io_context io_{1};
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<FeedServer> server_;
  boost::asio::ip::tcp::endpoint bound_;
  std::thread thread_;
};

}  // namespace crawler
