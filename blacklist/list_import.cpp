// blacklist/list_import.cpp — the five list formats, one line at a time, into one collector.
#include "blacklist/list_import.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "blacklist/rules.hpp"
#include "util/text.hpp"

namespace blacklist {
namespace {

constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxLabelBytes = 63;
// A Unicode label longer than this in UTF-8 cannot become a 63-byte A-label; refusing it first keeps
// the (quadratic) Punycode conversion cheap.
constexpr std::size_t kMaxUnicodeLabelBytes = 4 * kMaxLabelBytes;

// --- Small text helpers ---------------------------------------------------------------------------

using util::ascii_lower;
using util::has_space;
using util::is_space;
using util::trim;

// What a path or substring value may contain: printable ASCII except space, and except `$` and `#`,
// so that every value can be written back as an Adblock Plus rule and read again unchanged (`$`
// would start options, `##` a cosmetic filter; a `#` fragment is never part of a request anyway).
// `*`, `^` and `|` are refused earlier, as wildcards.
bool is_path_text(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7F && c != '$' && c != '#'; });
}

// Whitespace-separated tokens.
std::vector<std::string_view> tokens_of(std::string_view text) {
  std::vector<std::string_view> tokens;
  while (true) {
    text = trim(text);
    if (text.empty()) return tokens;
    const auto end = static_cast<std::size_t>(std::find_if(text.begin(), text.end(), is_space) - text.begin());
    tokens.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
}

// The line before a trailing `#` comment (hosts, domains, ips: `#` never belongs to an entry there).
std::string_view before_comment(std::string_view line) { return trim(line.substr(0, line.find('#'))); }

// A line (or part of one) as it may appear in a reason: at most kMaxQuotedBytes, non-printable and
// non-ASCII bytes as \xNN, so hostile input cannot smuggle control characters into reports.
std::string quote(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMaxQuotedBytes; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte >= 0x7F) out += fmt::format("\\x{:02x}", byte);
    else out += static_cast<char>(byte);
  }
  if (text.size() > kMaxQuotedBytes) out += "...";
  return "'" + out + "'";
}

// Where an Adblock Plus cosmetic separator (`##`, `#@#`, `#?#`, `#$#`, `#%#`, `#@$?#`, ...) starts, or npos.
std::size_t cosmetic_separator(std::string_view line) {
  for (auto hash = line.find('#'); hash != std::string_view::npos; hash = line.find('#', hash + 1)) {
    std::size_t i = hash + 1;
    if (i < line.size() && line[i] == '@') ++i;
    for (int k = 0; k < 2 && i < line.size() && (line[i] == '?' || line[i] == '$' || line[i] == '%'); ++k) ++i;
    if (i < line.size() && line[i] == '#') return hash;
  }
  return std::string_view::npos;
}

// --- Addresses ----------------------------------------------------------------------------------

// IpAddress and parse_ip_literal come from blacklist/rules.hpp (the same parser the rules use).

std::string format_ip(const IpAddress& address) {
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), buffer, sizeof buffer);
  return buffer;
}

bool is_block_address(const IpAddress& address) {
  const auto zero = std::all_of(address.bytes.begin(), address.bytes.end(), [](std::uint8_t b) { return b == 0; });
  if (zero) return true;  // 0.0.0.0 and ::
  if (!address.v6)
    return address.bytes[0] == 127 && address.bytes[1] == 0 && address.bytes[2] == 0 && address.bytes[3] == 1;
  return std::all_of(address.bytes.begin(), address.bytes.end() - 1, [](std::uint8_t b) { return b == 0; }) &&
         address.bytes[15] == 1;  // ::1
}

// --- Outcomes -----------------------------------------------------------------------------------

struct Skip {
  SkipKind kind;
  std::string reason;
};

// A validated host: a name in ASCII lower case, or an IP literal in canonical text.
struct Host {
  std::string name;
  bool ip = false;
  bool v6 = false;
};

// The host as it appears inside a ws_endpoint / script_url value.
std::string host_in_value(const Host& host) { return host.v6 ? "[" + host.name + "]" : host.name; }

// `text` as a host: `*.` prefix allowed (it means the host and its subdomains, as every host entry
// does), IP literals recognised (the caller decides whether one is welcome).
// Bracketed IPv6 and bare IP literals. Returns nothing when `text` is no IP literal at all.
std::optional<std::optional<Skip>> check_ip_host(std::string_view text, bool subdomains, Host& out) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    const auto address = close == std::string_view::npos ? std::nullopt : parse_ip_literal(text.substr(1, close - 1));
    if (!address || !address->v6)
      return Skip{SkipKind::bad_host, fmt::format("{} is not an IPv6 literal", quote(text))};
    if (close + 1 != text.size())
      return Skip{SkipKind::host_with_port, fmt::format("{}: a port cannot be represented", quote(text))};
    out = {format_ip(*address), true, true};
    return std::optional<Skip>();
  }
  if (const auto address = parse_ip_literal(text)) {
    if (subdomains) return Skip{SkipKind::bad_host, fmt::format("'*.' before the IP address {}", quote(text))};
    out = {format_ip(*address), true, address->v6};
    return std::optional<Skip>();
  }
  return std::nullopt;
}

