// util/address.cpp — see address.hpp.
#include "util/address.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <vector>

#include "util/text.hpp"

namespace util {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

constexpr std::uint64_t two_to_32 = std::uint64_t{1} << 32;

ParsedHost invalid_host(std::string problem) { return ParsedHost{HostKind::invalid, {}, std::move(problem)}; }

Error refused(std::string message) { return make_error(ErrorCode::invalid_argument, "", std::move(message)); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto dot = text.find('.');
    parts.push_back(text.substr(0, dot));
    if (dot == std::string_view::npos) return parts;
    text.remove_prefix(dot + 1);
  }
}

// The URL Standard's "IPv4 number parser": decimal, 0x/0X hex, or 0-prefixed octal; "0x" alone is 0.
// Saturates at 2^32, which no IPv4 part may reach.
std::optional<std::uint64_t> parse_ipv4_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    part.remove_prefix(2);
    radix = 16;
  } else if (part.size() >= 2 && part[0] == '0') {
    part.remove_prefix(1);
    radix = 8;
  }
  std::uint64_t value = 0;
  for (const char c : part) {
    const int digit = hex_value(c);
    if (digit < 0 || digit >= radix) return std::nullopt;
    value = std::min(value * static_cast<std::uint64_t>(radix) + static_cast<std::uint64_t>(digit), two_to_32);
  }
  return value;
}

// The URL Standard's "ends in a number checker": whether the last label (after one trailing dot) is
// all digits or an IPv4 number, which makes the host IPv4 or invalid.
bool ends_in_a_number(std::string_view host) {
  auto parts = split_dots(host);
  if (parts.back().empty()) {
    if (parts.size() == 1) return false;
    parts.pop_back();
  }
  const std::string_view last = parts.back();
  return all_digits(last) || parse_ipv4_number(last).has_value();
}

// The URL Standard's "IPv4 parser", on a host that ends in a number.
ParsedHost parse_ipv4(std::string_view host) {
  auto parts = split_dots(host);
  if (parts.back().empty() && parts.size() > 1) parts.pop_back();
  if (parts.size() > 4) return invalid_host(fmt::format("'{}' ends in a number but has more than 4 parts", host));
  std::vector<std::uint64_t> numbers;
  for (const auto part : parts) {
    const auto number = parse_ipv4_number(part);
    if (!number) return invalid_host(fmt::format("'{}' ends in a number but '{}' is not a number", host, part));
    numbers.push_back(*number);
  }
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i) {
    if (numbers[i] > 255) return invalid_host(fmt::format("'{}': part {} is over 255", host, i + 1));
  }
  const std::uint64_t room = std::uint64_t{1} << (8 * (5 - numbers.size()));
  if (numbers.back() >= room) return invalid_host(fmt::format("'{}': the last part is over {}", host, room - 1));
  std::uint64_t value = numbers.back();
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i) value += numbers[i] << (8 * (3 - i));
  return ParsedHost{HostKind::address, address_v4(static_cast<address_v4::uint_type>(value)), {}};
}

// An IPv6 literal (no brackets), without a zone id.
std::optional<address_v6> parse_ipv6(std::string_view text) {
  if (text.empty() || text.find('%') != std::string_view::npos) return std::nullopt;
  boost::system::error_code error;
  const auto parsed = boost::asio::ip::make_address_v6(std::string(text), error);
  if (error) return std::nullopt;
  return parsed;
}

// A dotted-quad IPv4 literal: exactly four decimal parts, no leading zeros (inet_pton).
std::optional<address_v4> parse_dotted_quad(std::string_view text) {
  boost::system::error_code error;
  const auto parsed = boost::asio::ip::make_address_v4(std::string(text), error);
  if (error) return std::nullopt;
  return parsed;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The URL Standard's forbidden domain code points (ASCII ones; non-ASCII bytes pass).
bool forbidden_in_domain(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte <= 0x20 || byte == 0x7f) return true;
  return std::string_view("#%/:<>?@[\\]^|").find(c) != std::string_view::npos;
}

AddressClass classify_v4(std::uint32_t a) {
  const auto in = [a](std::uint32_t base, int prefix) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (a & mask) == base;
  };
  if (in(0x00000000, 8)) return AddressClass::unspecified;
  if (in(0x7f000000, 8)) return AddressClass::loopback;
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) return AddressClass::private_network;
  if (in(0x64400000, 10)) return AddressClass::shared_cgnat;
  if (in(0xa9fe0000, 16)) return AddressClass::link_local;
  if (in(0xe0000000, 4)) return AddressClass::multicast;
  if (in(0xf0000000, 4) || in(0xc0000000, 24) || in(0xc0000200, 24) || in(0xc6120000, 15) || in(0xc6336400, 24) ||
      in(0xcb007100, 24))
    return AddressClass::reserved;
  return AddressClass::public_address;
}

std::uint32_t v4_at(const address_v6::bytes_type& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 |
         std::uint32_t{b[at + 3]};
}

