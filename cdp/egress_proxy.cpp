// cdp/egress_proxy.cpp — see egress_proxy.hpp.
//
// One connection, step by step (each a small function below):
//   1. greeting: SOCKS version 5 with the no-authentication method (RFC 1928 §3); anything else closes;
//   2. request: CONNECT to a domain name, an IPv4 or an IPv6 address (§4); Chrome always sends a name
//      (ATYP 3), literals included;
//   3. candidates: a literal is itself, a localhost name is loopback, otherwise the host rules, then
//      the resolver under a deadline;
//   4. decision (decide_egress) and the journal record, written before the reply so that a visit that
//      sees Chrome's error also sees why;
//   5. connect to the allowed addresses in order, reply (§6), relay until either side closes or the
//      tunnel idles.
// The whole handshake (1–2) runs under one deadline; the payload is never parsed.
#include "cdp/egress_proxy.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <deque>
#include <map>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/clock.hpp"
#include "util/text.hpp"

namespace cdp {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kResolverThreads = 4;  // shared by every proxy of the process
constexpr std::size_t kRelayBufferBytes = 16 * 1024;

// RFC 1928 §6 reply codes.
enum Reply : std::uint8_t {
  kSucceeded = 0,
  kGeneralFailure = 1,
  kNotAllowed = 2,
  kHostUnreachable = 4,
  kConnectionRefused = 5,
  kTtlExpired = 6,
  kCommandNotSupported = 7,
  kAddressTypeNotSupported = 8,
};

// Resolution blocks (getaddrinfo); it runs here, never on a proxy's thread. Created on first use and
// never destroyed: a lookup still running at exit must not hold the process up.
asio::thread_pool& resolver_pool() {
  static auto* pool = new asio::thread_pool(kResolverThreads);
  return *pool;
}

}  // namespace

std::string_view to_string(EgressOutcome outcome) {
  switch (outcome) {
    case EgressOutcome::connected: return "connected";
    case EgressOutcome::blocked: return "blocked";
    case EgressOutcome::not_found: return "not_found";
    case EgressOutcome::unreachable: return "unreachable";
    case EgressOutcome::timeout: return "timeout";
    case EgressOutcome::invalid: return "invalid";
  }
  return "invalid";
}

bool is_localhost_name(std::string_view host) {
  const std::string name = util::host_name_key(host);
  return name == "localhost" || name.ends_with(".localhost") || name == "localhost6" ||
         name == "localhost.localdomain" || name == "localhost6.localdomain6";
}

ResolveAnswer resolve_with_system(const std::string& name) {
  ResolveAnswer answer;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (rc == EAI_NONAME || rc == EAI_NODATA) {
    answer.not_found = true;
    return answer;
  }
  if (rc != 0) {
    answer.error = ::gai_strerror(rc);
    return answer;
  }
  for (const addrinfo* item = found; item; item = item->ai_next) {
    if (item->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(item->ai_addr);
      asio::ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &in->sin_addr, 4);
      answer.addresses.emplace_back(asio::ip::address_v4(bytes));
    } else if (item->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(item->ai_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &in6->sin6_addr, 16);
      answer.addresses.emplace_back(asio::ip::address_v6(bytes));
    }
  }
  ::freeaddrinfo(found);
  if (answer.addresses.empty()) answer.not_found = true;
  return answer;
}

Resolver resolver_from_test_environment() {
  const char* text = std::getenv("CJCRAWL_TEST_RESOLVE_SEQUENCE");
  if (text == nullptr || *text == '\0') return {};
  struct Script {
    std::mutex mutex;
    std::map<std::string, std::vector<asio::ip::address>> answers;
    std::map<std::string, std::size_t> next;
  };
  auto script = std::make_shared<Script>();
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto end = std::min(rest.find(';'), rest.size());
    const std::string_view entry = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string name = util::host_name_key(entry.substr(0, equals));
    std::string_view ips = entry.substr(equals + 1);
    while (!ips.empty()) {
      const auto comma = std::min(ips.find(','), ips.size());
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(std::string(ips.substr(0, comma)), ec);
      ips.remove_prefix(std::min(comma + 1, ips.size()));
      if (ec) {
        spdlog::warn("CJCRAWL_TEST_RESOLVE_SEQUENCE: not an address list; ignored");
        return {};
      }
      script->answers[name].push_back(address);
    }
  }
  spdlog::warn("CJCRAWL_TEST_RESOLVE_SEQUENCE is set: names in it resolve as the test scripted");
  return [script](const std::string& name) {
    {
      const std::lock_guard lock(script->mutex);
      auto found = script->answers.find(name);
      if (found != script->answers.end() && !found->second.empty()) {
        auto& next = script->next[name];
        ResolveAnswer answer;
        answer.addresses.push_back(found->second[std::min(next, found->second.size() - 1)]);
        ++next;
        return answer;
      }
    }
    return resolve_with_system(name);
  };
}

