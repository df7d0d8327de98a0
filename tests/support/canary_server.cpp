// Loopback tripwire: count, close, never answer. One single-threaded io_context on its own thread;
// one coroutine per socket, the only one that touches it.
#include "tests/support/canary_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <future>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

namespace testsupport {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using boost::system::error_code;

// Every asynchronous step reports its error as a value; exceptions are left for bugs.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A failed accept or receive (out of descriptors, say) is retried after this, so it cannot spin.
constexpr std::chrono::milliseconds kRetryDelay{100};
// How long the destructor lets the coroutines finish after closing their sockets.
constexpr std::chrono::seconds kShutdownGrace{5};
// With port 0 and UDP, the kernel's TCP port may be taken for UDP; so many ports are tried.
constexpr int kBindAttempts = 8;
// Datagrams are counted, not read; a longer one is truncated into this.
constexpr std::size_t kDatagramBytes = 2048;

// 127.0.0.0/8 or ::1, nothing else (::ffff:127.0.0.1 neither: the canary binds what it is told).
asio::ip::address canary_address_or_throw(const std::string& text) {
  error_code parse_error;
  const asio::ip::address address = asio::ip::make_address(text, parse_error);
  const bool loopback = !parse_error && ((address.is_v4() && (address.to_v4().to_uint() >> 24) == 127) ||
                                         (address.is_v6() && address.to_v6().is_loopback()));
  if (!loopback) {
    throw std::invalid_argument("CanaryServer: address '" + text +
                                "' is not loopback (127.0.0.0/8 or ::1); the canary listens only on loopback");
  }
  return address;
}

// Opens, binds and (for TCP) listens; the error of the first step that fails.
template <class Socket, class Endpoint>
error_code open_and_bind(Socket& socket, const Endpoint& endpoint) {
  error_code error;
  socket.open(endpoint.protocol(), error);
  // An IPv6 socket on ::1 takes IPv6 only (loopback carries no IPv4-mapped traffic anyway).
  if (!error && endpoint.address().is_v6()) socket.set_option(asio::ip::v6_only(true), error);
  if constexpr (std::is_same_v<Socket, tcp::acceptor>) {
    // TCP only: on UDP, SO_REUSEADDR would let another socket share the port and its datagrams.
    if (!error) socket.set_option(asio::socket_base::reuse_address(true), error);
  }
  if (!error) socket.bind(endpoint, error);
  if constexpr (std::is_same_v<Socket, tcp::acceptor>) {
    if (!error) socket.listen(asio::socket_base::max_listen_connections, error);
  }
  if (error) {
    error_code ignored;
    socket.close(ignored);
  }
  return error;
}

std::string endpoint_text(const std::string& address, std::uint16_t port) {
  return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

}  // namespace

struct CanaryServer::Impl {
  explicit Impl(std::vector<CanaryEndpoint> endpoints);
  ~Impl();

  void bind_endpoint(std::size_t index, const CanaryEndpoint& endpoint);
  void run_io_thread() noexcept;
  void begin_shutdown();
  asio::awaitable<void> accept_loop(std::size_t index);
  asio::awaitable<void> receive_loop(std::size_t index);
  template <class Update>
  void update_counts(Update update) {
    std::lock_guard lock(counts_mutex_);
    update(counts_);
  }
  const EndpointCounts& endpoint_at(std::size_t index) const;  // under counts_mutex_

  // Shared with other threads.
  mutable std::mutex counts_mutex_;
  Counts counts_;

