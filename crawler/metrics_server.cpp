// crawler/metrics_server.cpp — see metrics_server.hpp.
#include "crawler/metrics_server.hpp"

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace crawler {

namespace asio = boost::asio;

namespace {

HttpResponse plain(int status, std::string text) {
  HttpResponse response;
  response.status = status;
  response.body = std::make_shared<const std::string>(std::move(text));
  return response;
}

}  // namespace

// /metrics and /healthz, GET and HEAD; everything else a 404 (405 for other methods).
class MetricsServer::Handler final : public HttpHandler {
 public:
  explicit Handler(MetricsExposition& exposition) : exposition_(exposition) {}

  asio::awaitable<HttpResponse> handle(HttpRequest request) override {
    if (request.method != "GET" && request.method != "HEAD") {
      auto refused = plain(405, "405 Method Not Allowed: only GET and HEAD are served\n");
      refused.headers.emplace_back("Allow", "GET, HEAD");
      co_return refused;
    }
    auto parsed = boost::urls::parse_origin_form(request.target);
    std::string_view path;  // into request.target
    if (parsed) path = parsed->encoded_path();
    if (path == "/metrics") co_return metrics_response(exposition_);
    if (path == "/healthz") {
      auto healthy = plain(200, "{\"status\":\"ok\"}\n");
      healthy.route = "healthz";
      healthy.content_type = "application/json";
      healthy.headers.emplace_back("Cache-Control", "no-cache");
      co_return healthy;
    }
    co_return plain(404, "404 Not Found: this is a crawl worker's metrics port; try /metrics or /healthz\n");
  }

 private:
  MetricsExposition& exposition_;
};

MetricsServer::MetricsServer(MetricsExposition& exposition) : handler_(std::make_unique<Handler>(exposition)) {}

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const asio::ip::tcp::endpoint& listen,
                                                                  MetricsExposition& exposition) {
  std::unique_ptr<MetricsServer> server(new MetricsServer(exposition));
  ServeOptions options;
  options.listen = listen;
  options.max_connections = 16;  // a scraper or two, and a person with curl
  options.max_bytes_in_flight = 64u << 20;
  server->server_ = std::make_unique<FeedServer>(server->io_, *server->handler_, options,
                                                 std::make_shared<HttpMetrics>(exposition.registry()));
  try {
    server->bound_ = server->server_->bind();
  } catch (const std::exception& e) {
    return util::make_error(util::ErrorCode::io, "--metrics-listen", e.what());
  }
  exposition.add(server->server_->connection_metrics());
  asio::co_spawn(server->io_, server->server_->run(), [](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("metrics server: {}", e.what());
    }
  });
  server->thread_ = std::thread([io = &server->io_] { io->run(); });
  return server;
}

MetricsServer::~MetricsServer() {
  if (thread_.joinable()) {
    // The server is the io thread's to touch: stop it there, then end the loop.
    asio::post(io_, [this] {
      server_->stop();
      io_.stop();
    });
    thread_.join();
  }
}

std::string MetricsServer::url() const {
  const auto address = bound_.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return fmt::format("http://{}:{}/metrics", host, bound_.port());
}

void MetricsServer::linger(std::chrono::seconds how_long) {
  if (how_long.count() <= 0) return;
  // A loop of this thread's own: the timer, or a signal, whichever comes first, ends it.
  asio::io_context waiting(1);
  asio::steady_timer timer(waiting, how_long);
  asio::signal_set signals(waiting, SIGINT, SIGTERM);
  // Said once the signals are caught: a SIGTERM sent on reading this line ends the wait, never the process.
  fmt::print(stderr, "cjcrawl: metrics: the final counts stay on {} for {} s (SIGTERM or Ctrl-C ends this)\n", url(),
             how_long.count());
  timer.async_wait([&](const boost::system::error_code&) { signals.cancel(); });
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) timer.cancel();
  });
  waiting.run();
}

}  // namespace crawler