EgressDecision decide_egress(std::string_view host, std::uint16_t port,
                             const std::vector<asio::ip::address>& candidates, const EgressPolicy& policy,
                             const std::set<std::uint16_t>& denied_loopback_ports) {
  EgressDecision decision;
  for (const auto& address : candidates) {
    const auto address_class = util::classify(address);
    const bool local = address_class == util::AddressClass::loopback ||
                       address_class == util::AddressClass::unspecified;  // Linux connects 0.0.0.0 to itself
    bool allowed = !util::is_private_use(address_class);
    if (!allowed)
      for (const auto& exception : policy.allow)
        if (exception.allows(host, address, port)) {
          allowed = true;
          break;
        }
    if (local && denied_loopback_ports.contains(port)) allowed = false;
    if (allowed) decision.allowed.push_back(address);
    else decision.refused.push_back({address.to_string(), address_class});
  }
  return decision;
}

// ---- The proxy's shared state -------------------------------------------------------------------------

struct EgressProxy::State : std::enable_shared_from_this<State> {
  State(EgressPolicy p, Resolver r, EgressLimits l)
      : policy(std::move(p)), resolver(std::move(r)), limits(l), acceptor(io) {}

  asio::io_context io{1};
  const EgressPolicy policy;
  const Resolver resolver;
  const EgressLimits limits;
  tcp::acceptor acceptor;
  std::size_t open_tunnels = 0;       // the proxy's thread only
  std::size_t lookups_in_flight = 0;  // likewise: on the resolver threads, until their answer is back

  mutable std::mutex mutex;  // guards everything below
  std::set<std::uint16_t> denied_ports;
  std::deque<EgressRecord> journal;
  std::uint64_t next_sequence = 1;
  EgressStats stats;

  std::set<std::uint16_t> denied_ports_now() const {
    const std::lock_guard lock(mutex);
    return denied_ports;
  }

  void write_record(EgressRecord record) {
    record.at_ms = util::wall_ms();
    const std::lock_guard lock(mutex);
    switch (record.outcome) {
      case EgressOutcome::connected: ++stats.connected; break;
      case EgressOutcome::blocked: ++stats.blocked; break;
      default: ++stats.failed; break;
    }
    record.sequence = next_sequence++;
    journal.push_back(std::move(record));
    while (journal.size() > limits.journal_size) {
      journal.pop_front();
      ++stats.journal_dropped;
    }
  }

  void count(std::uint64_t EgressStats::*field) {
    const std::lock_guard lock(mutex);
    ++(stats.*field);
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket client);
};

namespace {

// What a client asked for, once the handshake is read.
struct Request {
  std::uint8_t reply = kSucceeded;  // not kSucceeded: refuse at once with this code
  std::string host;
  std::uint16_t port = 0;
};

asio::awaitable<bool> read_exactly(tcp::socket& socket, std::uint8_t* data, std::size_t size) {
  auto [ec, n] = co_await asio::async_read(socket, asio::buffer(data, size), kNoThrow);
  co_return !ec && n == size;
}

asio::awaitable<bool> send_reply(tcp::socket& socket, std::uint8_t code) {
  // VER REP RSV ATYP=IPv4 0.0.0.0:0 (Chrome does not use the bound address).
  std::array<std::uint8_t, 10> reply{5, code, 0, 1, 0, 0, 0, 0, 0, 0};
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(reply), kNoThrow);
  co_return !ec;
}