// A Unicode name in ASCII (IDNA), every label within its byte limit first.
std::optional<Skip> to_ascii_name(std::string_view text, std::string& name) {
  for (std::size_t start = 0; start <= name.size();) {
    const auto dot = std::min(name.find('.', start), name.size());
    if (dot - start > kMaxUnicodeLabelBytes)
      return Skip{SkipKind::bad_host, fmt::format("{} has a label longer than {} bytes", quote(text), kMaxLabelBytes)};
    start = dot + 1;
  }
  auto ascii = host_to_ascii(name);
  if (!ascii) return Skip{SkipKind::bad_host, fmt::format("{} is not valid UTF-8", quote(text))};
  name = std::move(*ascii);
  return std::nullopt;
}

// The labels of an ASCII name: non-empty, within their length, of allowed characters, not all-numeric
// at the end (that would be an IP address).
std::optional<Skip> check_labels(std::string_view text, const std::string& name) {
  std::size_t label = 0;
  bool numeric_label = true;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return Skip{SkipKind::bad_host, fmt::format("{} has an empty label", quote(text))};
      label = 0;
      numeric_label = true;
      continue;
    }
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed)
      return Skip{SkipKind::bad_host,
                  fmt::format("{} contains {}, which no host name has", quote(text), quote(std::string_view(&c, 1)))};
    if (++label > kMaxLabelBytes)
      return Skip{SkipKind::bad_host, fmt::format("{} has a label longer than {} bytes", quote(text), kMaxLabelBytes)};
    numeric_label = numeric_label && c >= '0' && c <= '9';
  }
  if (label == 0) return Skip{SkipKind::bad_host, fmt::format("{} has an empty label", quote(text))};
  if (numeric_label)
    return Skip{SkipKind::bad_host, fmt::format("{} ends in a numeric label but is not an IP address", quote(text))};
  return std::nullopt;
}

std::optional<Skip> check_host(std::string_view text, Host& out) {
  const bool subdomains = text.starts_with("*.");
  if (subdomains) text.remove_prefix(2);
  if (text.empty()) return Skip{SkipKind::too_broad, "no host"};
  if (text.find('*') != std::string_view::npos)
    return Skip{SkipKind::wildcard_host, fmt::format("{}: a '*' inside a host name cannot be represented "
                                                     "(only a leading '*.' can)",
                                                     quote(text))};
  if (auto ip = check_ip_host(text, subdomains, out)) return *ip;
  if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    const auto port = text.substr(colon + 1);
    if (!port.empty() && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return Skip{SkipKind::host_with_port, fmt::format("{}: a port cannot be represented; the list may mean "
                                                        "the host {}",
                                                        quote(text), quote(text.substr(0, colon)))};
    return Skip{SkipKind::bad_host, fmt::format("{} is not a host name", quote(text))};
  }
  std::string name = util::to_lower(text);
  if (name.ends_with('.')) name.pop_back();
  if (name.size() > kMaxUnicodeLabelBytes * 4)
    return Skip{SkipKind::bad_host, fmt::format("{} is longer than a host name can be", quote(text))};
  const bool unicode =
      std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (unicode)
    if (auto skip = to_ascii_name(text, name)) return skip;
  if (name.empty() || name.size() > kMaxHostBytes)
    return Skip{SkipKind::bad_host, fmt::format("{} is not a valid host name", quote(text))};
  if (auto skip = check_labels(text, name)) return skip;
  if (name.find('.') == std::string::npos || registrable_domain(name).empty())
    return Skip{SkipKind::public_suffix, fmt::format("'{}' is a public suffix: it would cover every site "
                                                     "registered under it",
                                                     name)};
  out = {std::move(name), false, false};
  return std::nullopt;
}

