// tests/unit/test_address.cpp — reading URL hosts as Chrome does, the classes of addresses a page may
// not reach, CIDR networks and the --allow-network exceptions (issue 17). Pure parsing: no sockets.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "util/address.hpp"

using util::AddressClass;
using util::HostKind;

namespace {

boost::asio::ip::address ip(const std::string& text) { return boost::asio::ip::make_address(text); }

// The class of a host as a URL would name it; fails the test when it is not an address.
AddressClass class_of_host(const std::string& host) {
  INFO(host);
  const auto parsed = util::parse_host_address(host);
  REQUIRE(parsed.has_value());
  return util::classify(*parsed);
}

struct Expected {
  std::string host;
  AddressClass expected;
};

void check_classes(const std::vector<Expected>& cases) {
  for (const auto& c : cases) {
    INFO(c.host);
    CHECK(util::to_string(class_of_host(c.host)) == util::to_string(c.expected));
  }
}

}  // namespace

TEST_CASE("every IPv4 spelling Chrome accepts is read as the address it denotes", "[address]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"127.0.0.1", "127.0.0.1"},
      {"127.1", "127.0.0.1"},
      {"127.0.1", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},
      {"0x7f.1", "127.0.0.1"},
      {"0X7F.1", "127.0.0.1"},
      {"0x7f000001", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},
      {"0177.1", "127.0.0.1"},
      {"017700000001", "127.0.0.1"},
      {"127.0.0.1.", "127.0.0.1"},
      {"0x7f.0.0.0x1.", "127.0.0.1"},
      {"0", "0.0.0.0"},
      {"0x", "0.0.0.0"},
      {"00", "0.0.0.0"},
      {"0.0.0.0", "0.0.0.0"},
      {"4294967295", "255.255.255.255"},
      {"0xffffffff", "255.255.255.255"},
      {"1.16777215", "1.255.255.255"},
      {"1.2.65535", "1.2.255.255"},
      {"169.254.43518", "169.254.169.254"},
      {"0xa9fea9fe", "169.254.169.254"},
      {"%31%32%37.0.0.1", "127.0.0.1"},  // Chrome percent-decodes a host first
      {"127%2e0%2E0%2e1", "127.0.0.1"},
      {"[::1]", "::1"},
      {"::1", "::1"},
      {"[::]", "::"},
      {"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
      {"[0:0:0:0:0:ffff:7f00:1]", "::ffff:127.0.0.1"},
      {"0:0:0:0:0:ffff:7f00:1", "::ffff:127.0.0.1"},
      {"[FE80::1]", "fe80::1"},
  };
  for (const auto& [host, address] : cases) {
    INFO(host);
    const auto parsed = util::parse_host(host);
    CHECK(parsed.kind == HostKind::address);
    CHECK(parsed.address == ip(address));
    CHECK(util::parse_host_address(host) == ip(address));
  }
}

TEST_CASE("a host whose last label is no number is a name", "[address]") {
  for (const std::string host :
       {"example.test", "1.2.3.4.example", "localhost", "EXAMPLE.test.", "0x7g", "127.0.0.1.example", "a.0x7g",
        "xn--mnchen-3ya.test", "..", ".", "1..", "m\xc3\xbcnchen.test"}) {
    INFO(host);
    const auto parsed = util::parse_host(host);
    CHECK(parsed.kind == HostKind::name);
    CHECK(parsed.problem.empty());
    CHECK_FALSE(util::parse_host_address(host).has_value());
  }
}