// Steps 1–2. nullopt: not a SOCKS5 client we serve (the connection is closed without a record).
asio::awaitable<std::optional<Request>> read_handshake(tcp::socket& socket) {
  std::array<std::uint8_t, 256> bytes{};
  bool read = co_await read_exactly(socket, bytes.data(), 2);
  if (!read || bytes[0] != 5) co_return std::nullopt;
  const std::size_t methods = bytes[1];
  read = co_await read_exactly(socket, bytes.data(), methods);
  if (!read) co_return std::nullopt;
  const bool no_auth = std::find(bytes.begin(), bytes.begin() + methods, std::uint8_t{0}) != bytes.begin() + methods;
  std::array<std::uint8_t, 2> choice{5, static_cast<std::uint8_t>(no_auth ? 0x00 : 0xFF)};
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(choice), kNoThrow);
  if (wec || !no_auth) co_return std::nullopt;

  read = co_await read_exactly(socket, bytes.data(), 4);  // VER CMD RSV ATYP
  if (!read || bytes[0] != 5) co_return std::nullopt;
  Request request;
  const std::uint8_t command = bytes[1];
  const std::uint8_t address_type = bytes[3];
  if (address_type == 1) {
    read = co_await read_exactly(socket, bytes.data(), 4);
    if (!read) co_return std::nullopt;
    asio::ip::address_v4::bytes_type v4;
    std::copy_n(bytes.begin(), 4, v4.begin());
    request.host = asio::ip::address_v4(v4).to_string();
  } else if (address_type == 3) {
    read = co_await read_exactly(socket, bytes.data(), 1);
    const std::size_t length = bytes[0];
    if (!read) co_return std::nullopt;
    read = co_await read_exactly(socket, bytes.data(), length);
    if (!read) co_return std::nullopt;
    request.host.assign(reinterpret_cast<const char*>(bytes.data()), length);
  } else if (address_type == 4) {
    read = co_await read_exactly(socket, bytes.data(), 16);
    if (!read) co_return std::nullopt;
    asio::ip::address_v6::bytes_type v6;
    std::copy_n(bytes.begin(), 16, v6.begin());
    request.host = asio::ip::address_v6(v6).to_string();
  } else {
    request.reply = kAddressTypeNotSupported;
    co_return request;
  }
  read = co_await read_exactly(socket, bytes.data(), 2);
  if (!read) co_return std::nullopt;
  request.port = static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
  if (command != 1) request.reply = kCommandNotSupported;
  co_return request;
}

// Step 3 for a host that needs no DNS: a literal is itself, a localhost name is loopback. nullopt for
// any other name.
std::optional<std::vector<asio::ip::address>> addresses_without_dns(std::string_view host) {
  if (auto literal = util::parse_host_address(host)) return std::vector<asio::ip::address>{*literal};
  if (is_localhost_name(host))
    return std::vector<asio::ip::address>{asio::ip::address_v4::loopback(), asio::ip::address_v6::loopback()};
  return std::nullopt;
}

// Step 3, the resolver's part: the answer, or nullopt when the deadline came first (the lookup goes
// on in the pool and its answer is dropped).
asio::awaitable<std::optional<ResolveAnswer>> resolve(EgressProxy::State& state, std::string name) {
  struct Pending {
    std::mutex mutex;
    std::optional<ResolveAnswer> answer;
  };
  const auto give_up = Clock::now() + state.limits.resolve_timeout;
  // Wait for one of this proxy's lookup slots (polled: a few waiters at most, each briefly).
  asio::steady_timer turn(state.io);
  while (state.lookups_in_flight >= state.limits.max_lookups) {
    if (Clock::now() >= give_up) co_return std::nullopt;
    turn.expires_at(std::min(give_up, Clock::now() + std::chrono::milliseconds(20)));
    co_await turn.async_wait(kNoThrow);
  }
  ++state.lookups_in_flight;
  auto pending = std::make_shared<Pending>();
  auto wake = std::make_shared<asio::steady_timer>(state.io);
  wake->expires_at(give_up);
  std::weak_ptr<asio::steady_timer> weak_wake = wake;
  // The job holds the state only weakly: a proxy closed meanwhile is not kept alive by its lookups.
  std::weak_ptr<EgressProxy::State> weak_state = state.shared_from_this();
  asio::post(resolver_pool(), [weak_state, pending, weak_wake, name, resolver = state.resolver]() {
    ResolveAnswer answer = resolver ? resolver(name) : resolve_with_system(name);
    {
      const std::lock_guard lock(pending->mutex);
      pending->answer = std::move(answer);
    }
    if (auto alive = weak_state.lock())
      asio::post(alive->io, [weak_state, weak_wake]() {
        // On the proxy's thread; the proxy outlives it (its destructor joins that thread first).
        if (auto owner = weak_state.lock()) --owner->lookups_in_flight;
        if (auto timer = weak_wake.lock()) timer->cancel();
      });
  });
  auto [ec] = co_await wake->async_wait(kNoThrow);
  (void)ec;
  const std::lock_guard lock(pending->mutex);
  co_return std::move(pending->answer);
}

// Step 5, one address under the connect deadline.
asio::awaitable<boost::system::error_code> connect_one(tcp::socket& upstream, const tcp::endpoint& endpoint,
                                                       std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer deadline(upstream.get_executor());
  deadline.expires_after(timeout);
  auto outcome = co_await (upstream.async_connect(endpoint, kNoThrow) || deadline.async_wait(kNoThrow));
  if (outcome.index() == 1) {
    boost::system::error_code ignored;
    upstream.close(ignored);
    co_return asio::error::timed_out;
  }
  co_return std::get<0>(std::get<0>(outcome));
}