// "192.0.2.0/24" (or an address alone) in canonical text; prefixes covering the whole address are
// dropped ("192.0.2.7/32" → "192.0.2.7").
std::optional<Skip> check_range(std::string_view text, std::string& out) {
  const auto slash = text.find('/');
  bool mapped = false;
  const auto address = parse_ip_literal(text.substr(0, slash), &mapped);
  if (!address)
    return Skip{SkipKind::bad_ip, fmt::format("{}: expected an IPv4 or IPv6 address or CIDR range", quote(text))};
  int prefix = address->bits();
  if (slash != std::string_view::npos) {
    const auto length = text.substr(slash + 1);
    int written = -1;
    const auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), written);
    const int most = mapped ? 128 : address->bits();
    if (error != std::errc{} || end != length.data() + length.size() || written < 0 || written > most ||
        (mapped && written < 96))
      return Skip{SkipKind::bad_ip, fmt::format("{}: bad prefix length (expected /0 to /{})", quote(text), most)};
    prefix = mapped ? written - 96 : written;
  }
  if (prefix < (address->v6 ? kMinIpv6Prefix : kMinIpv4Prefix))
    return Skip{SkipKind::too_broad, fmt::format("{} covers too much of the Internet (wider than /{})", quote(text),
                                                 address->v6 ? kMinIpv6Prefix : kMinIpv4Prefix)};
  for (int bit = prefix; bit < address->bits(); ++bit)
    if (address->bytes[static_cast<std::size_t>(bit / 8)] & (0x80u >> (bit % 8)))
      return Skip{SkipKind::bad_ip, fmt::format("{} has host bits set", quote(text))};
  out = format_ip(*address);
  if (prefix != address->bits()) out += fmt::format("/{}", prefix);
  return std::nullopt;
}

// --- Collecting ---------------------------------------------------------------------------------

class Collector {
 public:
  explicit Collector(std::size_t max_entries) : max_entries_(max_entries) {}

  void comment() { ++comment_lines_; }

  void add(EntryKind kind, std::string value, std::size_t line) {
    std::string key(1, static_cast<char>('0' + static_cast<int>(kind)));
    key += value;
    if (seen_.contains(key)) {
      skip(SkipKind::duplicate, line, fmt::format("{} {} again", to_string(kind), quote(value)));
      return;
    }
    if (entries_.size() >= max_entries_) {
      skip(SkipKind::entry_limit, line, fmt::format("more than {} entries; the rest is not imported", max_entries_));
      return;
    }
    seen_.insert(std::move(key));
    entries_.push_back({kind, std::move(value), line});
  }

  void skip(SkipKind kind, std::size_t line, std::string reason) {
    auto& count = skipped_[kind];
    if (count.count++ == 0) {
      count.sample_line = line;
      count.sample_reason = std::move(reason);
    }
  }
  void skip(Skip skip_, std::size_t line) { skip(skip_.kind, line, std::move(skip_.reason)); }

  ImportResult finish(ListFormat format, bool detected, std::size_t lines) && {
    std::sort(entries_.begin(), entries_.end(), [](const ImportedEntry& a, const ImportedEntry& b) {
      return a.kind != b.kind ? a.kind < b.kind : a.value < b.value;
    });
    return {format, detected, std::move(entries_), std::move(skipped_), lines, comment_lines_};
  }

 private:
  std::vector<ImportedEntry> entries_;
  std::unordered_set<std::string> seen_;  // kind digit + value
  std::map<SkipKind, SkipCount> skipped_;
  std::size_t comment_lines_ = 0;
  std::size_t max_entries_;
};

// --- Patterns shared by adblock and webext ------------------------------------------------------

// What a URL pattern names: a host (with its subdomains), a host and path prefix, or a substring of
// any URL.
struct Target {
  enum class Form { host, host_path, substring } form = Form::host;
  Host host;
  std::string path;  // host_path: starts with '/'; substring: the literal text
};

// Drops trailing characters in `chars` (end anchors and wildcards that do not narrow a prefix).
std::string_view strip_trailing(std::string_view text, std::string_view chars) {
  while (!text.empty() && chars.find(text.back()) != std::string_view::npos) text.remove_suffix(1);
  return text;
}

// A path after a host, already without its trailing `*`/`^`/`|`: a prefix without wildcards.
std::optional<Skip> check_path(std::string_view path, std::string_view line, Target& out) {
  if (path.find_first_of("*^|") != std::string_view::npos)
    return Skip{SkipKind::wildcard_path,
                fmt::format("{}: a '*' or '^' inside the path cannot be represented as a prefix", quote(line))};
  if (!is_path_text(path))
    return Skip{SkipKind::malformed,
                fmt::format("{}: the path has a space, '$', '#', a control or a non-ASCII byte", quote(line))};
  if (path.empty() || path == "/") {
    out.form = Target::Form::host;
    return std::nullopt;
  }
  out.form = Target::Form::host_path;
  out.path = util::to_lower(path);
  return std::nullopt;
}