AddressClass classify_v6(const address_v6& address) {
  const auto b = address.to_bytes();
  // Whether the first `prefix` bits of the address are those of `base`.
  const auto in = [&b](std::initializer_list<unsigned> base, int prefix) {
    std::array<unsigned char, 16> want{};
    std::size_t i = 0;
    for (const unsigned byte : base) want[i++] = static_cast<unsigned char>(byte);
    for (std::size_t k = 0; k < 16; ++k) {
      const int bits = std::clamp(prefix - static_cast<int>(8 * k), 0, 8);
      const auto mask = static_cast<unsigned char>(0xff00u >> bits);
      if ((b[k] & mask) != (want[k] & mask)) return false;
    }
    return true;
  };
  if (address.is_unspecified()) return AddressClass::unspecified;
  if (address.is_loopback()) return AddressClass::loopback;
  if (in({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96) || in({}, 96)) return classify_v4(v4_at(b, 12));
  if (in({0, 0x64, 0xff, 0x9b}, 96)) return classify_v4(v4_at(b, 12));
  if (in({0x20, 0x02}, 16)) return classify_v4(v4_at(b, 2));
  if (in({0x20, 0x01, 0, 0}, 32)) return classify_v4(~v4_at(b, 12));
  if (in({0xfc}, 7)) return AddressClass::unique_local;
  if (in({0xfe, 0x80}, 10)) return AddressClass::link_local;
  if (in({0xff}, 8)) return AddressClass::multicast;
  if (in({0x20, 0x01, 0x0d, 0xb8}, 32) || in({0x3f, 0xff}, 20) || in({0x20, 0x01, 0, 0x02}, 48))
    return AddressClass::reserved;
  if (!in({0x20}, 3)) return AddressClass::reserved;  // fec0::/10, 100::/64, 64:ff9b:1::/48 among them
  return AddressClass::public_address;
}

// `address` as IPv6: an IPv4 address becomes its IPv4-mapped form.
address_v6 as_v6(const address& a) {
  return a.is_v6() ? a.to_v6() : boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, a.to_v4());
}

// The first `prefix` bits of `bytes`, the rest zero.
template <std::size_t N>
std::array<unsigned char, N> masked(std::array<unsigned char, N> bytes, int prefix) {
  for (std::size_t k = 0; k < N; ++k) {
    const int bits = std::clamp(prefix - static_cast<int>(8 * k), 0, 8);
    bytes[k] = static_cast<unsigned char>(bytes[k] & (0xff00u >> bits));
  }
  return bytes;
}

Cidr network_of(const address& base, int prefix) {
  if (base.is_v4()) return Cidr{address_v4(masked(base.to_v4().to_bytes(), prefix)), prefix};
  return Cidr{address_v6(masked(base.to_v6().to_bytes(), prefix)), prefix};
}

// A host name as --allow-network takes it: letters, digits, '-', '_' and '.', no empty label.
bool plain_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (const auto label : split_dots(name)) {
    if (label.empty() || label.size() > 63) return false;
    for (const char c : label) {
      if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) return false;
    }
  }
  return true;
}

}  // namespace

