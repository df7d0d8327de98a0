// crawler/serve.cpp — see serve.hpp. One coroutine accepts; one coroutine per connection reads a
// request, asks the HttpHandler, writes the response, and loops while the client keeps it alive.
#include "crawler/serve.hpp"

#include "crawler/metrics.hpp"
#include "util/clock.hpp"

#include <charconv>
#include <span>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace crawler {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// At most this many 503s are written at once; beyond, an over-limit connection is just closed.
constexpr std::size_t kMaxRefusing = 64;
constexpr std::chrono::seconds kRefuseTimeout{2};
constexpr auto kRetryAfterSeconds = "1";

// Logs what escaped a connection coroutine (a bug: expected failures are values).
void log_exception(std::exception_ptr failure) {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    spdlog::error("serve: connection: {}", e.what());
  }
}

template <class Body>
void common_headers(http::response<Body>& response) {
  response.set(http::field::server, "cjcrawl");
  response.set(http::field::date, http_date(util::wall_ms()));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
}

// Writes a plain error response for a request that could not be read, then the caller closes.
asio::awaitable<void> write_error(beast::tcp_stream& stream, http::status status, std::string_view reason,
                                  std::chrono::milliseconds timeout) {
  http::response<http::string_body> response{status, 11};
  common_headers(response);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::connection, "close");
  response.body() = fmt::format("{} {}: {}\n", static_cast<unsigned>(status), http::obsolete_reason(status), reason);
  response.prepare_payload();
  stream.expires_after(timeout);
  co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
}

// The status for a request Beast could not parse.
http::status read_failure_status(const beast::error_code& error) {
  if (error == http::error::header_limit || error == http::error::buffer_overflow)
    return http::status::request_header_fields_too_large;
  if (error == http::error::unexpected_body || error == http::error::body_limit) return http::status::payload_too_large;
  return http::status::bad_request;
}

// Counts a connection in for as long as it lives.
struct CountedIn {
  std::shared_ptr<FeedServer::Counters> counters;
  std::size_t FeedServer::Counters::*field;
  CountedIn(std::shared_ptr<FeedServer::Counters> c, std::size_t FeedServer::Counters::*f)
      : counters(std::move(c)), field(f) {}
  CountedIn(const CountedIn&) = delete;
  CountedIn& operator=(const CountedIn&) = delete;
  ~CountedIn() { --((*counters).*field); }
};

// Whether a failed read just means the client went away (nothing to answer).
bool client_left(const beast::error_code& error) {
  return error == http::error::end_of_stream || error == beast::error::timeout || error == asio::error::eof ||
         error == asio::error::connection_reset || error == asio::error::operation_aborted;
}

HttpRequest to_service_request(const http::request<http::empty_body>& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.if_none_match = std::string(message[http::field::if_none_match]);
  request.if_modified_since = std::string(message[http::field::if_modified_since]);
  request.accept_encoding = std::string(message[http::field::accept_encoding]);
  return request;
}

// Bounded memory: bodies still being read by slow clients count until their write ends; an answer
// that would pass the cap becomes a 503.
HttpResponse within_bytes_in_flight(HttpResponse answer, std::size_t in_flight, std::size_t cap, bool head) {
  const std::size_t body_bytes = head ? 0 : answer.body->size();
  if (body_bytes == 0 || in_flight + body_bytes <= cap) return answer;
  HttpResponse busy;
  busy.route = answer.route;
  busy.status = 503;
  busy.headers.emplace_back("Retry-After", kRetryAfterSeconds);
  busy.body = std::make_shared<const std::string>("503 Service Unavailable: too much being sent; retry shortly\n");
  return busy;
}

// Writes the answer from its shared body (no copy of a cached feed), under its own deadline.
// Returns false when the write failed.
asio::awaitable<bool> write_answer(beast::tcp_stream& stream, const HttpResponse& answer, unsigned version,
                                   bool keep_alive, bool head, std::chrono::milliseconds timeout) {
  http::response<http::span_body<const char>> response{static_cast<http::status>(answer.status), version};
  common_headers(response);
  if (answer.status != 304) response.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) response.set(name, value);
  response.body() = std::span<const char>(answer.body->data(), answer.body->size());
  response.keep_alive(keep_alive);
  response.prepare_payload();
  // A 304 has no body; a Content-Length there would have to be the 200's (RFC 9110 8.6), so none.
  if (answer.status == 304) response.erase(http::field::content_length);
  stream.expires_after(timeout);
  http::response_serializer<http::span_body<const char>> serializer(response);
  beast::error_code error;
  if (head) {
    // HEAD: the headers the GET would send, Content-Length included, and no body.
    std::tie(error, std::ignore) =
        co_await http::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
  } else {
    std::tie(error, std::ignore) = co_await http::async_write(stream, serializer, asio::as_tuple(asio::use_awaitable));
  }
  co_return !error;
}

}  // namespace