TEST_CASE("a host that ends in a number but is no IPv4 address is invalid and says why", "[address]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"0x7g.1", "'0x7g' is not a number"},
      {"1.2.3.256", "the last part is over 255"},
      {"1.2.3.08", "'08' is not a number"},  // octal digits only after a leading 0
      {"09", "'09' is not a number"},
      {"1.2.3.4.5", "more than 4 parts"},
      {"256.1", "part 1 is over 255"},
      {"1.256.1", "part 2 is over 255"},
      {"1.2.65536", "the last part is over 65535"},
      {"1.16777216", "the last part is over 16777215"},
      {"4294967296", "the last part is over 4294967295"},
      {"99999999999999999999999", "the last part is over 4294967295"},
      {"0x100000000", "the last part is over"},
      {"1..2", "'' is not a number"},
      {"example.0x10", "'example' is not a number"},
      {"foo.123", "'foo' is not a number"},
      {"1.2.3.4..", ""},  // two trailing dots: the last label is empty, so this is a name
  };
  for (const auto& [host, problem] : cases) {
    INFO(host);
    const auto parsed = util::parse_host(host);
    if (problem.empty()) {
      CHECK(parsed.kind == HostKind::name);
      continue;
    }
    CHECK(parsed.kind == HostKind::invalid);
    CHECK(parsed.problem.find(problem) != std::string::npos);
    CHECK_FALSE(util::parse_host_address(host).has_value());
  }
}

TEST_CASE("malformed IPv6 hosts and zone ids are invalid", "[address]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[fe80::1%eth0]", "zone id"},
      {"[fe80::1%25eth0]", "zone id"},
      {"fe80::1%1", "zone id"},
      {"[::1", "no closing ']'"},
      {"[", "no closing ']'"},
      {"[]", "not an IPv6 address"},
      {"[1::2::3]", "not an IPv6 address"},
      {"[1:2:3:4:5:6:7:8:9]", "not an IPv6 address"},
      {"[::ffff:127.0.0.01]", "not an IPv6 address"},
      {"[::ffff:127.1]", "not an IPv6 address"},
      {"[127.0.0.1]", "not an IPv6 address"},
      {"[example.test]", "not an IPv6 address"},
      {"example.test:80", "not an IPv6 address"},  // a host, not a host and port
      {"", "empty host"},
      {"%", "not allowed in a host"},
      {"exa mple.test", "not allowed in a host"},
      {"a%2fb.test", "not allowed in a host"},
      {std::string(256, '1'), "longer than 255 bytes"},
      {std::string(252, 'a') + ".test", "longer than 255 bytes"},
  };
  for (const auto& [host, problem] : cases) {
    INFO(host.substr(0, 40));
    const auto parsed = util::parse_host(host);
    CHECK(parsed.kind == HostKind::invalid);
    CHECK(parsed.problem.find(problem) != std::string::npos);
  }
  CHECK(util::parse_host(std::string(250, 'a') + ".test").kind == HostKind::name);  // 255 bytes: read
}

TEST_CASE("the odd spellings of loopback and metadata are classified", "[address]") {
  check_classes({
      {"127.1", AddressClass::loopback},
      {"2130706433", AddressClass::loopback},
      {"0x7f.1", AddressClass::loopback},
      {"0177.0.0.1", AddressClass::loopback},
      {"127.0.0.1.", AddressClass::loopback},
      {"[::ffff:127.0.0.1]", AddressClass::loopback},
      {"[::1]", AddressClass::loopback},
      {"[::ffff:7f00:1]", AddressClass::loopback},
      {"[0:0:0:0:0:ffff:7f00:1]", AddressClass::loopback},
      {"[64:ff9b::a9fe:a9fe]", AddressClass::link_local},  // 169.254.169.254 through NAT64
      {"[2002:a9fe:a9fe::]", AddressClass::link_local},    // 169.254.169.254 through 6to4
      {"[2002:7f00:1::1]", AddressClass::loopback},
      {"0.0.0.0", AddressClass::unspecified},
      {"0", AddressClass::unspecified},
      {"[::]", AddressClass::unspecified},
      {"169.254.169.254", AddressClass::link_local},
      {"169.254.43518", AddressClass::link_local},
      {"100.64.0.1", AddressClass::shared_cgnat},
      {"fd00::1", AddressClass::unique_local},
      {"fe80::1", AddressClass::link_local},
      {"[fe80::1]", AddressClass::link_local},
      {"0xa000001", AddressClass::private_network},  // 10.0.0.1
  });
}