std::string host_name_key(std::string_view host) {
  std::string name = to_lower(host);
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

ParsedHost parse_host(std::string_view host) {
  if (host.size() > max_address_text) return invalid_host(fmt::format("longer than {} bytes", max_address_text));
  if (host.empty()) return invalid_host("empty host");
  if (host.front() == '[' || host.find(':') != std::string_view::npos) {
    std::string_view inner = host;
    if (host.front() == '[') {
      if (host.size() < 2 || host.back() != ']') return invalid_host(fmt::format("'{}': no closing ']'", host));
      inner = host.substr(1, host.size() - 2);
    }
    if (inner.find('%') != std::string_view::npos)
      return invalid_host(fmt::format("'{}': an IPv6 zone id is not allowed", host));
    const auto v6 = parse_ipv6(inner);
    if (!v6) return invalid_host(fmt::format("'{}' is not an IPv6 address", host));
    return ParsedHost{HostKind::address, *v6, {}};
  }
  const std::string domain = to_lower(percent_decode(host));
  if (domain.empty()) return invalid_host("empty host");
  if (std::any_of(domain.begin(), domain.end(), forbidden_in_domain))
    return invalid_host(fmt::format("'{}' has a character not allowed in a host", host));
  if (!ends_in_a_number(domain)) return ParsedHost{HostKind::name, {}, {}};
  return parse_ipv4(domain);
}

std::optional<address> parse_host_address(std::string_view host) {
  auto parsed = parse_host(host);
  if (parsed.kind != HostKind::address) return std::nullopt;
  return parsed.address;
}

std::string_view to_string(AddressClass value) {
  switch (value) {
    case AddressClass::public_address: return "public";
    case AddressClass::loopback: return "loopback";
    case AddressClass::private_network: return "private";
    case AddressClass::shared_cgnat: return "shared (CGNAT)";
    case AddressClass::link_local: return "link-local";
    case AddressClass::unique_local: return "unique-local";
    case AddressClass::unspecified: return "unspecified";
    case AddressClass::multicast: return "multicast";
    case AddressClass::reserved: return "reserved";
  }
  return "reserved";
}

AddressClass classify(const address& address) {
  if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
  return classify_v6(address.to_v6());
}

bool Cidr::contains(const address& address) const {
  if (base.is_v4()) {
    if (address.is_v6() && !address.to_v6().is_v4_mapped()) return false;
    const auto v4 = address.is_v4() ? address.to_v4()
                                    : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    return masked(v4.to_bytes(), prefix) == base.to_v4().to_bytes();
  }
  return masked(as_v6(address).to_bytes(), prefix) == base.to_v6().to_bytes();
}

std::string Cidr::to_string() const { return fmt::format("{}/{}", base.to_string(), prefix); }

Result<Cidr> parse_cidr(std::string_view text) {
  if (text.size() > max_address_text) return refused(fmt::format("CIDR longer than {} bytes", max_address_text));
  if (text.empty()) return refused("empty CIDR");
  const auto slash = text.rfind('/');
  if (slash == std::string_view::npos) return refused(fmt::format("'{}': no '/' and prefix length", text));
  std::string_view base_text = text.substr(0, slash);
  const std::string_view prefix_text = text.substr(slash + 1);
  if (base_text.size() >= 2 && base_text.front() == '[' && base_text.back() == ']')
    base_text = base_text.substr(1, base_text.size() - 2);
  address base;
  int max_prefix = 32;
  if (base_text.find(':') != std::string_view::npos) {
    if (base_text.find('%') != std::string_view::npos)
      return refused(fmt::format("'{}': an IPv6 zone id is not allowed", text));
    const auto v6 = parse_ipv6(base_text);
    if (!v6) return refused(fmt::format("'{}': '{}' is not an IPv6 address", text, base_text));
    base = *v6;
    max_prefix = 128;
  } else {
    const auto v4 = parse_dotted_quad(base_text);
    if (!v4) return refused(fmt::format("'{}': '{}' is not an IPv4 address (a.b.c.d)", text, base_text));
    base = *v4;
  }
  const auto prefix = prefix_text.size() <= 3 ? parse_decimal(prefix_text, 128) : std::nullopt;
  if (!prefix || *prefix > static_cast<std::uint64_t>(max_prefix))
    return refused(fmt::format("'{}': the prefix length must be 0 to {}", text, max_prefix));
  const Cidr network = network_of(base, static_cast<int>(*prefix));
  if (network.base != base)
    return refused(fmt::format("{}: host bits set; did you mean {}?", text, network.to_string()));
  return network;
}

bool NetworkException::allows(std::string_view requested_host, const address& connected,
                              std::uint16_t connected_port) const {
  if (port && *port != connected_port) return false;
  if (network) return network->contains(connected);
  return !name.empty() && host_name_key(requested_host) == name;
}

std::string NetworkException::to_string() const {
  if (network && network->prefix != (network->base.is_v4() ? 32 : 128)) return network->to_string();
  std::string host = network ? network->base.to_string() : name;
  if (network && network->base.is_v6()) host = "[" + host + "]";
  return port ? fmt::format("{}:{}", host, *port) : host;
}

Result<NetworkException> parse_network_exception(std::string_view text) {
  if (text.size() > max_address_text)
    return refused(fmt::format("--allow-network value longer than {} bytes", max_address_text));
  if (text.empty()) return refused("empty --allow-network value");
  if (text.find('/') != std::string_view::npos) {
    auto network = parse_cidr(text);
    if (!network) return network.error();
    return NetworkException{{}, std::move(*network), std::nullopt};
  }
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return refused(fmt::format("'{}': no closing ']'", text));
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return refused(fmt::format("'{}': expected ':PORT' after ']'", text));
      port_text = rest.substr(1);
    }
    if (host.find(':') == std::string_view::npos)
      return refused(fmt::format("'{}': brackets hold an IPv6 address", text));
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos && text.rfind(':') == colon) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  std::optional<std::uint16_t> port;
  if (port_text) {
    const auto number = port_text->size() <= 5 ? parse_decimal(*port_text, 65535) : std::nullopt;
    if (!number || *number == 0) return refused(fmt::format("'{}': the port must be 1 to 65535", text));
    port = static_cast<std::uint16_t>(*number);
  }
  if (host.empty()) return refused(fmt::format("'{}': no host", text));
  if (host.find(':') != std::string_view::npos) {  // IPv6, bracketed or bare
    if (host.find('%') != std::string_view::npos)
      return refused(fmt::format("'{}': an IPv6 zone id is not allowed", text));
    const auto v6 = parse_ipv6(host);
    if (!v6) return refused(fmt::format("'{}': '{}' is not an IPv6 address", text, host));
    return NetworkException{{}, Cidr{*v6, 128}, port};
  }
  const auto parsed = parse_host(host);
  if (parsed.kind == HostKind::invalid) return refused(parsed.problem);
  if (parsed.kind == HostKind::address) return NetworkException{{}, Cidr{parsed.address, 32}, port};
  std::string name = host_name_key(host);
  if (!plain_host_name(name))
    return refused(fmt::format("'{}': '{}' is not a host name (letters, digits, '-', '_' and '.')", text, host));
  return NetworkException{std::move(name), std::nullopt, port};
}

}  // namespace util
