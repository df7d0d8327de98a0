// cdp/egress_proxy.hpp — the only way out for a crawled page: a SOCKS5 proxy inside cjcrawl that
// keeps visits off private networks (issue 17).
//
// Each Chrome is launched with `--proxy-server=socks5://127.0.0.1:PORT --proxy-bypass-list=<-loopback>`
// (see Browser::launch), so every TCP connection a page makes (navigation, subresources, fetch/XHR,
// WebSocket, workers, iframes; loopback and link-local included, which Chrome would otherwise send
// direct) arrives here as a host name and a port. The proxy resolves the name itself, checks every
// address with util::classify and the user's `--allow-network` exceptions, and connects only to an
// address it checked: the address checked is the address connected, so DNS rebinding has nothing to
// race. Every request leaves an EgressRecord (connected, blocked, no such host, …) in a bounded
// journal that the visit reads: blocked attempts become evidence, and connected addresses are the
// visit's remote IPs. UDP never comes here: Chrome is launched so that WebRTC uses no UDP outside a
// proxy (which SOCKS5 in Chrome never relays) and QUIC is not used through a proxy.
//
// Threads: the proxy runs on its own thread (its own io_context), so relaying never delays CDP; name
// resolution (blocking getaddrinfo) runs on a small shared pool with a deadline. The public members
// may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "util/address.hpp"
#include "util/host_rules.hpp"
#include "util/status.hpp"

namespace cdp {

// What became of one connection request.
enum class EgressOutcome {
  connected,    // relayed to `connected_ip`
  blocked,      // every address the host named or resolved to is off limits (the guard's refusal)
  not_found,    // the name does not resolve (or the host rules say ~NOTFOUND)
  unreachable,  // allowed, but no address accepted the connection
  timeout,      // resolution or every connection attempt ran out of time
  invalid,      // a host no URL can hold, port 0, or a command other than CONNECT
};
std::string_view to_string(EgressOutcome outcome);

struct EgressAddress {
  std::string ip;
  util::AddressClass address_class = util::AddressClass::public_address;
};

struct EgressRecord {
  std::uint64_t sequence = 0;  // 1, 2, …: a journal position (EgressProxy::mark)
  std::int64_t at_ms = 0;      // Unix epoch milliseconds when the request was decided
  std::string host;            // as Chrome sent it (page-controlled text: escape before printing)
  std::uint16_t port = 0;
  EgressOutcome outcome = EgressOutcome::invalid;
  std::vector<EgressAddress> refused;  // addresses the guard refused (also beside a connection)
  std::string connected_ip;            // outcome connected
  std::string why;                     // in words, for a status reason or the evidence
};

// What a page may reach. By default nothing that util::is_private_use names; `allow` opens
// exceptions; `host_rules` maps names before resolution (tests and the demo map `*.test` to
// loopback; a mapping grants no access by itself).
struct EgressPolicy {
  std::vector<util::NetworkException> allow;
  util::HostRules host_rules;
};

// A name's addresses, from a blocking resolver. `not_found`: the name does not exist (or has no
// address); `error`: resolution failed otherwise (in words).
struct ResolveAnswer {
  std::vector<boost::asio::ip::address> addresses;
  bool not_found = false;
  std::string error;
};
// Blocking; called on a resolver thread, never on the proxy's own.
using Resolver = std::function<ResolveAnswer(const std::string& name)>;
// getaddrinfo(AF_UNSPEC, SOCK_STREAM).
ResolveAnswer resolve_with_system(const std::string& name);
// A test hook, for the browser tests of DNS rebinding: $CJCRAWL_TEST_RESOLVE_SEQUENCE holds
// "NAME=IP,IP,…;NAME=…" and each lookup of NAME answers the next IP of its list (the last one
// repeating), as a rebinding server with a zero TTL would; other names go to resolve_with_system.
// An empty function when the variable is unset or unreadable (then it is ignored, with a warning).
Resolver resolver_from_test_environment();

struct EgressLimits {
  std::size_t max_tunnels = 512;  // connections open at once (Chrome itself keeps ≤ 32 per proxy, plus sockets)
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds resolve_timeout{10'000};
  std::chrono::milliseconds connect_timeout{10'000};  // per address
  std::chrono::milliseconds idle_timeout{300'000};    // a tunnel with no byte either way
  std::size_t max_addresses = 16;                     // candidates kept per name
  // Lookups one proxy has on the shared resolver threads at once; more wait their turn (within
  // resolve_timeout), so a page resolving hundreds of names cannot hold up other browsers' lookups.
  std::size_t max_lookups = 8;
  std::size_t journal_size = 4096;  // records kept; older ones are counted as dropped
};

struct EgressStats {
  std::uint64_t requests = 0;  // CONNECT requests read
  std::uint64_t connected = 0;
  std::uint64_t blocked = 0;
  std::uint64_t failed = 0;          // not_found, unreachable, timeout, invalid
  std::uint64_t over_capacity = 0;   // connections closed at once: max_tunnels open
  std::uint64_t bad_handshakes = 0;  // not SOCKS5, no acceptable method, or too slow
  std::uint64_t journal_dropped = 0;
};

// The pure decision: which of `candidates` a page may connect to when it asked for `host`:`port`.
// Off limits: an address of a private-use class that no exception opens, and, whatever the
// exceptions say, a loopback or unspecified address on one of `denied_loopback_ports` (cjcrawl's own
// listeners: the proxy, Chrome's DevTools). Candidates keep their order.
struct EgressDecision {
  std::vector<boost::asio::ip::address> allowed;
  std::vector<EgressAddress> refused;
};
EgressDecision decide_egress(std::string_view host, std::uint16_t port,
                             const std::vector<boost::asio::ip::address>& candidates, const EgressPolicy& policy,
                             const std::set<std::uint16_t>& denied_loopback_ports);

// `localhost`, `localhost.`, `*.localhost`, `localhost6`, `localhost.localdomain` (any case): names
// that are loopback without asking DNS, as Chrome treats them.
bool is_localhost_name(std::string_view host);

class EgressProxy {
 public:
  // Listens on 127.0.0.1 (a port the kernel picks) and starts the proxy's thread. An empty resolver
  // means resolve_with_system. Fails only when no socket can be bound.
  static util::Result<std::unique_ptr<EgressProxy>> start(EgressPolicy policy, Resolver resolver = {},
                                                          EgressLimits limits = {});
  ~EgressProxy();  // closes the listener and every tunnel, joins the thread; never throws
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  std::uint16_t port() const { return port_; }
  // A loopback port no page may reach, whatever the exceptions (Chrome's DevTools port, once known).
  void deny_loopback_port(std::uint16_t port);
  // The sequence number the next record will have: a visit's start.
  std::uint64_t mark() const;
  // Records with sequence >= mark, oldest first. `dropped`: how many of them the bounded journal lost.
  std::vector<EgressRecord> records_since(std::uint64_t mark, std::uint64_t* dropped = nullptr) const;
  EgressStats stats() const;

  struct State;  // shared with the proxy's coroutines (egress_proxy.cpp)

 private:
  EgressProxy() = default;
  std::shared_ptr<State> state_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace cdp