TEST_CASE("IPv4 ranges are classified up to their first and last address", "[address]") {
  check_classes({
      // 0.0.0.0/8
      {"0.0.0.0", AddressClass::unspecified},
      {"0.255.255.255", AddressClass::unspecified},
      {"1.0.0.0", AddressClass::public_address},
      // 10.0.0.0/8
      {"9.255.255.255", AddressClass::public_address},
      {"10.0.0.0", AddressClass::private_network},
      {"10.255.255.255", AddressClass::private_network},
      {"11.0.0.0", AddressClass::public_address},
      // 100.64.0.0/10
      {"100.63.255.255", AddressClass::public_address},
      {"100.64.0.0", AddressClass::shared_cgnat},
      {"100.127.255.255", AddressClass::shared_cgnat},
      {"100.128.0.0", AddressClass::public_address},
      // 127.0.0.0/8
      {"126.255.255.255", AddressClass::public_address},
      {"127.0.0.0", AddressClass::loopback},
      {"127.255.255.255", AddressClass::loopback},
      {"128.0.0.0", AddressClass::public_address},
      // 169.254.0.0/16
      {"169.253.255.255", AddressClass::public_address},
      {"169.254.0.0", AddressClass::link_local},
      {"169.254.255.255", AddressClass::link_local},
      {"169.255.0.0", AddressClass::public_address},
      // 172.16.0.0/12
      {"172.15.255.255", AddressClass::public_address},
      {"172.16.0.0", AddressClass::private_network},
      {"172.31.255.255", AddressClass::private_network},
      {"172.32.0.0", AddressClass::public_address},
      // 192.0.0.0/24 (IETF protocol assignments) and 192.0.2.0/24 (TEST-NET-1)
      {"191.255.255.255", AddressClass::public_address},
      {"192.0.0.0", AddressClass::reserved},
      {"192.0.0.255", AddressClass::reserved},
      {"192.0.1.0", AddressClass::public_address},
      {"192.0.1.255", AddressClass::public_address},
      {"192.0.2.0", AddressClass::reserved},
      {"192.0.2.255", AddressClass::reserved},
      {"192.0.3.0", AddressClass::public_address},
      // 192.168.0.0/16
      {"192.167.255.255", AddressClass::public_address},
      {"192.168.0.0", AddressClass::private_network},
      {"192.168.255.255", AddressClass::private_network},
      {"192.169.0.0", AddressClass::public_address},
      // 198.18.0.0/15 (benchmarking), 198.51.100.0/24 and 203.0.113.0/24 (documentation)
      {"198.17.255.255", AddressClass::public_address},
      {"198.18.0.0", AddressClass::reserved},
      {"198.19.255.255", AddressClass::reserved},
      {"198.20.0.0", AddressClass::public_address},
      {"198.51.99.255", AddressClass::public_address},
      {"198.51.100.0", AddressClass::reserved},
      {"198.51.100.255", AddressClass::reserved},
      {"198.51.101.0", AddressClass::public_address},
      {"203.0.112.255", AddressClass::public_address},
      {"203.0.113.0", AddressClass::reserved},
      {"203.0.113.255", AddressClass::reserved},
      {"203.0.114.0", AddressClass::public_address},
      // 224.0.0.0/4 and 240.0.0.0/4 with the broadcast address
      {"223.255.255.255", AddressClass::public_address},
      {"224.0.0.0", AddressClass::multicast},
      {"239.255.255.255", AddressClass::multicast},
      {"240.0.0.0", AddressClass::reserved},
      {"255.255.255.255", AddressClass::reserved},
      {"4294967295", AddressClass::reserved},
      // public examples
      {"8.8.8.8", AddressClass::public_address},
      {"1.1.1.1", AddressClass::public_address},
  });
}

