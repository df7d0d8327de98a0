// util/host_rules.cpp — see host_rules.hpp.
#include "util/host_rules.hpp"

#include <boost/asio/ip/address_v6.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "util/text.hpp"

namespace util {
namespace {

// Characters of a rule (or a word of it) quoted in an error, then "...".
constexpr std::size_t max_quoted_chars = 80;
// The longest replacement host name (a DNS name is at most 253 characters, one trailing dot aside).
constexpr std::size_t max_replacement_name = 254;

Error refused(std::string message) { return make_error(ErrorCode::invalid_argument, "", std::move(message)); }

// `text` made safe for a terminal: printable ASCII kept, anything else (and '\') as \xNN; at most
// max_quoted_chars characters, then "...".
std::string quoted(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= max_quoted_chars) return out + "...";
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') out.push_back(c);
    else out += fmt::format("\\x{:02x}", byte);
  }
  return out;
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && is_space(text[at])) ++at;
    const std::size_t start = at;
    while (at < text.size() && !is_space(text[at])) ++at;
    if (at > start) words.push_back(text.substr(start, at - start));
  }
  return words;
}

bool equals_lower(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() && starts_with_lower(text, lower);
}

bool is_host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_' || c == '.';
}

// A port written in a rule: 1–65535. The message says what is wrong, without naming the rule.
Result<std::uint16_t> parse_port(std::string_view digits) {
  const auto value = parse_decimal(digits, 65535);
  if (!value || *value == 0)
    return refused(fmt::format("the port '{}' is not a number from 1 to 65535", quoted(digits)));
  return static_cast<std::uint16_t>(*value);
}

// Checks a pattern (already lower-cased). Its port, if any, is the text after its last ':' when what
// comes before holds no ':' or is in brackets ("*.test:8080", "[::1]:80"); "fe80::*" has none.
Status check_pattern(std::string_view pattern) {
  if (pattern.empty()) return refused("the pattern is empty");
  for (const char c : pattern) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      return refused(fmt::format(
          "the pattern '{}' holds a '\\': escapes are not supported (no host name holds '*' or '?')", quoted(pattern)));
    }
    if (byte <= 0x20 || byte >= 0x7f) {
      return refused(fmt::format(
          "the pattern '{}' holds a byte outside printable ASCII: host names are ASCII (international names in "
          "Punycode, xn--...)",
          quoted(pattern)));
    }
  }
  const auto colon = pattern.rfind(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view host = pattern.substr(0, colon);
  const std::string_view port = pattern.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (host.find(':') != std::string_view::npos && !bracketed) return {};  // an IPv6 pattern
  if (host.empty()) {
    return refused(fmt::format("the pattern '{}' is empty before its port: write '*:{}' for every host on that port",
                               quoted(pattern), quoted(port)));
  }
  if (all_digits(port) || port.empty()) {
    const auto parsed = parse_port(port);
    if (!parsed) return parsed.error();
  }
  return {};
}

struct Replacement {
  std::string host;
  std::optional<std::uint16_t> port;
};

// "host", "host:port", "[v6]", "[v6]:port" or ~NOTFOUND (^NOTFOUND, any case), with or without a port.
Result<Replacement> parse_replacement(std::string_view word) {
  Replacement out;
  std::string_view port_text;
  bool has_port = false;
  if (word.front() == '[') {
    const auto close = word.find(']');
    if (close == std::string_view::npos) {
      return refused(fmt::format("the replacement '{}' opens a '[' it does not close", quoted(word)));
    }
    const std::string_view inside = word.substr(1, close - 1);
    boost::system::error_code error;
    const auto address = inside.find('%') == std::string_view::npos
                             ? boost::asio::ip::make_address_v6(std::string(inside), error)
                             : boost::asio::ip::address_v6();
    if (inside.find('%') != std::string_view::npos || error) {
      return refused(fmt::format("the replacement '[{}]' is no IPv6 address (without a zone id)", quoted(inside)));
    }
    out.host = address.to_string();
    const std::string_view rest = word.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return refused(fmt::format("the replacement '{}' has '{}' after ']': expected ':PORT' or nothing", quoted(word),
                                 quoted(rest)));
    }
    has_port = !rest.empty();
    if (has_port) port_text = rest.substr(1);
  } else {
    const auto colons = std::count(word.begin(), word.end(), ':');
    if (colons > 1) {
      return refused(fmt::format(
          "the replacement '{}' has more than one ':': an IPv6 address goes in brackets, '[::1]' or '[::1]:80'",
          quoted(word)));
    }
    const auto colon = word.find(':');
    const std::string_view host = word.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port) port_text = word.substr(colon + 1);
    if (host.empty()) return refused(fmt::format("the replacement '{}' has no host", quoted(word)));
    if (equals_lower(host, "~notfound") || equals_lower(host, "^notfound")) {
      out.host = std::string(host_rule_not_found);
    } else if (!std::all_of(host.begin(), host.end(), is_host_name_char) || host.size() > max_replacement_name) {
      return refused(fmt::format(
          "the replacement '{}' is no host name: expected letters, digits, '-', '_' and '.' (at most 253), an "
          "address, or ~NOTFOUND",
          quoted(host)));
    } else {
      out.host = to_lower(host);
    }
  }
  if (has_port) {
    auto port = parse_port(port_text);
    if (!port) return port.error();
    out.port = *port;
  }
  return out;
}