struct Tunnel {
  tcp::socket client;
  tcp::socket upstream;
  Clock::time_point last_activity = Clock::now();

  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    upstream.close(ignored);
  }
};

asio::awaitable<void> pump(Tunnel& tunnel, tcp::socket& from, tcp::socket& to) {
  std::vector<std::uint8_t> buffer(kRelayBufferBytes);
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), kNoThrow);
    if (ec) {
      boost::system::error_code ignored;
      if (ec == asio::error::eof) to.shutdown(tcp::socket::shutdown_send, ignored);
      else tunnel.close();
      co_return;
    }
    tunnel.last_activity = Clock::now();
    auto [wec, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), kNoThrow);
    if (wec) {
      tunnel.close();
      co_return;
    }
    tunnel.last_activity = Clock::now();
  }
}

asio::awaitable<void> watch_idle(Tunnel& tunnel, std::chrono::milliseconds idle) {
  asio::steady_timer timer(tunnel.client.get_executor());
  for (;;) {
    timer.expires_at(tunnel.last_activity + idle);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec) co_return;  // cancelled: the tunnel ended
    if (Clock::now() - tunnel.last_activity >= idle) {
      tunnel.close();
      co_return;
    }
  }
}

}  // namespace

// The coroutines hold the state by `this`: it owns the io_context, whose destruction destroys them.
asio::awaitable<void> EgressProxy::State::accept_loop() {
  for (;;) {
    auto [ec, client] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // Out of descriptors or a client gone before accept: keep serving the others.
      asio::steady_timer pause(io);
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    if (open_tunnels >= limits.max_tunnels) {
      count(&EgressStats::over_capacity);
      continue;  // closed as `client` goes; Chrome sees a failed proxy connection
    }
    ++open_tunnels;
    asio::co_spawn(io, serve(std::move(client)), [this](std::exception_ptr error) {
      --open_tunnels;
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("egress proxy: a connection failed: {}", e.what());
        }
      }
    });
  }
}

asio::awaitable<void> EgressProxy::State::serve(tcp::socket client) {
  using namespace asio::experimental::awaitable_operators;

  // Steps 1–2 under the handshake deadline.
  asio::steady_timer deadline(io);
  deadline.expires_after(limits.handshake_timeout);
  auto handshake = co_await (read_handshake(client) || deadline.async_wait(kNoThrow));
  if (handshake.index() == 1 || !std::get<0>(handshake)) {
    count(&EgressStats::bad_handshakes);
    co_return;
  }
  Request request = std::move(*std::get<0>(handshake));
  count(&EgressStats::requests);

  EgressRecord record;
  record.host = request.host;
  record.port = request.port;

  // Step 3: candidates.
  std::optional<std::pair<EgressOutcome, std::uint8_t>> failure;
  std::vector<asio::ip::address> candidates;
  std::uint16_t port = request.port;
  const auto parsed = util::parse_host(request.host);
  if (request.reply != kSucceeded) {
    failure = {EgressOutcome::invalid, request.reply};
    record.why = request.reply == kCommandNotSupported ? "not a CONNECT request" : "an unknown address type";
  } else if (port == 0 || parsed.kind == util::HostKind::invalid) {
    failure = {EgressOutcome::invalid, kGeneralFailure};
    record.why = port == 0 ? "port 0" : "not a host: " + parsed.problem;
  } else if (auto known = addresses_without_dns(request.host)) {
    candidates = std::move(*known);  // a literal or a localhost name is never mapped, nor resolved
  } else {
    std::string name = util::host_name_key(request.host);
    if (auto rewrite = policy.host_rules.rewrite(name, port)) {
      name = rewrite->host;
      port = rewrite->port;
      if (rewrite->not_found) {
        failure = {EgressOutcome::not_found, kHostUnreachable};
        record.why = "no such host (the host rules say ~NOTFOUND)";
      }
    }
    if (!failure) {
      if (auto mapped = addresses_without_dns(name)) {
        candidates = std::move(*mapped);
      } else {
        auto answer = co_await resolve(*this, name);
        if (!answer) {
          failure = {EgressOutcome::timeout, kTtlExpired};
          record.why = fmt::format("name resolution took over {} ms", limits.resolve_timeout.count());
        } else if (answer->not_found) {
          failure = {EgressOutcome::not_found, kHostUnreachable};
          record.why = "no such host";
        } else if (!answer->error.empty()) {
          failure = {EgressOutcome::not_found, kHostUnreachable};
          record.why = "name resolution failed: " + answer->error;
        } else {
          candidates = std::move(answer->addresses);
        }
      }
    }
  }
  if (!failure && candidates.empty()) {  // a resolver that answered nothing: as no such host
    failure = {EgressOutcome::not_found, kHostUnreachable};
    record.why = "no such host (no address)";
  }
  if (candidates.size() > limits.max_addresses) candidates.resize(limits.max_addresses);

  // Step 4: the decision, recorded before the reply.
  EgressDecision decision;
  if (!failure) {
    decision = decide_egress(request.host, port, candidates, policy, denied_ports_now());
    record.refused = decision.refused;
    if (decision.allowed.empty()) {
      failure = {EgressOutcome::blocked, kNotAllowed};
      const auto& first = decision.refused.front();
      record.why = fmt::format("{} is {}", first.ip, util::to_string(first.address_class));
    }
  }
  if (failure) {
    record.outcome = failure->first;
    write_record(record);
    co_await send_reply(client, failure->second);
    co_return;
  }

  // Step 5: connect to an allowed address, then relay.
  Tunnel tunnel{std::move(client), tcp::socket(io)};
  boost::system::error_code last_error;
  for (const auto& address : decision.allowed) {
    tunnel.upstream = tcp::socket(io);
    last_error = co_await connect_one(tunnel.upstream, tcp::endpoint(address, port), limits.connect_timeout);
    if (!last_error) {
      record.connected_ip = address.to_string();
      break;
    }
  }
  if (record.connected_ip.empty()) {
    const bool timed_out = last_error == asio::error::timed_out;
    record.outcome = timed_out ? EgressOutcome::timeout : EgressOutcome::unreachable;
    record.why = timed_out ? "the connection timed out" : "the connection failed: " + last_error.message();
    write_record(record);
    co_await send_reply(tunnel.client, timed_out ? kTtlExpired : kConnectionRefused);
    co_return;
  }
  record.outcome = EgressOutcome::connected;
  write_record(record);
  const bool replied = co_await send_reply(tunnel.client, kSucceeded);
  if (!replied) co_return;
  tunnel.last_activity = Clock::now();
  co_await ((pump(tunnel, tunnel.client, tunnel.upstream) && pump(tunnel, tunnel.upstream, tunnel.client)) ||
            watch_idle(tunnel, limits.idle_timeout));
  tunnel.close();
}