// A literal substring of any URL, without leading/trailing `*` (and end anchors).
std::optional<Skip> check_substring(std::string_view text, std::string_view line, Target& out) {
  text = strip_trailing(text, "*|^");
  while (text.starts_with('*')) text.remove_prefix(1);
  if (text.find_first_of("*^|") != std::string_view::npos)
    return Skip{SkipKind::wildcard_path,
                fmt::format("{}: a '*' or '^' inside the pattern cannot be represented as a substring", quote(line))};
  if (!is_path_text(text))
    return Skip{SkipKind::malformed,
                fmt::format("{}: the pattern has a space, '$', '#', a control or a non-ASCII byte", quote(line))};
  if (text.size() < kMinScriptPathBytes)
    return Skip{SkipKind::too_broad,
                fmt::format("{}: a substring under {} bytes would match too much", quote(line), kMinScriptPathBytes)};
  out.form = Target::Form::substring;
  out.path = util::to_lower(text);
  return std::nullopt;
}

// `host[...]rest` after `||` or `scheme://` in an adblock rule.
std::optional<Skip> check_anchored(std::string_view rest, std::string_view line, Target& out) {
  std::size_t host_end = 0;
  if (rest.starts_with('[')) {
    host_end = rest.find(']');
    host_end = host_end == std::string_view::npos ? rest.size() : host_end + 1;
    if (host_end < rest.size() && rest[host_end] == ':')
      host_end = std::min(rest.find_first_of("/^|?", host_end), rest.size());
  } else {
    host_end = std::min(rest.find_first_of("/^|?"), rest.size());
  }
  if (auto skip = check_host(rest.substr(0, host_end), out.host)) return skip;
  auto after = strip_trailing(rest.substr(host_end), "|*");
  if (after.empty() || after == "^") {
    out.form = Target::Form::host;
    return std::nullopt;
  }
  if (after.starts_with('^'))
    return Skip{SkipKind::wildcard_path,
                fmt::format("{}: a '^' separator followed by more of the URL cannot be represented", quote(line))};
  std::string path = after.starts_with('?') ? "/" + std::string(after) : std::string(after);
  return check_path(strip_trailing(strip_trailing(strip_trailing(path, "*"), "^"), "*"), line, out);
}

// --- adblock --------------------------------------------------------------------------------------

// Adblock Plus options: the text after the last `$` when it reads as an option list
// (`~?name[=value]` separated by commas), else none (a `$` inside a regex).
std::optional<std::size_t> options_start(std::string_view rule) {
  const auto dollar = rule.rfind('$');
  if (dollar == std::string_view::npos || dollar + 1 == rule.size()) return std::nullopt;
  std::string_view options = rule.substr(dollar + 1);
  while (true) {
    const auto comma = options.find(',');
    std::string_view option = options.substr(0, comma);
    option = option.substr(0, option.find('='));
    if (option.starts_with('~')) option.remove_prefix(1);
    if (option.empty() || !std::all_of(option.begin(), option.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        }))
      return std::nullopt;
    if (comma == std::string_view::npos) return dollar;
    options.remove_prefix(comma + 1);
  }
}

struct Options {
  bool websocket = false;   // `websocket` named
  bool other_type = false;  // another resource type named
};

// The options that decide the entry, or why the rule cannot be imported. Precedence when several
// apply: csp, redirect, site_specific, unsupported_option.
std::optional<Skip> check_options(std::string_view text, std::string_view line, Options& out) {
  static const std::unordered_set<std::string_view> kIgnored = {
      "third-party", "~third-party", "3p",       "~3p",       "first-party", "~first-party", "1p",
      "~1p",         "strict3p",     "strict1p", "important", "match-case",  "all"};
  static const std::unordered_set<std::string_view> kResourceTypes = {
      "script", "xmlhttprequest", "xhr",   "subdocument", "frame", "image", "stylesheet",
      "css",    "object",         "media", "font",        "ping",  "other", "webrtc"};
  std::optional<Skip> csp, redirect, site, unsupported;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string option = util::to_lower(text.substr(0, comma));
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    const auto equals = option.find('=');
    const std::string_view name = std::string_view(option).substr(0, equals);
    const std::string_view value =
        equals == std::string::npos ? std::string_view() : std::string_view(option).substr(equals + 1);
    if (name == "csp") {
      if (!csp)
        csp = Skip{SkipKind::csp, fmt::format("{}: a Content-Security-Policy rule blocks no resource", quote(line))};
    } else if (name == "redirect" || name == "redirect-rule" || name == "rewrite") {
      if (!redirect)
        redirect = Skip{SkipKind::redirect, fmt::format("{}: a redirect rule replaces a resource", quote(line))};
    } else if (name == "domain" || name == "from") {
      bool positive = false;
      for (std::size_t start = 0; start <= value.size();) {
        const auto bar = std::min(value.find('|', start), value.size());
        if (bar > start && value[start] != '~') positive = true;
        start = bar + 1;
      }
      // Exclusions only (`domain=~site`) narrow a rule; dropping them makes it broader, never wrong.
      if (positive && !site)
        site = Skip{SkipKind::site_specific,
                    fmt::format("{}: applies only on the listed sites, which are pages (victims), not mining "
                                "infrastructure",
                                quote(line))};
    } else if (kIgnored.contains(name) && value.empty()) {
      // Third-party and similar conditions narrow a rule; the entry stands for the resource itself.
    } else if (name == "websocket" && value.empty()) {
      out.websocket = true;
    } else if (kResourceTypes.contains(name) && value.empty()) {
      out.other_type = true;
    } else if (!unsupported) {
      unsupported = Skip{SkipKind::unsupported_option,
                         fmt::format("{}: option {} cannot be represented", quote(line), quote(option))};
    }
  }
  if (csp) return csp;
  if (redirect) return redirect;
  if (site) return site;
  return unsupported;
}

