// tests/unit/test_egress_proxy.cpp — the egress guard without Chrome: the decision table, and a real
// EgressProxy on loopback driven by a small SOCKS5 client of the test's own, with a scripted resolver
// (DNS rebinding included) and canary listeners that count every connection that reaches them. Also
// the visit's reading of the proxy's journal (crawler/egress_collector). Every socket is on loopback.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cdp/egress_proxy.hpp"
#include "crawler/egress_collector.hpp"
#include "tests/support/canary_server.hpp"
#include "tests/support/fixture_server.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::make_address;
using cdp::EgressOutcome;
using cdp::EgressPolicy;
using testsupport::CanaryEndpoint;
using testsupport::CanaryServer;

util::NetworkException exception_of(const std::string& text) {
  auto parsed = util::parse_network_exception(text);
  REQUIRE(parsed);
  return *parsed;
}

EgressPolicy policy_allowing(const std::vector<std::string>& exceptions, const std::string& rules = "") {
  EgressPolicy policy;
  for (const auto& text : exceptions) policy.allow.push_back(exception_of(text));
  auto parsed = util::HostRules::parse(rules);
  REQUIRE(parsed);
  policy.host_rules = *parsed;
  return policy;
}

// A blocking SOCKS5 client over a plain socket, every read under a 10 s receive timeout (a test that
// fails must not hang).
class SocksClient {
 public:
  explicit SocksClient(std::uint16_t proxy_port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(proxy_port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~SocksClient() { ::close(fd_); }
  SocksClient(const SocksClient&) = delete;
  SocksClient& operator=(const SocksClient&) = delete;

  void send_bytes(const std::vector<std::uint8_t>& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  }
  void send_text(const std::string& text) { send_bytes(std::vector<std::uint8_t>(text.begin(), text.end())); }
  // Exactly n bytes; fewer when the proxy closes (or the timeout passes) first.
  std::vector<std::uint8_t> read_bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    std::size_t got = 0;
    while (got < n) {
      const auto r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
  }
  std::string read_all() {
    std::string out;
    char buffer[4096];
    for (;;) {
      const auto r = ::recv(fd_, buffer, sizeof buffer, 0);
      if (r <= 0) break;
      out.append(buffer, static_cast<std::size_t>(r));
    }
    return out;
  }
  // Greeting with the no-authentication method; true when the proxy accepts it.
  bool greet() {
    send_bytes({5, 1, 0});
    return read_bytes(2) == std::vector<std::uint8_t>{5, 0};
  }
  // CONNECT to a name (ATYP 3, as Chrome always sends); the reply code, or -1 when the proxy closed.
  int connect_to(const std::string& host, std::uint16_t port, std::uint8_t command = 1) {
    std::vector<std::uint8_t> request{5, command, 0, 3, static_cast<std::uint8_t>(host.size())};
    request.insert(request.end(), host.begin(), host.end());
    request.push_back(static_cast<std::uint8_t>(port >> 8));
    request.push_back(static_cast<std::uint8_t>(port & 0xFF));
    send_bytes(request);
    const auto reply = read_bytes(10);
    return reply.size() == 10 && reply[0] == 5 ? reply[1] : -1;
  }

 private:
  int fd_ = -1;
};

// Greets and asks; the reply code (-1: closed).
int socks_connect(std::uint16_t proxy_port, const std::string& host, std::uint16_t port) {
  SocksClient client(proxy_port);
  if (!client.greet()) return -1;
  return client.connect_to(host, port);
}

// A scripted resolver: each name answers from its list in turn, the last answer repeating.
class ScriptedResolver {
 public:
  void answer(const std::string& name, std::vector<std::vector<std::string>> answers) {
    const std::lock_guard lock(mutex_);
    answers_[name] = std::move(answers);
  }
  cdp::Resolver resolver() {
    return [this](const std::string& name) {
      const std::lock_guard lock(mutex_);
      ++asked_[name];
      cdp::ResolveAnswer answer;
      auto found = answers_.find(name);
      if (found == answers_.end() || found->second.empty()) {
        answer.not_found = true;
        return answer;
      }
      auto& list = found->second;
      for (const auto& ip : list.front()) answer.addresses.push_back(make_address(ip));
      if (list.size() > 1) list.erase(list.begin());
      return answer;
    };
  }
  int asked(const std::string& name) {
    const std::lock_guard lock(mutex_);
    return asked_[name];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::vector<std::string>>> answers_;
  std::map<std::string, int> asked_;
};

std::unique_ptr<cdp::EgressProxy> start_proxy(EgressPolicy policy, cdp::Resolver resolver = {},
                                              cdp::EgressLimits limits = {}) {
  auto started = cdp::EgressProxy::start(std::move(policy), std::move(resolver), limits);
  REQUIRE(started);
  return std::move(started).value();
}

}  // namespace

TEST_CASE("the egress decision refuses every private class unless an exception opens it", "[egress]") {
  const EgressPolicy closed;
  const std::set<std::uint16_t> none;
  for (const char* ip : {"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",
                         "169.254.169.254", "fe80::1", "fd00::1", "0.0.0.0", "::", "::ffff:127.0.0.1",
                         "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "224.0.0.1", "240.0.0.1"}) {
    INFO(ip);
    const auto decision = cdp::decide_egress("h.example", 80, {make_address(ip)}, closed, none);
    CHECK(decision.allowed.empty());
    REQUIRE(decision.refused.size() == 1);
    CHECK(decision.refused[0].ip == make_address(ip).to_string());
    CHECK(util::is_private_use(decision.refused[0].address_class));
  }
  for (const char* ip : {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"}) {
    INFO(ip);
    const auto decision = cdp::decide_egress("h.example", 443, {make_address(ip)}, closed, none);
    CHECK(decision.allowed.size() == 1);
    CHECK(decision.refused.empty());
  }
}

TEST_CASE("egress exceptions open exactly what they name", "[egress]") {
  const std::set<std::uint16_t> none;
  const auto loopback = make_address("127.0.0.1");
  // An address with a port: that port only.
  const auto with_port = policy_allowing({"127.0.0.1:8080"});
  CHECK(cdp::decide_egress("site.test", 8080, {loopback}, with_port, none).allowed.size() == 1);
  CHECK(cdp::decide_egress("site.test", 8081, {loopback}, with_port, none).allowed.empty());
  CHECK(cdp::decide_egress("site.test", 8080, {make_address("127.0.0.2")}, with_port, none).allowed.empty());
  // A network: every address in it, on every port.
  const auto network = policy_allowing({"10.0.0.0/8"});
  CHECK(cdp::decide_egress("x", 1, {make_address("10.200.0.1")}, network, none).allowed.size() == 1);
  CHECK(cdp::decide_egress("x", 1, {make_address("11.0.0.1")}, network, none).allowed.size() == 1);  // public
  CHECK(cdp::decide_egress("x", 1, {make_address("192.168.0.1")}, network, none).allowed.empty());
  // A name: what the page asked for, whatever it resolved to; not another name resolving there.
  const auto name = policy_allowing({"intranet.test"});
  CHECK(cdp::decide_egress("intranet.test", 80, {make_address("10.0.0.5")}, name, none).allowed.size() == 1);
  CHECK(cdp::decide_egress("other.test", 80, {make_address("10.0.0.5")}, name, none).allowed.empty());
  // A mixed answer: the allowed addresses in order, the rest refused and reported.
  const auto mixed =
      cdp::decide_egress("cdn.example", 443, {make_address("10.0.0.1"), make_address("1.1.1.1"), make_address("::1")},
                         EgressPolicy{}, none);
  CHECK(mixed.allowed == std::vector<asio::ip::address>{make_address("1.1.1.1")});
  REQUIRE(mixed.refused.size() == 2);
  CHECK(mixed.refused[0].ip == "10.0.0.1");
  CHECK(mixed.refused[1].address_class == util::AddressClass::loopback);
}

TEST_CASE("cjcrawl's own loopback ports stay closed whatever the exceptions", "[egress]") {
  const auto everything = policy_allowing({"0.0.0.0/0", "::/0"});
  const std::set<std::uint16_t> denied{9222};
  for (const char* ip : {"127.0.0.1", "127.0.0.2", "::1", "0.0.0.0", "::ffff:127.0.0.1"}) {
    INFO(ip);
    CHECK(cdp::decide_egress("x", 9222, {make_address(ip)}, everything, denied).allowed.empty());
    CHECK(cdp::decide_egress("x", 9223, {make_address(ip)}, everything, denied).allowed.size() == 1);
  }
  CHECK(cdp::decide_egress("x", 9222, {make_address("8.8.8.8")}, everything, denied).allowed.size() == 1);
}

TEST_CASE("localhost names are loopback without asking DNS", "[egress]") {
  for (const char* name :
       {"localhost", "LOCALHOST.", "a.localhost", "x.y.localhost.", "localhost6", "localhost.localdomain"})
    CHECK(cdp::is_localhost_name(name));
  for (const char* name : {"localhost.test", "mylocalhost", "localhostx", "example.com", ""})
    CHECK_FALSE(cdp::is_localhost_name(name));
}

TEST_CASE("the proxy relays an allowed connection and records the address it connected to", "[egress]") {
  testsupport::FixtureServer site(std::filesystem::path(CJCRAWL_SOURCE_DIR) / "tests/fixtures/sites");
  ScriptedResolver names;
  names.answer("site.example", {{"127.0.0.1"}});
  auto proxy = start_proxy(policy_allowing({"127.0.0.1:" + std::to_string(site.port())}), names.resolver());
  const auto mark = proxy->mark();

  SocksClient client(proxy->port());
  REQUIRE(client.greet());
  REQUIRE(client.connect_to("site.example", site.port()) == 0);
  client.send_text("GET /idle.html HTTP/1.0\r\nHost: site.example\r\n\r\n");
  const std::string answer = client.read_all();
  CHECK((answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")));

  const auto records = proxy->records_since(mark);
  REQUIRE(records.size() == 1);
  CHECK(records[0].outcome == EgressOutcome::connected);
  CHECK(records[0].host == "site.example");
  CHECK(records[0].connected_ip == "127.0.0.1");
  CHECK(proxy->stats().connected == 1);
}

TEST_CASE("the proxy refuses private addresses by every route and the canary counts zero", "[egress]") {
  CanaryServer canary({{"127.0.0.1", 0}, {"127.0.0.2", 0, 0}, {"::1", 0, 0, false, true}});
  const auto port = canary.port(0);
  ScriptedResolver names;
  names.answer("inside.example", {{"127.0.0.1"}});
  names.answer("metadata.example", {{"169.254.169.254"}});
  // The exception is for another port: the canary's address is right, its port is not.
  auto proxy = start_proxy(policy_allowing({"127.0.0.1:1"}, "MAP *.test 127.0.0.2"), names.resolver());
  const auto mark = proxy->mark();
  std::vector<std::string> hosts{"127.0.0.1",  "127.1",       "0x7f.1",           "2130706433",
                                 "0177.0.0.1", "127.0.0.2",   "::ffff:127.0.0.1", "0.0.0.0",
                                 "localhost",  "a.localhost", "inside.example",   "canary.test"};
  if (canary.bound(2)) hosts.push_back("::1");
  for (const auto& host : hosts) {
    INFO(host);
    CHECK(socks_connect(proxy->port(), host, port) == 2);  // REP 2: not allowed by the ruleset
  }
  CHECK(socks_connect(proxy->port(), "metadata.example", 80) == 2);
  INFO(canary.describe());
  CHECK(canary.total() == 0);

  const auto records = proxy->records_since(mark);
  REQUIRE(records.size() == hosts.size() + 1);
  for (const auto& record : records) {
    INFO(record.host);
    CHECK(record.outcome == EgressOutcome::blocked);
    REQUIRE_FALSE(record.refused.empty());
    CHECK(util::is_private_use(record.refused[0].address_class));
  }
  CHECK(records.back().refused[0].address_class == util::AddressClass::link_local);
  CHECK(records.back().why == "169.254.169.254 is link-local");
  CHECK(names.asked("canary.test") == 0);  // mapped by the host rules, never resolved
}

TEST_CASE("a resolver that answers no address is no such host", "[egress]") {
  cdp::Resolver empty = [](const std::string&) { return cdp::ResolveAnswer{}; };
  auto proxy = start_proxy(EgressPolicy{}, empty);
  const auto mark = proxy->mark();
  CHECK(socks_connect(proxy->port(), "empty.example", 80) == 4);
  const auto records = proxy->records_since(mark);
  REQUIRE(records.size() == 1);
  CHECK(records[0].outcome == EgressOutcome::not_found);
}

TEST_CASE("a name that rebinds to a private address is refused at the second connection", "[egress]") {
  CanaryServer allowed({{"127.0.0.1", 0}});
  CanaryServer inside({{"127.0.0.2", allowed.port(0)}});
  const auto port = allowed.port(0);
  ScriptedResolver names;
  // First the site's own (allowed) address, then a short TTL and an internal one.
  names.answer("rebind.example", {{"127.0.0.1"}, {"127.0.0.2"}});
  auto proxy = start_proxy(policy_allowing({"127.0.0.1:" + std::to_string(port)}), names.resolver());
  CHECK(socks_connect(proxy->port(), "rebind.example", port) == 0);
  CHECK(socks_connect(proxy->port(), "rebind.example", port) == 2);
  CHECK(socks_connect(proxy->port(), "rebind.example", port) == 2);
  CHECK(names.asked("rebind.example") == 3);  // resolved at every connection, never cached past the check
  // The allowed listener saw the first connection (positive control); the internal one nothing.
  for (int waited = 0; allowed.total() == 0 && waited < 5000; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(allowed.total() == 1);
  CHECK(inside.total() == 0);
}

TEST_CASE("the proxy answers each failure with its own reply and record", "[egress]") {
  ScriptedResolver names;
  CanaryServer canary({{"127.0.0.1", 0}});
  cdp::EgressLimits limits;
  limits.handshake_timeout = std::chrono::milliseconds(300);
  auto proxy = start_proxy(policy_allowing({"127.0.0.0/8"}, "MAP gone.test ~NOTFOUND"), names.resolver(), limits);
  const auto mark = proxy->mark();

  CHECK(socks_connect(proxy->port(), "nowhere.example", 80) == 4);  // no such host
  CHECK(socks_connect(proxy->port(), "gone.test", 80) == 4);        // the host rules say so
  CHECK(socks_connect(proxy->port(), "127.0.0.1", 0) == 1);         // port 0
  CHECK(socks_connect(proxy->port(), "", 80) == 1);                 // an empty host
  CHECK(socks_connect(proxy->port(), "0x7g.1", 80) == 1);           // no host a URL can hold
  {
    SocksClient bind(proxy->port());
    REQUIRE(bind.greet());
    CHECK(bind.connect_to("127.0.0.1", canary.port(0), 2) == 7);  // BIND: command not supported
  }
  {
    SocksClient odd(proxy->port());
    REQUIRE(odd.greet());
    odd.send_bytes({5, 1, 0, 9});
    const auto reply = odd.read_bytes(10);
    REQUIRE(reply.size() == 10);
    CHECK(reply[1] == 8);  // address type not supported
  }
  {
    SocksClient no_method(proxy->port());
    no_method.send_bytes({5, 1, 2});  // username/password only
    CHECK(no_method.read_bytes(2) == std::vector<std::uint8_t>{5, 0xFF});
    CHECK(no_method.read_bytes(1).empty());  // then closed
  }
  {
    SocksClient socks4(proxy->port());
    socks4.send_bytes({4, 1, 0, 80, 127, 0, 0, 1, 0});
    CHECK(socks4.read_bytes(1).empty());  // closed without a word
  }
  {
    SocksClient silent(proxy->port());  // says nothing: closed at the handshake deadline
    CHECK(silent.read_bytes(1).empty());
  }
  CHECK(canary.total() == 0);
  const auto records = proxy->records_since(mark);
  REQUIRE(records.size() == 7);
  CHECK(records[0].outcome == EgressOutcome::not_found);
  CHECK(records[1].outcome == EgressOutcome::not_found);
  CHECK(records[1].why.find("~NOTFOUND") != std::string::npos);
  for (std::size_t i = 2; i < 7; ++i) CHECK(records[i].outcome == EgressOutcome::invalid);
  CHECK(proxy->stats().bad_handshakes == 3);
}

TEST_CASE("an allowed address that refuses the connection is unreachable, not blocked", "[egress]") {
  // A port nothing listens on: bind one, note it, close it.
  std::uint16_t closed_port = 0;
  {
    CanaryServer briefly({{"127.0.0.1", 0}});
    closed_port = briefly.port(0);
  }
  auto proxy = start_proxy(policy_allowing({"127.0.0.1"}));
  const auto mark = proxy->mark();
  CHECK(socks_connect(proxy->port(), "127.0.0.1", closed_port) == 5);
  const auto records = proxy->records_since(mark);
  REQUIRE(records.size() == 1);
  CHECK(records[0].outcome == EgressOutcome::unreachable);
  CHECK(records[0].refused.empty());
}

TEST_CASE("a slow resolver ends in a timeout reply and the proxy goes on serving", "[egress]") {
  // Shared with the lookup, which may still be running when the test ends (its answer is dropped).
  auto release = std::make_shared<std::atomic<bool>>(false);
  cdp::Resolver slow = [release](const std::string& name) {
    cdp::ResolveAnswer answer;
    if (name == "slow.example")
      for (int waited = 0; !*release && waited < 10'000; waited += 5)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    answer.addresses.push_back(make_address("127.0.0.1"));
    return answer;
  };
  CanaryServer site({{"127.0.0.1", 0}});
  cdp::EgressLimits limits;
  limits.resolve_timeout = std::chrono::milliseconds(200);
  auto proxy = start_proxy(policy_allowing({"127.0.0.1"}), slow, limits);
  const auto mark = proxy->mark();
  CHECK(socks_connect(proxy->port(), "slow.example", site.port(0)) == 6);
  CHECK(socks_connect(proxy->port(), "fast.example", site.port(0)) == 0);
  *release = true;
  const auto records = proxy->records_since(mark);
  REQUIRE(records.size() == 2);
  CHECK(records[0].outcome == EgressOutcome::timeout);
  CHECK(records[1].outcome == EgressOutcome::connected);
}

TEST_CASE("the proxy's journal is bounded and says how much a reader missed", "[egress]") {
  cdp::EgressLimits limits;
  limits.journal_size = 3;
  auto proxy = start_proxy(EgressPolicy{}, {}, limits);
  const auto mark = proxy->mark();
  for (int i = 0; i < 5; ++i) CHECK(socks_connect(proxy->port(), "10.0.0." + std::to_string(i + 1), 80) == 2);
  std::uint64_t dropped = 0;
  const auto records = proxy->records_since(mark, &dropped);
  CHECK(dropped == 2);
  REQUIRE(records.size() == 3);
  CHECK(records[0].host == "10.0.0.3");
  CHECK(proxy->stats().blocked == 5);
  CHECK(proxy->stats().journal_dropped == 2);
}

TEST_CASE("a visit turns the journal into blocked connections and remote IPs", "[egress]") {
  auto record = [](std::string host, int port, EgressOutcome outcome, std::string ip, std::int64_t at) {
    cdp::EgressRecord r;
    r.host = std::move(host);
    r.port = static_cast<std::uint16_t>(port);
    r.outcome = outcome;
    r.at_ms = at;
    if (outcome == EgressOutcome::connected) r.connected_ip = ip;
    else r.refused.push_back({ip, util::classify(make_address(ip))});
    r.why = ip + " is " + std::string(util::to_string(util::classify(make_address(ip))));
    return r;
  };
  std::vector<cdp::EgressRecord> records{
      record("site.test", 80, EgressOutcome::connected, "93.184.216.34", 1'000),
      record("10.0.0.1", 80, EgressOutcome::blocked, "10.0.0.1", 1'500),
      record("10.0.0.1", 80, EgressOutcome::blocked, "10.0.0.1", 1'600),
      record("cdn.test", 443, EgressOutcome::connected, "93.184.216.34", 1'700),
      record("meta.test", 80, EgressOutcome::blocked, "169.254.169.254", 1'800),
      record("10.0.0.2", 80, EgressOutcome::blocked, "10.0.0.2", 1'900),
      record("gone.test", 80, EgressOutcome::not_found, "1.1.1.1", 2'000),
  };
  blacklist::Evidence evidence;
  crawler::VisitLimits limits;
  limits.max_blocked_connections = 2;
  crawler::VisitContext visit(evidence, limits);
  crawler::collect_egress(records, 4, 1'000, visit);
  CHECK(evidence.remote_ips == std::vector<std::string>{"93.184.216.34"});
  REQUIRE(evidence.blocked_connections.size() == 2);
  CHECK(evidence.blocked_connections[0].host == "10.0.0.1");
  CHECK(evidence.blocked_connections[0].attempts == 2);
  CHECK(evidence.blocked_connections[0].t == Approx(0.5));
  CHECK(evidence.blocked_connections[1].addresses[0].address_class == "link-local");
  CHECK(evidence.counters["network_blocked"] == 4);
  CHECK(evidence.counters["blocked_not_stored"] == 1);
  CHECK(evidence.counters["egress_records_dropped"] == 4);
  const auto json = blacklist::to_json(evidence, blacklist::Judgement{});
  CHECK(json["blocked_connections"][1]["addresses"][0]["ip"] == "169.254.169.254");
}

TEST_CASE("a main frame refused at the proxy gets the status its record explains", "[egress]") {
  auto record = [](EgressOutcome outcome, std::string why) {
    cdp::EgressRecord r;
    r.host = "site.test";
    r.port = 80;
    r.outcome = outcome;
    r.why = std::move(why);
    return r;
  };
  const std::string socks = "net::ERR_SOCKS_CONNECTION_FAILED";
  using blacklist::Status;
  auto status = [&](std::vector<cdp::EgressRecord> records, std::string error = "") {
    return crawler::main_frame_egress_status(error.empty() ? socks : error, records);
  };
  CHECK(status({record(EgressOutcome::blocked, "127.0.0.1 is loopback")})->first == Status::blocked);
  CHECK(status({record(EgressOutcome::blocked, "127.0.0.1 is loopback")})->second ==
        "site.test:80 is on a private network: 127.0.0.1 is loopback");
  // A redirect: the first hop connected, the last was refused.
  CHECK(status({record(EgressOutcome::connected, ""), record(EgressOutcome::blocked, "10.0.0.1 is private")})->first ==
        Status::blocked);
  const auto dns = status({record(EgressOutcome::not_found, "no such host")});
  CHECK(dns->first == Status::dns_error);
  CHECK(dns->second.find("ERR_NAME_NOT_RESOLVED") != std::string::npos);
  CHECK(status({record(EgressOutcome::timeout, "")})->first == Status::timeout);
  CHECK(status({record(EgressOutcome::unreachable, "")})->first == Status::connection_error);
  CHECK(status({})->first == Status::connection_error);
  CHECK(status({}, "net::ERR_PROXY_CONNECTION_FAILED")->first == Status::connection_error);
  CHECK_FALSE(status({record(EgressOutcome::blocked, "")}, "net::ERR_CERT_DATE_INVALID"));
}

TEST_CASE("a page cannot reach the proxy itself or a denied port even with loopback opened", "[egress]") {
  CanaryServer devtools({{"127.0.0.1", 0}});
  auto proxy = start_proxy(policy_allowing({"127.0.0.0/8"}));
  proxy->deny_loopback_port(devtools.port(0));  // as Browser::launch does with Chrome's DevTools port
  const auto mark = proxy->mark();
  CHECK(socks_connect(proxy->port(), "127.0.0.1", proxy->port()) == 2);
  CHECK(socks_connect(proxy->port(), "localhost", devtools.port(0)) == 2);
  CHECK(socks_connect(proxy->port(), "127.0.0.1", devtools.port(0)) == 2);
  CHECK(devtools.total() == 0);
  for (const auto& record : proxy->records_since(mark)) CHECK(record.outcome == EgressOutcome::blocked);
}

TEST_CASE("one proxy's lookups wait their turn instead of filling the shared resolver threads", "[egress]") {
  // Every lookup blocks until released; with 2 lookup slots the third request must wait its turn, and
  // after its resolve_timeout it is answered with a timeout while the resolver never saw it.
  struct Gate {
    std::mutex mutex;
    int started = 0;
    std::atomic<bool> open{false};
  };
  auto gate = std::make_shared<Gate>();
  cdp::Resolver blocking = [gate](const std::string&) {
    {
      const std::lock_guard lock(gate->mutex);
      ++gate->started;
    }
    for (int waited = 0; !gate->open && waited < 10'000; waited += 5)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cdp::ResolveAnswer answer;
    answer.not_found = true;
    return answer;
  };
  cdp::EgressLimits limits;
  limits.max_lookups = 2;
  limits.resolve_timeout = std::chrono::milliseconds(1'500);
  auto proxy = start_proxy(EgressPolicy{}, blocking, limits);
  std::vector<std::thread> clients;
  std::vector<int> replies(3, -1);
  for (int i = 0; i < 3; ++i)
    clients.emplace_back(
        [&, i] { replies[i] = socks_connect(proxy->port(), "n" + std::to_string(i) + ".example", 80); });
  for (auto& client : clients) client.join();
  const int started = [&] {
    const std::lock_guard lock(gate->mutex);
    return gate->started;
  }();
  gate->open = true;
  CHECK(started == 2);                                        // the third never reached the resolver threads
  CHECK(std::count(replies.begin(), replies.end(), 6) == 3);  // each ran out of time: TTL expired
}