// ---- EgressProxy --------------------------------------------------------------------------------------

util::Result<std::unique_ptr<EgressProxy>> EgressProxy::start(EgressPolicy policy, Resolver resolver,
                                                              EgressLimits limits) {
  std::unique_ptr<EgressProxy> proxy(new EgressProxy());
  proxy->state_ = std::make_shared<State>(std::move(policy), std::move(resolver), limits);
  State& state = *proxy->state_;
  boost::system::error_code ec;
  const tcp::endpoint where(asio::ip::address_v4::loopback(), 0);
  state.acceptor.open(where.protocol(), ec);
  if (!ec) state.acceptor.bind(where, ec);
  if (!ec) state.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return util::make_error(util::ErrorCode::browser_start, "egress proxy",
                            "cannot listen on 127.0.0.1 for the egress proxy: " + ec.message());
  proxy->port_ = state.acceptor.local_endpoint().port();
  state.denied_ports.insert(proxy->port_);
  asio::co_spawn(state.io, state.accept_loop(), asio::detached);
  proxy->thread_ = std::thread([state = proxy->state_] { state->io.run(); });
  return proxy;
}

EgressProxy::~EgressProxy() {
  if (!state_) return;
  asio::post(state_->io, [state = state_] {
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
    state->io.stop();
  });
  if (thread_.joinable()) thread_.join();
}

void EgressProxy::deny_loopback_port(std::uint16_t port) {
  const std::lock_guard lock(state_->mutex);
  state_->denied_ports.insert(port);
}

std::uint64_t EgressProxy::mark() const {
  const std::lock_guard lock(state_->mutex);
  return state_->next_sequence;
}

std::vector<EgressRecord> EgressProxy::records_since(std::uint64_t mark, std::uint64_t* dropped) const {
  const std::lock_guard lock(state_->mutex);
  std::vector<EgressRecord> out;
  const std::uint64_t oldest = state_->journal.empty() ? state_->next_sequence : state_->journal.front().sequence;
  if (dropped) *dropped = oldest > mark ? oldest - mark : 0;
  for (const auto& record : state_->journal)
    if (record.sequence >= mark) out.push_back(record);
  return out;
}

EgressStats EgressProxy::stats() const {
  const std::lock_guard lock(state_->mutex);
  return state_->stats;
}

}  // namespace cdp