// Comments, headers and cosmetic filters: lines that are no network rule. Returns true when `line`
// was one (and was counted as such).
bool adblock_non_rule(std::string_view line, std::size_t number, Collector& out) {
  if (line.starts_with('!')) {
    if (line.starts_with("!#"))
      out.skip(SkipKind::directive, number,
               fmt::format("{}: preprocessor directive; an included list must be imported on its own", quote(line)));
    else out.comment();
    return true;
  }
  if (line.starts_with('[') && line.ends_with(']')) {  // [Adblock Plus 2.0]
    out.comment();
    return true;
  }
  if (const auto separator = cosmetic_separator(line); separator != std::string_view::npos) {
    const auto body = line.substr(separator);
    const bool scriptlet = body.starts_with("##+js(") || body.starts_with("#@#+js(") ||
                           body.find("#$#") != std::string_view::npos || body.find("#%#") != std::string_view::npos ||
                           body.starts_with("#@$#") || body.starts_with("#@%#");
    if (scriptlet)
      out.skip(SkipKind::scriptlet, number, fmt::format("{}: a scriptlet runs code in the page", quote(line)));
    else out.skip(SkipKind::cosmetic, number, fmt::format("{}: a cosmetic filter hides page elements", quote(line)));
    return true;
  }
  if (line.starts_with('#')) {  // uBlock Origin accepts `#` comments
    out.comment();
    return true;
  }
  return false;
}

// The pattern part of a network rule (before `$`) into a target; `ws_scheme` for |ws:// and |wss://.
std::optional<Skip> parse_adblock_pattern(std::string_view pattern, std::string_view line, Target& target,
                                          bool& ws_scheme) {
  if (strip_trailing(pattern, "*").empty())
    return Skip{SkipKind::too_broad, fmt::format("{}: no pattern, so it would match every URL", quote(line))};
  if (pattern.starts_with("||")) return check_anchored(pattern.substr(2), line, target);
  if (!pattern.starts_with('|')) return check_substring(pattern, line, target);
  const auto scheme_end = pattern.find("://");
  const std::string scheme =
      scheme_end == std::string_view::npos ? std::string() : util::to_lower(pattern.substr(1, scheme_end - 1));
  if (scheme != "http" && scheme != "https" && scheme != "ws" && scheme != "wss")
    return Skip{SkipKind::malformed,
                fmt::format("{}: a start-anchored rule is imported only with http(s):// or ws(s)://", quote(line))};
  ws_scheme = scheme.starts_with("ws");
  return check_anchored(pattern.substr(scheme_end + 3), line, target);
}

void import_adblock_line(std::string_view line, std::size_t number, Collector& out) {
  if (adblock_non_rule(line, number, out)) return;
  std::string_view rule = line;
  const bool exception = rule.starts_with("@@");
  if (exception) rule.remove_prefix(2);
  const auto dollar = options_start(rule);
  const std::string_view pattern = dollar ? rule.substr(0, *dollar) : rule;
  const std::string_view option_text = dollar ? rule.substr(*dollar + 1) : std::string_view();

  if (pattern.size() >= 2 && pattern.starts_with('/') && pattern.ends_with('/'))
    return out.skip(SkipKind::regex, number, fmt::format("{}: regular-expression rules are not imported", quote(line)));
  Options options;
  if (auto skip = check_options(option_text, line, options)) return out.skip(std::move(*skip), number);
  Target target;
  bool ws_scheme = false;
  if (auto problem = parse_adblock_pattern(pattern, line, target, ws_scheme))
    return out.skip(std::move(*problem), number);

  if (exception) {
    if (target.form == Target::Form::substring)
      return out.skip(SkipKind::path_exception, number,
                      fmt::format("{}: an exception without a host cannot be represented", quote(line)));
    if (target.form == Target::Form::host && target.host.ip) return out.add(EntryKind::allow, target.host.name, number);
    return out.add(EntryKind::allow, host_in_value(target.host) + target.path, number);
  }
  if ((options.websocket && !options.other_type) || ws_scheme) {
    if (target.form == Target::Form::substring)
      return out.skip(SkipKind::websocket_path, number,
                      fmt::format("{}: a WebSocket rule without a host cannot be represented", quote(line)));
    return out.add(EntryKind::ws_endpoint, host_in_value(target.host) + target.path, number);
  }
  switch (target.form) {
    case Target::Form::substring: return out.add(EntryKind::script_path, std::move(target.path), number);
    case Target::Form::host:
      return out.add(target.host.ip ? EntryKind::ip : EntryKind::domain, std::move(target.host.name), number);
    case Target::Form::host_path:
      return out.add(EntryKind::script_url, host_in_value(target.host) + target.path, number);
  }
}