TEST_CASE("IPv6 ranges are classified up to their first and last address", "[address]") {
  check_classes({
      {"::", AddressClass::unspecified},
      {"::1", AddressClass::loopback},
      // fc00::/7
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      {"fc00::", AddressClass::unique_local},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::unique_local},
      {"fe00::", AddressClass::reserved},
      // fe80::/10, then the deprecated site-local fec0::/10
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      {"fe80::", AddressClass::link_local},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::link_local},
      {"fec0::", AddressClass::reserved},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      // ff00::/8
      {"ff00::", AddressClass::multicast},
      {"ff02::1", AddressClass::multicast},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::multicast},
      // global unicast 2000::/3 and the documentation and benchmarking ranges in it
      {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      {"2000::", AddressClass::public_address},
      {"2001:4860:4860::8888", AddressClass::public_address},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::public_address},
      {"2001:db8::", AddressClass::reserved},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      {"2001:db9::", AddressClass::public_address},
      {"2001:2::", AddressClass::reserved},
      {"2001:2:0:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      {"2001:2:1::", AddressClass::public_address},
      {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::public_address},
      {"3fff::", AddressClass::reserved},
      {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::reserved},
      {"3fff:1000::", AddressClass::public_address},
      {"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::public_address},
      {"4000::", AddressClass::reserved},
      // 100::/64 (discard) and the local-use NAT64 prefix
      {"100::", AddressClass::reserved},
      {"64:ff9b:1::a00:1", AddressClass::reserved},
      {"64:ff9b:1::808:808", AddressClass::reserved},
  });
}