util::Result<tcp::endpoint> parse_listen(std::string_view text) {
  const auto refused = [](std::string why) {
    return util::make_error(util::ErrorCode::invalid_argument, "", std::move(why));
  };
  std::string host;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return refused("expected [IPv6]:PORT");
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return refused("expected HOST:PORT, e.g. 127.0.0.1:8080");
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  const auto [end, parse_error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || parse_error != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return refused("the port must be 0 to 65535 (0: any free port)");
  boost::system::error_code address_error;
  const auto address = asio::ip::make_address(host, address_error);
  if (address_error)
    return refused(
        fmt::format("{} is not an IP address (names are not resolved; use 127.0.0.1, ::1 or localhost)", host));
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

FeedServer::FeedServer(asio::io_context& io, HttpHandler& handler, ServeOptions options,
                       std::shared_ptr<HttpMetrics> metrics)
    : io_(io), handler_(handler), options_(options), metrics_(std::move(metrics)), acceptor_(io),
      counters_(std::make_shared<Counters>()) {}

FeedServer::~FeedServer() = default;

tcp::endpoint FeedServer::bind() {
  acceptor_.open(options_.listen.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  boost::system::error_code error;
  acceptor_.bind(options_.listen, error);
  if (error) {
    // What the user can do about it, in words; Boost's own text adds its source location.
    std::string why = error.message();
    if (error == boost::system::errc::address_in_use)
      why = "the port is in use by another program (stop it, or listen on another port; port 0 picks a free one)";
    else if (error == boost::system::errc::permission_denied)
      why = "permission denied (ports below 1024 need privileges: use a port from 1024 up)";
    else if (error == boost::system::errc::address_not_available) why = "that address is not one of this machine's";
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{}: {}", options_.listen.address().to_string(), options_.listen.port(), why));
  }
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint();
}

void FeedServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

namespace {

// The server's Counters, read when scraped (on the io thread, like every other touch of them).
class ConnectionMetrics final : public prometheus::Collectable {
 public:
  explicit ConnectionMetrics(std::shared_ptr<const FeedServer::Counters> counters) : counters_(std::move(counters)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const FeedServer::Counters& counters = *counters_;
    return {single_sample("cjcrawl_http_connections_active", "Connections being served", MetricType::Gauge,
                          static_cast<double>(counters.active)),
            single_sample("cjcrawl_http_connections_accepted_total", "Connections accepted (refused ones included)",
                          MetricType::Counter, static_cast<double>(counters.accepted)),
            single_sample("cjcrawl_http_connections_refused_total", "Connections refused over --max-connections",
                          MetricType::Counter, static_cast<double>(counters.refused)),
            single_sample("cjcrawl_http_response_bytes_in_flight",
                          "Response body bytes held for clients still reading them", MetricType::Gauge,
                          static_cast<double>(counters.bytes_in_flight))};
  }

 private:
  std::shared_ptr<const FeedServer::Counters> counters_;
};

}  // namespace

std::shared_ptr<const prometheus::Collectable> FeedServer::connection_metrics() const {
  return std::make_shared<ConnectionMetrics>(counters_);
}

asio::awaitable<void> FeedServer::run() {
  for (;;) {
    auto [error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (!acceptor_.is_open()) co_return;
    if (error) {
      // Out of file descriptors (EMFILE) and the like: back off a little rather than spin.
      spdlog::warn("serve: accept: {}", error.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    ++counters_->accepted;
    if (counters_->active >= options_.max_connections) {
      ++counters_->refused;
      if (counters_->rejecting >= kMaxRefusing) continue;  // the socket closes as it goes out of scope
      ++counters_->rejecting;
      if (metrics_) metrics_->unrouted(503);
      asio::co_spawn(io_, refuse(std::move(socket)), log_exception);
      continue;
    }
    ++counters_->active;
    asio::co_spawn(io_, session(std::move(socket)), log_exception);
  }
}

asio::awaitable<void> FeedServer::refuse(tcp::socket socket) {
  CountedIn counted(counters_, &Counters::rejecting);
  beast::tcp_stream stream(std::move(socket));
  http::response<http::string_body> response{http::status::service_unavailable, 11};
  common_headers(response);
  response.set(http::field::retry_after, kRetryAfterSeconds);
  response.set(http::field::connection, "close");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = "503 Service Unavailable: too many connections; retry shortly\n";
  response.prepare_payload();
  stream.expires_after(kRefuseTimeout);
  co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> FeedServer::session(tcp::socket socket) {
  CountedIn active(counters_, &Counters::active);
  const auto options = options_;  // copied: the frame may outlive the server (see counters_)
  const auto metrics = metrics_;
  beast::tcp_stream stream(std::move(socket));
  // The buffer's cap backs the parser's header limit: a request can never make it grow further.
  beast::flat_buffer buffer(options.max_header_bytes + 1024);
  for (bool first = true;; first = false) {
    // Step 1: read one request under a deadline that covers all of it (slow-loris).
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    stream.expires_after(first ? options.header_timeout : options.idle_timeout);
    auto [read_error, read_bytes] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    (void)read_bytes;
    if (client_left(read_error)) break;
    if (read_error) {
      const auto status = read_failure_status(read_error);
      if (metrics) metrics->unrouted(static_cast<int>(status));
      co_await write_error(stream, status, read_error.message(), options.write_timeout);
      break;
    }
    const auto& message = parser.get();
    const bool keep_alive = message.keep_alive();
    const bool head = message.method() == http::verb::head;

    // Step 2: the answer. The handler never throws for what a client sends. It is counted before it
    // is written, so a client that has read it finds it in the next scrape.
    const auto asked = std::chrono::steady_clock::now();
    HttpResponse answer = within_bytes_in_flight(co_await handler_.handle(to_service_request(message)),
                                                 counters_->bytes_in_flight, options.max_bytes_in_flight, head);
    if (metrics)
      metrics->answered(answer.route, answer.status,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count());
    const std::size_t counted = head ? 0 : answer.body->size();
    counters_->bytes_in_flight += counted;
    struct Uncount {
      std::shared_ptr<Counters> counters;
      std::size_t bytes;
      ~Uncount() { counters->bytes_in_flight -= bytes; }
    } uncount{counters_, counted};

    // Step 3: write it.
    const bool written =
        co_await write_answer(stream, answer, message.version(), keep_alive, head, options.write_timeout);
    if (!written || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace crawler