// --- webext ---------------------------------------------------------------------------------------

void import_webext_line(std::string_view line, std::size_t number, Collector& out) {
  if (line.starts_with('#')) return out.comment();
  if (line == "<all_urls>")
    return out.skip(SkipKind::too_broad, number, fmt::format("{} matches every URL", quote(line)));
  const auto scheme_end = line.find("://");
  if (scheme_end == std::string_view::npos || has_space(line))
    return out.skip(SkipKind::malformed, number,
                    fmt::format("{}: expected a match pattern SCHEME://HOST/PATH", quote(line)));
  const std::string scheme = util::to_lower(line.substr(0, scheme_end));
  if (scheme != "*" && scheme != "http" && scheme != "https" && scheme != "ws" && scheme != "wss")
    return out.skip(SkipKind::malformed, number,
                    fmt::format("{}: scheme {} is not *, http(s) or ws(s)", quote(line), quote(scheme)));
  const bool ws = scheme.starts_with("ws");
  const auto rest = line.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return out.skip(SkipKind::malformed, number, fmt::format("{}: a match pattern needs a path ('/*')", quote(line)));
  const auto host = rest.substr(0, slash);
  const auto path = rest.substr(slash);

  Target target;
  if (host == "*") {
    if (ws)
      return out.skip(SkipKind::websocket_path, number,
                      fmt::format("{}: a WebSocket pattern without a host cannot be represented", quote(line)));
    // `/*name` is "name anywhere in the path"; `/lib/...` keeps its leading '/'.
    const auto text = path.starts_with("/*") ? path.substr(2) : path;
    if (auto skip = check_substring(text, line, target)) return out.skip(std::move(*skip), number);
    return out.add(EntryKind::script_path, std::move(target.path), number);
  }
  if (auto skip = check_host(host, target.host)) return out.skip(std::move(*skip), number);
  if (auto skip = check_path(strip_trailing(path, "*"), line, target)) return out.skip(std::move(*skip), number);
  if (ws) return out.add(EntryKind::ws_endpoint, host_in_value(target.host) + target.path, number);
  if (target.form == Target::Form::host_path)
    return out.add(EntryKind::script_url, host_in_value(target.host) + target.path, number);
  return out.add(target.host.ip ? EntryKind::ip : EntryKind::domain, std::move(target.host.name), number);
}

// --- hosts, domains, ips ------------------------------------------------------------------------------

bool is_local_name(std::string_view name) {
  static const std::unordered_set<std::string> kLocalNames = {
      "localhost",    "localhost.localdomain", "local",        "broadcasthost",  "ip6-localhost", "ip6-loopback",
      "ip6-localnet", "ip6-mcastprefix",       "ip6-allnodes", "ip6-allrouters", "ip6-allhosts",  "0.0.0.0"};
  return kLocalNames.contains(util::to_lower(name));
}

void import_hosts_line(std::string_view line, std::size_t number, Collector& out) {
  const auto entry = before_comment(line);
  if (entry.empty()) return out.comment();
  const auto tokens = tokens_of(entry);
  const auto address = parse_ip_literal(tokens.front().substr(0, tokens.front().find('%')));  // fe80::1%lo0
  if (!address || tokens.size() < 2)
    return out.skip(SkipKind::malformed, number, fmt::format("{}: expected 'ADDRESS HOST...'", quote(line)));
  const bool block = is_block_address(*address);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const auto name = tokens[i];
    if (is_local_name(name)) {
      out.skip(SkipKind::local_name, number, fmt::format("{}: a local name, not a blocked host", quote(name)));
      continue;
    }
    if (!block) {
      out.skip(
          SkipKind::hosts_redirect, number,
          fmt::format("{}: maps the host to a real address; a block uses 0.0.0.0, 127.0.0.1, :: or ::1", quote(line)));
      continue;
    }
    Host host;
    if (auto skip = check_host(name, host)) {
      out.skip(std::move(*skip), number);
      continue;
    }
    if (host.ip) {
      out.skip(SkipKind::ip_in_domain_list, number, fmt::format("{} is an IP address, not a host name", quote(name)));
      continue;
    }
    out.add(EntryKind::domain, std::move(host.name), number);
  }
}