  // Touched only on the io thread once it runs. Declared before io_context_ so that coroutine
  // frames destroyed by ~io_context never outlive the sockets they name.
  bool stopping_ = false;
  asio::io_context io_context_{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;  // one per endpoint; closed while unbound
  std::vector<std::unique_ptr<udp::socket>> udp_sockets_;  // one per endpoint; closed unless asked for
  std::promise<void> io_thread_done_;
  std::thread io_thread_;
};

CanaryServer::Impl::Impl(std::vector<CanaryEndpoint> endpoints) {
  // Bind everything now, so errors throw here and every port is known when the constructor returns.
  for (std::size_t index = 0; index < endpoints.size(); ++index) {
    acceptors_.push_back(std::make_unique<tcp::acceptor>(io_context_));
    udp_sockets_.push_back(std::make_unique<udp::socket>(io_context_));
    bind_endpoint(index, endpoints[index]);
  }
  // Each bound socket gets its one coroutine; they run once the thread starts.
  for (std::size_t index = 0; index < endpoints.size(); ++index) {
    auto record_bug = [this](std::exception_ptr error) {
      if (error) update_counts([](Counts& counts) { ++counts.errors; });
    };
    if (acceptors_[index]->is_open()) asio::co_spawn(io_context_, accept_loop(index), record_bug);
    if (udp_sockets_[index]->is_open()) asio::co_spawn(io_context_, receive_loop(index), record_bug);
  }
  io_thread_ = std::thread([this] { run_io_thread(); });
}

void CanaryServer::Impl::bind_endpoint(std::size_t index, const CanaryEndpoint& endpoint) {
  const asio::ip::address address = canary_address_or_throw(endpoint.address);
  EndpointCounts entry{.address = address.to_string(), .udp = endpoint.udp};
  std::uint16_t requested_port = endpoint.port;
  if (endpoint.port_of) {
    if (*endpoint.port_of >= index) {
      throw std::invalid_argument("CanaryServer: endpoint " + std::to_string(index) + " takes the port of endpoint " +
                                  std::to_string(*endpoint.port_of) + ", which is not an earlier one");
    }
    requested_port = counts_.endpoints[*endpoint.port_of].port;
  }
  error_code error;
  if (endpoint.port_of && requested_port == 0) {
    // The endpoint it takes its port from is unbound.
    error = boost::system::errc::make_error_code(boost::system::errc::address_not_available);
  } else {
    // With port 0 and UDP, a port the kernel picked for TCP may be taken for UDP: pick again.
    const int attempts = requested_port == 0 && endpoint.udp ? kBindAttempts : 1;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      error = open_and_bind(*acceptors_[index], tcp::endpoint(address, requested_port));
      if (error) break;
      const std::uint16_t bound_port = acceptors_[index]->local_endpoint().port();
      if (endpoint.udp) error = open_and_bind(*udp_sockets_[index], udp::endpoint(address, bound_port));
      if (!error) {
        entry.port = bound_port;
        entry.bound = true;
        break;
      }
      error_code ignored;
      acceptors_[index]->close(ignored);
    }
  }
  if (error && !endpoint.optional) {
    throw boost::system::system_error(
        error, "CanaryServer: cannot listen on " + endpoint_text(entry.address, requested_port) +
                   (endpoint.udp ? " (TCP and UDP)" : " (TCP)") + " (pass port 0 to let the kernel pick a free one)");
  }
  counts_.endpoints.push_back(std::move(entry));
}

CanaryServer::Impl::~Impl() {
  if (!io_thread_.joinable()) return;
  std::future<void> done = io_thread_done_.get_future();
  try {
    // Close every socket on the io thread; the coroutines then finish and run() returns.
    asio::post(io_context_, [this] { begin_shutdown(); });
  } catch (...) {
    io_context_.stop();
  }
  // A coroutine that does not finish in time (a bug) is abandoned: ~io_context destroys it.
  if (done.wait_for(kShutdownGrace) != std::future_status::ready) io_context_.stop();
  io_thread_.join();
}

void CanaryServer::Impl::run_io_thread() noexcept {
  // A handler that throws is a bug; count it and keep listening until stopped.
  for (;;) {
    try {
      io_context_.run();
      break;
    } catch (...) {
      try {
        update_counts([](Counts& counts) { ++counts.errors; });
      } catch (...) {
      }
    }
  }
  io_thread_done_.set_value();
}

void CanaryServer::Impl::begin_shutdown() {
  stopping_ = true;
  error_code ignored;
  for (auto& acceptor : acceptors_) acceptor->close(ignored);
  for (auto& socket : udp_sockets_) socket->close(ignored);
}

asio::awaitable<void> CanaryServer::Impl::accept_loop(std::size_t index) {
  tcp::acceptor& acceptor = *acceptors_[index];
  asio::steady_timer retry_timer(io_context_);
  for (;;) {
    // Wait for the next client.
    auto [accept_error, socket] = co_await acceptor.async_accept(kNoThrow);
    if (stopping_ || !acceptor.is_open()) co_return;
    if (accept_error) {
      // Transient (out of descriptors, say): count it, and pause so a lasting error cannot spin.
      update_counts([](Counts& counts) { ++counts.errors; });
      retry_timer.expires_after(kRetryDelay);
      co_await retry_timer.async_wait(kNoThrow);
      continue;
    }
    // Count first, read nothing, close: whatever reached here has crossed the guard.
    update_counts([index](Counts& counts) {
      ++counts.endpoints[index].tcp_accepts;
      ++counts.tcp_accepts;
    });
    error_code ignored;
    socket.close(ignored);
  }
}

asio::awaitable<void> CanaryServer::Impl::receive_loop(std::size_t index) {
  udp::socket& socket = *udp_sockets_[index];
  asio::steady_timer retry_timer(io_context_);
  std::array<char, kDatagramBytes> datagram{};
  udp::endpoint sender;
  for (;;) {
    // Wait for the next datagram, whoever sent it.
    auto [receive_error, bytes] = co_await socket.async_receive_from(asio::buffer(datagram), sender, kNoThrow);
    if (stopping_ || !socket.is_open()) co_return;
    if (receive_error) {
      update_counts([](Counts& counts) { ++counts.errors; });
      retry_timer.expires_after(kRetryDelay);
      co_await retry_timer.async_wait(kNoThrow);
      continue;
    }
    update_counts([index](Counts& counts) {
      ++counts.endpoints[index].udp_datagrams;
      ++counts.udp_datagrams;
    });
  }
}

const CanaryServer::EndpointCounts& CanaryServer::Impl::endpoint_at(std::size_t index) const {
  if (index >= counts_.endpoints.size()) {
    throw std::out_of_range("CanaryServer: no endpoint " + std::to_string(index) + " (there are " +
                            std::to_string(counts_.endpoints.size()) + ")");
  }
  return counts_.endpoints[index];
}

CanaryServer::CanaryServer(std::vector<CanaryEndpoint> endpoints)
    : impl_(std::make_unique<Impl>(std::move(endpoints))) {}

CanaryServer::~CanaryServer() = default;

bool CanaryServer::bound(std::size_t index) const {
  std::lock_guard lock(impl_->counts_mutex_);
  return impl_->endpoint_at(index).bound;
}

std::uint16_t CanaryServer::port(std::size_t index) const {
  std::lock_guard lock(impl_->counts_mutex_);
  return impl_->endpoint_at(index).port;
}

CanaryServer::Counts CanaryServer::counts() const {
  std::lock_guard lock(impl_->counts_mutex_);
  return impl_->counts_;
}

std::uint64_t CanaryServer::total() const {
  std::lock_guard lock(impl_->counts_mutex_);
  return impl_->counts_.total();
}

std::string CanaryServer::describe() const {
  const Counts snapshot = counts();
  std::ostringstream text;
  for (const EndpointCounts& endpoint : snapshot.endpoints) {
    text << endpoint_text(endpoint.address, endpoint.port);
    if (!endpoint.bound) {
      text << " unbound\n";
      continue;
    }
    text << " tcp " << endpoint.tcp_accepts;
    if (endpoint.udp) text << " udp " << endpoint.udp_datagrams;
    text << '\n';
  }
  if (snapshot.errors > 0) text << "errors " << snapshot.errors << '\n';
  return text.str();
}

}  // namespace testsupport