// One rule (trimmed, not empty). The message says what is wrong, without naming the rule.
Result<HostRule> parse_rule(std::string_view text) {
  const auto words = split_words(text);
  const std::string_view keyword = words.front();
  const std::size_t arguments = words.size() - 1;
  const std::string_view more_hint = " (rules are separated by ',')";
  HostRule rule;
  if (equals_lower(keyword, "exclude")) {
    rule.kind = HostRule::Kind::exclude;
    if (arguments != 1) {
      return refused(fmt::format("EXCLUDE takes one pattern, as in 'EXCLUDE localhost', not {}{}",
                                 count_of(arguments, "word"), arguments > 1 ? more_hint : ""));
    }
  } else if (equals_lower(keyword, "map")) {
    if (arguments != 2) {
      return refused(fmt::format(
          "MAP takes a pattern and a replacement, as in 'MAP *.test 127.0.0.1' or 'MAP a.test b.test:8080', not {}{}",
          count_of(arguments, "word"), arguments > 2 ? more_hint : ""));
    }
  } else {
    return refused(fmt::format("unknown keyword '{}': expected 'MAP PATTERN REPLACEMENT[:PORT]' or 'EXCLUDE PATTERN'",
                               quoted(keyword)));
  }
  rule.pattern = to_lower(words[1]);
  if (auto checked = check_pattern(rule.pattern); !checked) return checked.error();
  if (rule.kind == HostRule::Kind::map) {
    auto replacement = parse_replacement(words[2]);
    if (!replacement) return replacement.error();
    rule.replacement = std::move(replacement->host);
    rule.port = replacement->port;
  }
  return rule;
}

// `host` as Chrome's HostPortPair::ToString writes it with `port`: an IPv6 literal in brackets.
std::string host_and_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

}  // namespace

Result<HostRules> HostRules::parse(std::string_view text) {
  if (text.size() > max_host_rules_text) {
    return refused(fmt::format("the host rules are {} bytes: at most {} are read", text.size(), max_host_rules_text));
  }
  HostRules rules;
  std::size_t number = 0;
  for (;;) {
    const auto comma = text.find(',');
    const std::string_view piece = trim(text.substr(0, comma));
    if (!piece.empty()) {
      ++number;
      if (number > max_host_rules) return refused(fmt::format("more than {} host rules", max_host_rules));
      auto rule = parse_rule(piece);
      if (!rule) return refused(fmt::format("host rule {} '{}': {}", number, quoted(piece), rule.error().message));
      rules.rules_.push_back(std::move(*rule));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return rules;
}

std::optional<HostRules::Rewrite> HostRules::rewrite(std::string_view host, std::uint16_t port) const {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  // Chrome looks at the exclusions only once a MAP rule matches; the outcome is the same.
  for (const auto& rule : rules_) {
    if (rule.kind == HostRule::Kind::exclude && match_host_pattern(rule.pattern, host)) return std::nullopt;
  }
  const std::string with_port = host_and_port(host, port);
  for (const auto& rule : rules_) {
    if (rule.kind != HostRule::Kind::map) continue;
    // As Chrome: the host first, then "host:port", whether the pattern holds a ':' or not.
    if (!match_host_pattern(rule.pattern, host) && !match_host_pattern(rule.pattern, with_port)) continue;
    return Rewrite{rule.replacement, rule.port.value_or(port), rule.replacement == host_rule_not_found};
  }
  return std::nullopt;
}

std::string HostRules::to_string() const {
  std::string out;
  for (const auto& rule : rules_) {
    if (!out.empty()) out += ", ";
    if (rule.kind == HostRule::Kind::exclude) {
      out += fmt::format("EXCLUDE {}", rule.pattern);
      continue;
    }
    const bool v6 = rule.replacement.find(':') != std::string::npos;
    out += fmt::format("MAP {} {}", rule.pattern, v6 ? fmt::format("[{}]", rule.replacement) : rule.replacement);
    if (rule.port) out += fmt::format(":{}", *rule.port);
  }
  return out;
}

bool match_host_pattern(std::string_view pattern, std::string_view text) {
  std::size_t at_pattern = 0;
  std::size_t at_text = 0;
  // The last '*' seen, and where in the text it is currently taken to end: on a mismatch, that '*'
  // takes one more character and matching resumes after it. Earlier stars never need revisiting, since
  // the last one can absorb whatever they would have.
  std::size_t star = std::string_view::npos;
  std::size_t star_end = 0;
  while (at_text < text.size()) {
    const bool in_pattern = at_pattern < pattern.size();
    if (in_pattern && pattern[at_pattern] == '*') {
      star = at_pattern++;
      star_end = at_text;
    } else if (in_pattern &&
               (pattern[at_pattern] == '?' || ascii_lower(pattern[at_pattern]) == ascii_lower(text[at_text]))) {
      ++at_pattern;
      ++at_text;
    } else if (star != std::string_view::npos) {
      at_pattern = star + 1;
      at_text = ++star_end;
    } else {
      return false;
    }
  }
  while (at_pattern < pattern.size() && pattern[at_pattern] == '*') ++at_pattern;
  return at_pattern == pattern.size();
}

}  // namespace util
