// Loopback tripwire for the egress tests: listeners a crawled page must never reach. It counts every
// TCP connection it accepts and every UDP datagram it receives, per endpoint and in total, and never
// answers. A count of zero proves the guard only beside a positive control (the same page with the
// guard opened) that makes the count rise.
//
// Contract:
// - The constructor binds every endpoint, in order, before it returns (so `port()` is valid at once).
//   It throws std::invalid_argument for an address outside 127.0.0.0/8 and ::1 (IPv4-mapped forms
//   included) or a `port_of` that names no earlier endpoint, and boost::system::system_error when a
//   required endpoint cannot be bound. An optional endpoint that cannot be bound (IPv6 ::1 on a host
//   without it, say) stays unbound, and `bound()` says so.
// - A TCP connection is counted as soon as it is accepted, before anything is read, then closed; a
//   datagram is counted when it arrives. Nothing is ever written back.
// - The getters may be called from any thread. The destructor closes every socket, stops the
//   server's thread and joins it; it never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace testsupport {

// One place to listen on.
struct CanaryEndpoint {
  std::string address;                   // 127.0.0.0/8 ("127.0.0.1", "127.0.0.2", ...) or "::1"
  std::uint16_t port = 0;                // 0: the kernel picks
  std::optional<std::size_t> port_of{};  // instead of `port`: the port the endpoint at this earlier index bound
  bool udp = false;                      // also a UDP socket on the same address and port
  bool optional = false;                 // a bind failure leaves the endpoint unbound instead of throwing
};

class CanaryServer {
 public:
  struct EndpointCounts {
    std::string address;
    std::uint16_t port = 0;  // 0 while unbound
    bool bound = false;      // TCP (and UDP, when asked for) are listening
    bool udp = false;        // a UDP socket was asked for
    std::uint64_t tcp_accepts = 0;
    std::uint64_t udp_datagrams = 0;
  };
  // A consistent snapshot of every counter.
  struct Counts {
    std::vector<EndpointCounts> endpoints;  // in the order given to the constructor
    std::uint64_t tcp_accepts = 0;          // over every endpoint
    std::uint64_t udp_datagrams = 0;
    std::uint64_t errors = 0;  // failed accepts or receives (transient, retried); expect 0
    std::uint64_t total() const { return tcp_accepts + udp_datagrams; }
  };

  explicit CanaryServer(std::vector<CanaryEndpoint> endpoints);
  ~CanaryServer();

  CanaryServer(const CanaryServer&) = delete;
  CanaryServer& operator=(const CanaryServer&) = delete;
  CanaryServer(CanaryServer&&) = delete;
  CanaryServer& operator=(CanaryServer&&) = delete;

  // Of the endpoint at `index` (std::out_of_range past the end): whether it listens, and its port
  // (0 while unbound).
  bool bound(std::size_t index) const;
  std::uint16_t port(std::size_t index) const;

  Counts counts() const;
  // TCP accepts plus UDP datagrams, over every endpoint.
  std::uint64_t total() const;
  // One line per endpoint, "127.0.0.1:40123 tcp 0 udp 0" or "[::1]:0 unbound", for a test's INFO.
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace testsupport
