// util/host_rules.hpp — Chrome's `--host-resolver-rules` ("MAP *.test 127.0.0.1, MAP * ~NOTFOUND,
// EXCLUDE 127.0.0.1"), read and applied by cjcrawl itself.
//
// cjcrawl applies these rules in its egress proxy (cdp/egress_proxy.hpp), before it resolves a name:
// Chrome behind a SOCKS5 proxy leaves name resolution to the proxy, so rules given to Chrome would no
// longer reach a page's hosts; they reach them only through cjcrawl. A mapping grants no network access
// by itself: the address a mapped name leads to is checked like any other (util::classify and the
// `--allow-network` exceptions), so `MAP *.test 127.0.0.1` still needs loopback to be allowed.
//
// The grammar and the matching follow Chromium's net/base/host_mapping_rules.cc (HostMappingRules),
// with these differences, each on purpose:
// - a rule Chrome would skip with a log line is refused here, with the rule named;
// - '?' matches exactly one character (Chrome's base::MatchPattern lets it match none), and '\' is
//   refused in a pattern (Chrome's escape for '*' and '?', which no host name holds);
// - words are split on any run of whitespace (Chrome: on single spaces, so a double space breaks a rule);
// - a host with one trailing dot is matched without it (Chrome would miss `site.test.` with `*.test`);
// - the not-found replacement may be written `~NOTFOUND` (older Chrome), `^NOTFOUND` (newer Chrome) or
//   in any ASCII case.
// Pure: no sockets, no name resolution. Bounded: max_host_rules_text bytes and max_host_rules rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace util {

// The longest rules text parse reads, and the most rules it keeps.
inline constexpr std::size_t max_host_rules_text = 64 * 1024;
inline constexpr std::size_t max_host_rules = 1024;
// The replacement that makes a name fail to resolve, as HostRule::replacement and to_string write it.
inline constexpr std::string_view host_rule_not_found = "~NOTFOUND";

struct HostRule {
  enum class Kind { map, exclude };
  Kind kind = Kind::map;
  // Lower-cased; '*' and '?' wildcards (match_host_pattern). A MAP pattern is tried against the host,
  // then against "host:port" (an IPv6 host in brackets: "[::1]:443"), so `*.test:8080` maps one port.
  // An EXCLUDE pattern is tried against the host only, as in Chrome.
  std::string pattern;
  // MAP only: a host name (lower-cased), an IPv4 literal, an IPv6 literal (stored without brackets,
  // in its canonical form) or host_rule_not_found.
  std::string replacement;
  // MAP only: the replacement port; nullopt keeps the request's port.
  std::optional<std::uint16_t> port;

  friend bool operator==(const HostRule&, const HostRule&) = default;
};

class HostRules {
 public:
  // Parses "MAP pattern replacement[:port], EXCLUDE pattern, ...": rules split on ','; surrounding
  // whitespace trimmed; empty rules ignored; words split on runs of whitespace; the MAP and EXCLUDE
  // keywords ASCII case-insensitive; an IPv6 replacement in brackets ("[::1]", "[::1]:80").
  // invalid_argument naming the bad rule (its number and its text, quoted terminal-safe and cut short)
  // and what was expected, for anything else: an unknown keyword, a wrong number of words, a port that
  // is not 1–65535 (in a replacement, or the digits after a pattern's last ':'), an empty pattern (":80"
  // has no host before its port), a '\' or a byte outside printable ASCII in a pattern, a replacement
  // that is no host name or address (an IPv6 one without brackets, too). Refuses text over
  // max_host_rules_text bytes and more than max_host_rules rules.
  static Result<HostRules> parse(std::string_view text);

  struct Rewrite {
    std::string host;        // the replacement host (host_rule_not_found when not_found)
    std::uint16_t port = 0;  // the replacement port, or the request's port when the rule has none
    bool not_found = false;  // the rule said ~NOTFOUND: the name must fail to resolve
  };
  // As Chrome's HostMappingRules::RewriteHost: nullopt when an EXCLUDE pattern matches the host,
  // wherever it stands among the rules; otherwise the first MAP rule whose pattern matches the host or
  // "host:port" (see HostRule::pattern); nullopt when none matches. ASCII case is ignored; `host` may be
  // an IPv6 literal with or without brackets; one trailing dot is dropped before matching.
  std::optional<Rewrite> rewrite(std::string_view host, std::uint16_t port) const;

  bool empty() const { return rules_.empty(); }
  // In the order written.
  const std::vector<HostRule>& rules() const { return rules_; }
  // The canonical text ("MAP *.test 127.0.0.1, MAP a.test [::1]:80, EXCLUDE 127.0.0.1"); parse of it
  // gives equal rules.
  std::string to_string() const;

 private:
  std::vector<HostRule> rules_;
};

// Whether `text` matches `pattern`: '*' matches any run of characters (the empty one too), '?' exactly
// one character, every other byte itself, ASCII case ignored. Iterative with one backtrack point (the
// last '*'), no recursion: O(pattern × text) at worst and linear in practice, so a hostile pattern such
// as "*a*a*a*a*b" cannot blow up.
bool match_host_pattern(std::string_view pattern, std::string_view text);

}  // namespace util