void import_domains_line(std::string_view line, std::size_t number, Collector& out) {
  auto entry = before_comment(line);
  if (entry.empty()) return out.comment();
  const bool allow = entry.starts_with("@@");
  if (allow) entry.remove_prefix(2);
  if (has_space(entry))
    return out.skip(SkipKind::malformed, number, fmt::format("{}: expected one host per line", quote(line)));
  if (entry.find('/') != std::string_view::npos)
    return out.skip(SkipKind::malformed, number, fmt::format("{}: a URL or path; expected a bare host", quote(line)));
  Host host;
  if (auto skip = check_host(entry, host)) return out.skip(std::move(*skip), number);
  if (host.ip)
    return out.skip(SkipKind::ip_in_domain_list, number,
                    fmt::format("{} is an IP address; import it from an IP list", quote(entry)));
  out.add(allow ? EntryKind::allow : EntryKind::domain, std::move(host.name), number);
}

void import_ips_line(std::string_view line, std::size_t number, Collector& out) {
  auto entry = before_comment(line);
  if (entry.empty()) return out.comment();
  const bool allow = entry.starts_with("@@");
  if (allow) entry.remove_prefix(2);
  std::string value;
  if (auto skip = check_range(entry, value)) return out.skip(std::move(*skip), number);
  out.add(allow ? EntryKind::allow : EntryKind::ip, std::move(value), number);
}

// --- Lines and detection ----------------------------------------------------------------------------

// Calls on_line(number, trimmed line) for every line of the text; returns the number of lines.
// Over-long lines go to on_too_long(number) instead.
template <typename OnLine, typename OnTooLong>
std::size_t for_each_line(std::string_view text, OnLine&& on_line, OnTooLong&& on_too_long) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > kMaxImportLineBytes) {
      on_too_long(number);
      continue;
    }
    if (!on_line(number, trim(line))) break;
  }
  return number;
}

bool is_ip_or_range(std::string_view token) {
  std::string ignored;
  const auto skip = check_range(token, ignored);
  return !skip || skip->kind != SkipKind::bad_ip;
}

bool looks_like_host(std::string_view token) {
  if (token.starts_with("*.")) token.remove_prefix(2);
  return !token.empty() && token.find('.') != std::string_view::npos &&
         std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.' || static_cast<unsigned char>(c) >= 0x80;
         });
}

bool looks_like_match_pattern(std::string_view line) {
  for (std::string_view scheme : {"*://", "http://", "https://", "ws://", "wss://"})
    if (util::starts_with_lower(line, scheme)) return true;
  return false;
}

}  // namespace

std::string_view to_string(ListFormat format) {
  switch (format) {
    case ListFormat::adblock: return "adblock";
    case ListFormat::hosts: return "hosts";
    case ListFormat::domains: return "domains";
    case ListFormat::ips: return "ips";
    case ListFormat::webext: return "webext";
  }
  return "domains";
}

std::string_view to_string(EntryKind kind) {
  switch (kind) {
    case EntryKind::domain: return "domain";
    case EntryKind::ws_endpoint: return "ws_endpoint";
    case EntryKind::script_url: return "script_url";
    case EntryKind::script_path: return "script_path";
    case EntryKind::ip: return "ip";
    case EntryKind::allow: return "allow";
  }
  return "domain";
}

std::string_view to_string(SkipKind kind) {
  switch (kind) {
    case SkipKind::line_too_long: return "line_too_long";
    case SkipKind::directive: return "directive";
    case SkipKind::cosmetic: return "cosmetic";
    case SkipKind::scriptlet: return "scriptlet";
    case SkipKind::regex: return "regex";
    case SkipKind::csp: return "csp";
    case SkipKind::redirect: return "redirect";
    case SkipKind::site_specific: return "site_specific";
    case SkipKind::unsupported_option: return "unsupported_option";
    case SkipKind::too_broad: return "too_broad";
    case SkipKind::wildcard_host: return "wildcard_host";
    case SkipKind::wildcard_path: return "wildcard_path";
    case SkipKind::websocket_path: return "websocket_path";
    case SkipKind::path_exception: return "path_exception";
    case SkipKind::public_suffix: return "public_suffix";
    case SkipKind::ip_in_domain_list: return "ip_in_domain_list";
    case SkipKind::local_name: return "local_name";
    case SkipKind::hosts_redirect: return "hosts_redirect";
    case SkipKind::host_with_port: return "host_with_port";
    case SkipKind::bad_host: return "bad_host";
    case SkipKind::bad_ip: return "bad_ip";
    case SkipKind::malformed: return "malformed";
    case SkipKind::duplicate: return "duplicate";
    case SkipKind::entry_limit: return "entry_limit";
  }
  return "malformed";
}

