// util/address.hpp — what kind of network an address is on, and the user's exceptions to "stay off
// private networks".
//
// By default a crawled page must not reach the crawling machine or its networks: loopback, the private
// ranges, link-local (the cloud metadata address 169.254.169.254 among them), unique-local and the
// unspecified address, whether it names them by a URL literal or by a host name that resolves there.
// This file is the pure part of that rule: reading a URL host as Chrome does (every IPv4 spelling the
// WHATWG URL Standard accepts: `127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1`), classifying an address
// (IPv6 forms that carry an IPv4 address, such as `::ffff:127.0.0.1`, are classified by that IPv4), and
// parsing the `--allow-network HOST[:PORT]` / CIDR exceptions and matching a connection against them.
// No sockets and no name resolution here; every input is refused over 255 bytes.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace util {

// The longest host, CIDR or exception text any function here reads (a DNS name is at most 253).
inline constexpr std::size_t max_address_text = 255;

// ---- Reading a URL host -----------------------------------------------------------------------------

// What a host is: a name to resolve, an address literal, or neither. `invalid` is a host Chrome
// refuses, so the URL never loads: one that ends in a number but is no IPv4 address (`0x7g.1`,
// `1.2.3.256`, `1.2.3.08`), a bracketed host that is no IPv6 address, an IPv6 zone id, an empty host,
// a forbidden character, or a host over 255 bytes.
enum class HostKind { name, address, invalid };

struct ParsedHost {
  HostKind kind = HostKind::invalid;
  boost::asio::ip::address address;  // kind == address; an IPv6 literal stays IPv6 (IPv4-mapped too)
  std::string problem;               // kind == invalid: why, in words
};

// Reads a URL's host the way the WHATWG URL Standard's host parser does (§3.5 "Host parsing": the
// IPv4 parser, the "ends in a number" checker and the IPv6 parser), which Chrome follows:
// - `[...]` is IPv6 (brackets optional here, so that a bare `fe80::1` is read too); a zone id
//   (`%eth0`) is refused;
// - otherwise the host is percent-decoded and lower-cased; if its last label (after one trailing dot)
//   is a number (decimal, 0x/0X hex, or 0-prefixed octal), the host is IPv4 or invalid: 1–4
//   dot-separated numbers, every one but the last at most 255, the last filling the remaining bytes
//   (`127.1` is 127.0.0.1, `2130706433` is 127.0.0.1);
// - anything else is a name.
// Expects the host in ASCII, as Chrome serialises it; a host with non-ASCII bytes is taken as a name
// (Chrome maps e.g. full-width digits first; the check on the connected address still applies).
ParsedHost parse_host(std::string_view host);
// The address a host literal denotes; nullopt for a name and for an invalid host (see parse_host).
std::optional<boost::asio::ip::address> parse_host_address(std::string_view host);

// A host name as names are compared: ASCII lower-case, one trailing dot removed ("Site.TEST." is
// "site.test").
std::string host_name_key(std::string_view host);

// ---- Classifying an address -------------------------------------------------------------------------

// Where an address leads. Everything but public_address is off limits by default (is_private_use).
enum class AddressClass {
  public_address,   // none of the below
  loopback,         // 127.0.0.0/8, ::1
  private_network,  // RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
  shared_cgnat,     // RFC 6598 shared address space: 100.64.0.0/10
  link_local,       // 169.254.0.0/16 (cloud metadata), fe80::/10
  unique_local,     // fc00::/7
  unspecified,      // 0.0.0.0/8 ("this network"; Linux connects 0.0.0.0 to itself), ::
  multicast,        // 224.0.0.0/4, ff00::/8
  // Not routed on the Internet: 240.0.0.0/4 with the broadcast 255.255.255.255, 192.0.0.0/24 (IETF
  // protocol assignments), 198.18.0.0/15 (benchmarking), the documentation ranges 192.0.2.0/24,
  // 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 and 3fff::/20, 2001:2::/48 (benchmarking),
  // 100::/64 (discard), fec0::/10 (the deprecated site-local), the local-use NAT64 prefix
  // 64:ff9b:1::/48, and every IPv6 address outside 2000::/3 and ff00::/8 not named above.
  reserved,
};

// "public", "loopback", "private", "shared (CGNAT)", "link-local", "unique-local", "unspecified",
// "multicast", "reserved".
std::string_view to_string(AddressClass value);

// The class of `address`. IPv6 addresses that carry an IPv4 address take that address's class:
// IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96 (deprecated; except :: and ::1), the NAT64
// well-known prefix 64:ff9b::/96 (the last 32 bits), 6to4 2002::/16 (bits 16–47) and Teredo
// 2001::/32 (the client's address, the last 32 bits inverted). So `::ffff:127.0.0.1` is loopback and
// `64:ff9b::a9fe:a9fe` is link-local.
AddressClass classify(const boost::asio::ip::address& address);

// Whether a page must not reach an address of this class by default: every class but public_address.
constexpr bool is_private_use(AddressClass value) { return value != AddressClass::public_address; }

// ---- Networks and exceptions ------------------------------------------------------------------------

// A network: `base` with its first `prefix` bits significant (0–32 for IPv4, 0–128 for IPv6); the
// bits after them are zero.
struct Cidr {
  boost::asio::ip::address base;
  int prefix = 0;

  // Whether `address` is in the network. An IPv4 network also contains the IPv4-mapped IPv6 form of
  // its addresses (::ffff:10.1.2.3 is in 10.0.0.0/8), and an IPv6 network contains an IPv4 address
  // whose mapped form it contains.
  bool contains(const boost::asio::ip::address& address) const;
  // "10.0.0.0/8", "fd00::/8".
  std::string to_string() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "ADDRESS/PREFIX": a dotted-quad IPv4 address (exactly four decimal parts) or an IPv6 address
// (brackets allowed, no zone id), and a decimal prefix length. invalid_argument naming the problem;
// a base with bits set beyond the prefix is refused with the network suggested ("10.1.2.3/8: host
// bits set; did you mean 10.0.0.0/8?").
Result<Cidr> parse_cidr(std::string_view text);

// One `--allow-network` value: a host name (with or without a port), an address (likewise), or a
// network in CIDR form (every port).
struct NetworkException {
  // A host name, lower-cased, without a trailing dot; empty for an address or a network.
  std::string name;
  // An address (as a /32 or /128 network) or a network; nullopt for a name.
  std::optional<Cidr> network;
  // The only port allowed; nullopt for every port.
  std::optional<std::uint16_t> port;

  // Whether a connection to `connected`:`connected_port`, made for a request to `requested_host` (the
  // URL's host as the page asked for it), is opened by this exception. A name matches the requested
  // host exactly (ASCII case and one trailing dot aside), whatever it resolved to; an address or a
  // network matches the connected address (see Cidr::contains), whatever name led there.
  bool allows(std::string_view requested_host, const boost::asio::ip::address& connected,
              std::uint16_t connected_port) const;
  // The exception as the user would write it: "intranet.test:8080", "[fd00::1]:443", "10.0.0.0/8".
  std::string to_string() const;
  friend bool operator==(const NetworkException&, const NetworkException&) = default;
};

// Reads an `--allow-network` value: `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`, a bare `V6` (no port),
// `V4/N` or `V6/N`. HOST is a host name (letters, digits, '-', '_' and '.', no empty label) or an IPv4
// address in any spelling parse_host reads; PORT is 1–65535. invalid_argument naming the problem.
Result<NetworkException> parse_network_exception(std::string_view text);

}  // namespace util