TEST_CASE("IPv6 forms that carry an IPv4 address take its class", "[address]") {
  check_classes({
      // IPv4-mapped ::ffff:0:0/96
      {"::ffff:0.0.0.0", AddressClass::unspecified},
      {"::ffff:10.0.0.1", AddressClass::private_network},
      {"::ffff:172.31.255.255", AddressClass::private_network},
      {"::ffff:192.168.1.1", AddressClass::private_network},
      {"::ffff:100.64.0.0", AddressClass::shared_cgnat},
      {"::ffff:169.254.169.254", AddressClass::link_local},
      {"::ffff:224.0.0.1", AddressClass::multicast},
      {"::ffff:255.255.255.255", AddressClass::reserved},
      {"::ffff:8.8.8.8", AddressClass::public_address},
      {"::fffe:7f00:1", AddressClass::reserved},  // neither mapped nor compatible: in ::/8
      // IPv4-compatible ::/96 (deprecated)
      {"::127.0.0.1", AddressClass::loopback},
      {"::10.0.0.1", AddressClass::private_network},
      {"::0.0.0.2", AddressClass::unspecified},
      {"::8.8.8.8", AddressClass::public_address},
      // NAT64 well-known prefix 64:ff9b::/96
      {"64:ff9b::7f00:1", AddressClass::loopback},
      {"64:ff9b::a00:1", AddressClass::private_network},
      {"64:ff9b::6440:1", AddressClass::shared_cgnat},
      {"64:ff9b::8.8.8.8", AddressClass::public_address},
      {"64:ff9b::1:7f00:1", AddressClass::reserved},  // outside the /96: in ::/8
      // 6to4 2002::/16
      {"2002:a00:1::", AddressClass::private_network},
      {"2002:c0a8:101:1::1", AddressClass::private_network},
      {"2002::", AddressClass::unspecified},
      {"2002:808:808::1", AddressClass::public_address},
      {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::public_address},
      {"2003::", AddressClass::public_address},
      // Teredo 2001::/32: the client's address inverted in the last 32 bits
      {"2001:0:4136:e378:8000:63bf:80ff:fffe", AddressClass::loopback},         // client 127.0.0.1
      {"2001:0:4136:e378:8000:63bf:f5ff:fffe", AddressClass::private_network},  // client 10.0.0.1
      {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", AddressClass::public_address},   // client 8.8.8.8
  });
}

TEST_CASE("is_private_use is every class but public", "[address]") {
  for (const auto value :
       {AddressClass::loopback, AddressClass::private_network, AddressClass::shared_cgnat, AddressClass::link_local,
        AddressClass::unique_local, AddressClass::unspecified, AddressClass::multicast, AddressClass::reserved}) {
    INFO(util::to_string(value));
    CHECK(util::is_private_use(value));
  }
  CHECK_FALSE(util::is_private_use(AddressClass::public_address));
  CHECK(util::to_string(AddressClass::public_address) == "public");
  CHECK(util::to_string(AddressClass::shared_cgnat) == "shared (CGNAT)");
  CHECK(util::is_private_use(util::classify(ip("169.254.169.254"))));
  CHECK_FALSE(util::is_private_use(util::classify(ip("93.184.216.34"))));
}

TEST_CASE("CIDR networks parse and contain their addresses", "[address]") {
  const auto ten = util::parse_cidr("10.0.0.0/8");
  REQUIRE(ten.ok());
  CHECK(ten->base == ip("10.0.0.0"));
  CHECK(ten->prefix == 8);
  CHECK(ten->to_string() == "10.0.0.0/8");
  CHECK(ten->contains(ip("10.0.0.0")));
  CHECK(ten->contains(ip("10.255.255.255")));
  CHECK_FALSE(ten->contains(ip("9.255.255.255")));
  CHECK_FALSE(ten->contains(ip("11.0.0.0")));
  CHECK(ten->contains(ip("::ffff:10.1.2.3")));  // the IPv4-mapped form
  CHECK_FALSE(ten->contains(ip("::ffff:11.1.2.3")));
  CHECK_FALSE(ten->contains(ip("::10.1.2.3")));  // compatible, not mapped
  CHECK_FALSE(ten->contains(ip("fd00::1")));

  const auto cgnat = util::parse_cidr("100.64.0.0/10");
  REQUIRE(cgnat.ok());
  CHECK(cgnat->contains(ip("100.127.255.255")));
  CHECK_FALSE(cgnat->contains(ip("100.128.0.0")));

  const auto host = util::parse_cidr("192.168.1.7/32");
  REQUIRE(host.ok());
  CHECK(host->contains(ip("192.168.1.7")));
  CHECK_FALSE(host->contains(ip("192.168.1.8")));

  const auto every_v4 = util::parse_cidr("0.0.0.0/0");
  REQUIRE(every_v4.ok());
  CHECK(every_v4->contains(ip("255.255.255.255")));
  CHECK(every_v4->contains(ip("::ffff:1.2.3.4")));
  CHECK_FALSE(every_v4->contains(ip("::1")));

  const auto ula = util::parse_cidr("fd00::/8");
  REQUIRE(ula.ok());
  CHECK(ula->to_string() == "fd00::/8");
  CHECK(ula->contains(ip("fd00::1")));
  CHECK(ula->contains(ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(ula->contains(ip("fc00::")));
  CHECK_FALSE(ula->contains(ip("10.0.0.1")));

  const auto bracketed = util::parse_cidr("[fe80::]/10");
  REQUIRE(bracketed.ok());
  CHECK(bracketed->contains(ip("febf::1")));
  CHECK_FALSE(bracketed->contains(ip("fec0::")));

  const auto mapped = util::parse_cidr("::ffff:10.0.0.0/104");
  REQUIRE(mapped.ok());
  CHECK(mapped->contains(ip("10.9.9.9")));  // an IPv6 network holds the mapped form of an IPv4 address
  CHECK_FALSE(mapped->contains(ip("11.0.0.0")));

  const auto one = util::parse_cidr("::1/128");
  REQUIRE(one.ok());
  CHECK(one->contains(ip("::1")));
  CHECK_FALSE(one->contains(ip("::2")));
  const auto odd_prefix = util::parse_cidr("172.16.0.0/12");
  REQUIRE(odd_prefix.ok());
  CHECK(odd_prefix->contains(ip("172.31.255.255")));
  CHECK_FALSE(odd_prefix->contains(ip("172.32.0.0")));
  CHECK(*util::parse_cidr("2001:db8::/33") == util::Cidr{ip("2001:db8::"), 33});
}

TEST_CASE("bad CIDR networks are refused and say why", "[address]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"10.1.2.3/8", "10.1.2.3/8: host bits set; did you mean 10.0.0.0/8?"},
      {"192.168.1.1/24", "did you mean 192.168.1.0/24?"},
      {"fd00::1/8", "fd00::1/8: host bits set; did you mean fd00::/8?"},
      {"10.0.0.0/33", "the prefix length must be 0 to 32"},
      {"fd00::/129", "the prefix length must be 0 to 128"},
      {"10.0.0.0/", "the prefix length must be 0 to 32"},
      {"10.0.0.0/-1", "the prefix length must be 0 to 32"},
      {"10.0.0.0/+8", "the prefix length must be 0 to 32"},
      {"10.0.0.0/0008", "the prefix length must be 0 to 32"},
      {"10.0.0.0/8 ", "the prefix length must be 0 to 32"},
      {"10.0.0.0", "no '/'"},
      {"10/8", "'10' is not an IPv4 address"},
      {"10.0.0/8", "not an IPv4 address"},
      {"0x0a.0.0.0/8", "not an IPv4 address"},
      {"010.0.0.0/8", "not an IPv4 address"},
      {"example.test/8", "not an IPv4 address"},
      {"fe80::%eth0/64", "zone id"},
      {"fe80:::/64", "not an IPv6 address"},
      {"/8", "not an IPv4 address"},
      {"", "empty"},
      {std::string(256, '1') + ".0/8", "longer than 255 bytes"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text.substr(0, 40));
    const auto parsed = util::parse_cidr(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == util::ErrorCode::invalid_argument);
    CHECK(parsed.error().message.find(message) != std::string::npos);
  }
}

TEST_CASE("network exceptions parse every form and print as written", "[address]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"intranet.test", "intranet.test"},
      {"Intranet.TEST.", "intranet.test"},
      {"intranet.test:8080", "intranet.test:8080"},
      {"localhost:1", "localhost:1"},
      {"my_host.test:65535", "my_host.test:65535"},
      {"192.168.1.5", "192.168.1.5"},
      {"192.168.1.5:80", "192.168.1.5:80"},
      {"127.1:9222", "127.0.0.1:9222"},
      {"[::1]:8080", "[::1]:8080"},
      {"[fd00::1]", "[fd00::1]"},
      {"fd00::1", "[fd00::1]"},
      {"10.0.0.0/8", "10.0.0.0/8"},
      {"fd00::/8", "fd00::/8"},
      {"192.168.1.5/32", "192.168.1.5"},
  };
  for (const auto& [text, written] : cases) {
    INFO(text);
    const auto parsed = util::parse_network_exception(text);
    REQUIRE(parsed.ok());
    CHECK(parsed->to_string() == written);
  }
  const auto name = util::parse_network_exception("Intranet.Test:8080");
  REQUIRE(name.ok());
  CHECK(name->name == "intranet.test");
  CHECK_FALSE(name->network.has_value());
  CHECK(name->port == std::uint16_t{8080});
  const auto literal = util::parse_network_exception("0x7f.1");
  REQUIRE(literal.ok());
  CHECK(literal->name.empty());
  CHECK(literal->network == util::Cidr{ip("127.0.0.1"), 32});
  CHECK_FALSE(literal->port.has_value());
}

TEST_CASE("bad network exceptions are refused and say why", "[address]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "empty"},
      {"intranet.test:0", "the port must be 1 to 65535"},
      {"intranet.test:70000", "the port must be 1 to 65535"},
      {"intranet.test:65536", "the port must be 1 to 65535"},
      {"intranet.test:", "the port must be 1 to 65535"},
      {"intranet.test:http", "the port must be 1 to 65535"},
      {"intranet.test:000080", "the port must be 1 to 65535"},
      {"[::1]:0", "the port must be 1 to 65535"},
      {"[::1]:", "the port must be 1 to 65535"},
      {"[::1]8080", "expected ':PORT' after ']'"},
      {"[::1", "no closing ']'"},
      {"[10.0.0.1]:80", "brackets hold an IPv6 address"},
      {"[fe80::1%eth0]:80", "zone id"},
      {"fe80::1%eth0", "zone id"},
      {"[1::2::3]:80", "not an IPv6 address"},
      {":8080", "no host"},
      {"10.0.0.0/33", "the prefix length must be 0 to 32"},
      {"fd00::/129", "the prefix length must be 0 to 128"},
      {"10.1.2.3/8", "did you mean 10.0.0.0/8?"},
      {"1.2.3.256", "the last part is over 255"},
      {"0x7g.1", "'0x7g' is not a number"},
      {"exa$mple.test", "is not a host name"},
      {"a..test", "is not a host name"},
      {"m\xc3\xbcnchen.test", "is not a host name"},
      {"exa mple.test", "not allowed in a host"},
      {std::string(256, 'a'), "longer than 255 bytes"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text.substr(0, 40));
    const auto parsed = util::parse_network_exception(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == util::ErrorCode::invalid_argument);
    CHECK(parsed.error().message.find(message) != std::string::npos);
  }
}