std::optional<ListFormat> parse_list_format(std::string_view name) {
  for (auto format : {ListFormat::adblock, ListFormat::hosts, ListFormat::domains, ListFormat::ips, ListFormat::webext})
    if (name == to_string(format)) return format;
  return std::nullopt;
}

std::size_t ImportResult::count(EntryKind kind) const {
  return static_cast<std::size_t>(
      std::count_if(entries.begin(), entries.end(), [kind](const ImportedEntry& entry) { return entry.kind == kind; }));
}

std::size_t ImportResult::skipped_count(SkipKind kind) const {
  const auto found = skipped.find(kind);
  return found == skipped.end() ? 0 : found->second.count;
}

std::size_t ImportResult::skipped_total() const {
  std::size_t total = 0;
  for (const auto& [kind, count] : skipped) total += count.count;
  return total;
}

ListFormat detect_list_format(std::string_view text) {
  // Votes in tie-break order.
  constexpr std::array kOrder{ListFormat::adblock, ListFormat::webext, ListFormat::hosts, ListFormat::ips,
                              ListFormat::domains};
  std::array<std::size_t, kOrder.size()> votes{};
  auto vote = [&](ListFormat format) {
    ++votes[static_cast<std::size_t>(std::find(kOrder.begin(), kOrder.end(), format) - kOrder.begin())];
  };
  bool adblock_header = false;
  std::size_t sampled = 0;
  for_each_line(
      text,
      [&](std::size_t, std::string_view line) {
        if (line.empty()) return true;
        if (line.starts_with('!') || util::starts_with_lower(line, "[adblock")) {
          adblock_header = true;
          return false;
        }
        if (line.starts_with('[') && line.ends_with(']')) return true;
        if (line.starts_with('#') && cosmetic_separator(line) != 0) return true;  // a comment, not `##.ad`
        ++sampled;
        const auto tokens = tokens_of(before_comment(line));
        if (line.starts_with("||") || line.starts_with("@@") || line.starts_with('|') ||
            cosmetic_separator(line) != std::string_view::npos)
          vote(ListFormat::adblock);
        else if (looks_like_match_pattern(line)) vote(ListFormat::webext);
        else if (line.find('^') != std::string_view::npos || options_start(line) || line.starts_with('/'))
          vote(ListFormat::adblock);
        else if (tokens.size() >= 2 && parse_ip_literal(tokens.front())) vote(ListFormat::hosts);
        else if (tokens.size() == 1 && is_ip_or_range(tokens.front())) vote(ListFormat::ips);
        else if (tokens.size() == 1 && looks_like_host(tokens.front())) vote(ListFormat::domains);
        return sampled < kDetectionSampleLines;
      },
      [](std::size_t) {});
  if (adblock_header) return ListFormat::adblock;
  std::size_t best = kOrder.size() - 1;  // domains when nothing voted
  for (std::size_t i = 0; i < kOrder.size(); ++i)
    if (votes[i] > votes[best] || (votes[i] == votes[best] && votes[i] > 0 && i < best)) best = i;
  return kOrder[best];
}

ImportResult import_list(std::string_view text, std::optional<ListFormat> format, const ImportLimits& limits) {
  const bool detected = !format;
  const ListFormat chosen = format ? *format : detect_list_format(text);
  Collector out(limits.max_entries);
  const auto lines = for_each_line(
      text,
      [&](std::size_t number, std::string_view line) {
        if (line.empty()) {
          out.comment();
          return true;
        }
        switch (chosen) {
          case ListFormat::adblock: import_adblock_line(line, number, out); break;
          case ListFormat::hosts: import_hosts_line(line, number, out); break;
          case ListFormat::domains: import_domains_line(line, number, out); break;
          case ListFormat::ips: import_ips_line(line, number, out); break;
          case ListFormat::webext: import_webext_line(line, number, out); break;
        }
        return true;
      },
      [&](std::size_t number) {
        out.skip(SkipKind::line_too_long, number, fmt::format("line longer than {} bytes", kMaxImportLineBytes));
      });
  return std::move(out).finish(chosen, detected, lines);
}

std::string not_a_text_list(std::string_view text) {
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    return fmt::format("it has NUL bytes (the first at byte {}): not a text list", nul);
  const std::size_t invalid = util::invalid_utf8_bytes(text);
  if (!text.empty() && static_cast<double>(invalid) > kMaxInvalidUtf8Share * static_cast<double>(text.size()))
    return fmt::format("{} of its {} bytes are not UTF-8 text: not a text list", invalid, text.size());
  return {};
}

}  // namespace blacklist