TEST_CASE("a network exception allows what it names and nothing else", "[address]") {
  const auto exception = [](const std::string& text) {
    auto parsed = util::parse_network_exception(text);
    REQUIRE(parsed.ok());
    return *parsed;
  };
  // A name: the requested host, whatever it resolved to.
  const auto name = exception("intranet.test");
  CHECK(name.allows("intranet.test", ip("10.0.0.5"), 80));
  CHECK(name.allows("INTRANET.test.", ip("10.0.0.5"), 443));
  CHECK_FALSE(name.allows("other.test", ip("10.0.0.5"), 80));
  CHECK_FALSE(name.allows("www.intranet.test", ip("10.0.0.5"), 80));
  CHECK_FALSE(name.allows("10.0.0.5", ip("10.0.0.5"), 80));
  const auto name_port = exception("intranet.test:8080");
  CHECK(name_port.allows("intranet.test", ip("10.0.0.5"), 8080));
  CHECK_FALSE(name_port.allows("intranet.test", ip("10.0.0.5"), 80));
  // An address: the connected address, whatever name led there (and its IPv4-mapped form).
  const auto address = exception("127.0.0.1:9000");
  CHECK(address.allows("127.0.0.1", ip("127.0.0.1"), 9000));
  CHECK(address.allows("127.1", ip("127.0.0.1"), 9000));
  CHECK(address.allows("fixture.test", ip("::ffff:127.0.0.1"), 9000));
  CHECK_FALSE(address.allows("127.0.0.2", ip("127.0.0.2"), 9000));
  CHECK_FALSE(address.allows("127.0.0.1", ip("127.0.0.1"), 9001));
  const auto v6 = exception("[::1]:8080");
  CHECK(v6.allows("[::1]", ip("::1"), 8080));
  CHECK_FALSE(v6.allows("[::1]", ip("127.0.0.1"), 8080));
  // A network: the connected address, on every port.
  const auto network = exception("10.0.0.0/8");
  CHECK(network.allows("anything.test", ip("10.200.0.1"), 1));
  CHECK(network.allows("anything.test", ip("::ffff:10.200.0.1"), 65535));
  CHECK_FALSE(network.allows("anything.test", ip("192.168.0.1"), 80));
  const auto ula = exception("fd00::/8");
  CHECK(ula.allows("x.test", ip("fd12::1"), 443));
  CHECK_FALSE(ula.allows("x.test", ip("fe80::1"), 443));
}
