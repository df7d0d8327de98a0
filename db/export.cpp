// db/export.cpp — renderers of the blacklist into hosts, domains, adblock, rpz, csv, json, jsonl and
// stix. The contract (what each format carries, which values are refused) is in export.hpp.
#include "db/export.hpp"

#include "blacklist/known.hpp"
#include "blacklist/rules.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "util/text.hpp"

namespace db {
namespace {

// ---- Limits and fixed values.
constexpr std::size_t kMaxHostLength = 253;
// An RPZ owner is "*." + host + "." + the zone's name, and DNS names stop at 255: leave the zone's name
// 53 characters, or one long hostile host would make the server refuse the whole zone.
constexpr std::size_t kMaxRpzHostLength = 200;
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxTitleLength = 200;
constexpr int kMaxEvidenceDepth = 32;  // deeper evidence JSON is carried as text (dump recurses)
constexpr int kRpzTtlSeconds = 300;
// The latest instant RFC 3339 and STIX can spell: 9999-12-31T23:59:59.999Z.
constexpr std::int64_t kMaxTimeMs = 253'402'300'799'999;
constexpr std::string_view kLocalTopLabels[] = {"localhost", "localdomain", "local", "internal", "lan", "home", "arpa"};

// ---- Time.

struct CivilTime {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millisecond;
};

// UTC calendar time of Unix milliseconds, clamped to years 1970–9999 (H. Hinnant's civil_from_days).
CivilTime civil_time(std::int64_t ms) {
  ms = std::clamp<std::int64_t>(ms, 0, kMaxTimeMs);
  const std::int64_t days = ms / 86'400'000;
  std::int64_t rest = ms % 86'400'000;
  const std::int64_t z = days + 719'468;
  const std::int64_t era = z / 146'097;
  const std::int64_t day_of_era = z - era * 146'097;
  const std::int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  CivilTime time{};
  time.day = static_cast<unsigned>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  time.month = static_cast<unsigned>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  time.year = year_of_era + era * 400 + (time.month <= 2 ? 1 : 0);
  time.millisecond = static_cast<unsigned>(rest % 1000);
  rest /= 1000;
  time.second = static_cast<unsigned>(rest % 60);
  time.minute = static_cast<unsigned>(rest / 60 % 60);
  time.hour = static_cast<unsigned>(rest / 3600);
  return time;
}

// "2024-06-10T09:12:00.000Z": STIX wants created/modified to the millisecond.
std::string rfc3339_ms(std::int64_t ms) {
  const CivilTime t = civil_time(ms);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year, t.month, t.day, t.hour, t.minute, t.second,
                     t.millisecond);
}

// "2024-06-10T09:12:00Z" for comment headers.
std::string rfc3339_seconds(std::int64_t ms) {
  const CivilTime t = civil_time(ms);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year, t.month, t.day, t.hour, t.minute, t.second);
}

// "10 Jun 2024 09:12 UTC", as EasyList writes "! Last modified:".
std::string adblock_time(std::int64_t ms) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const CivilTime t = civil_time(ms);
  return fmt::format("{} {} {} {:02}:{:02} UTC", t.day, kMonths[t.month - 1], t.year, t.hour, t.minute);
}

// ---- Text.

bool is_printable_ascii(char c) { return c > 0x20 && c < 0x7f; }

// The title for a comment line: printable ASCII and spaces only, so it cannot end the comment.
std::string header_text(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxTitleLength)) out += (is_printable_ascii(c) || c == ' ') ? c : '?';
  return out;
}

// Lower case, without one trailing dot.
std::string lower_host(std::string_view text) {
  std::string host = util::to_lower(text);
  if (host.ends_with('.')) host.pop_back();
  return host;
}

// A value as a log line can show it: printable ASCII kept, other bytes as \xNN, cut to a length.
std::string printable(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (out.size() >= kMaxSkippedValueChars) {
      out += "...";
      break;
    }
    if (is_printable_ascii(c) && c != '\\') {
      out += c;
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// Length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no overlongs, no
// surrogates, nothing past U+10FFFF), or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  return length;
}

// ---- Hosts and URLs.

struct HostCheck {
  std::string host;     // lower case, no trailing dot
  std::string problem;  // empty when the host may be written
};

bool has_public_suffix_list() {
  static const bool loaded = !blacklist::registrable_domain("example.com").empty();
  return loaded;
}

HostCheck check_host(std::string_view text) {
  HostCheck check;
  check.host = lower_host(text);
  const std::string& host = check.host;
  const auto fail = [&](std::string why) {
    check.problem = std::move(why);
    return check;
  };
  if (host.empty()) return fail("empty host");
  if (host.size() > kMaxHostLength) return fail(fmt::format("host longer than {} characters", kMaxHostLength));
  for (const char c : host) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!allowed)
      return fail(static_cast<unsigned char>(c) >= 0x80 ? "host is not ASCII (not punycode)"
                                                        : "host has a character not allowed in a host name");
  }
  std::size_t labels = 0;
  std::string_view last_label;
  for (std::size_t start = 0; start <= host.size();) {
    const std::size_t end = std::min(host.find('.', start), host.size());
    const std::string_view label = std::string_view(host).substr(start, end - start);
    if (label.empty()) return fail("host has an empty label");
    if (label.size() > kMaxLabelLength)
      return fail(fmt::format("host has a label over {} characters", kMaxLabelLength));
    if (label.front() == '-' || label.back() == '-') return fail("host has a label beginning or ending with '-'");
    if (label.starts_with("rpz-")) return fail("host has a label beginning with 'rpz-' (an RPZ trigger)");
    ++labels;
    last_label = label;
    start = end + 1;
  }
  if (labels < 2) return fail("host is a single label");
  if (std::all_of(last_label.begin(), last_label.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail("host is an IP address");
  if (std::find(std::begin(kLocalTopLabels), std::end(kLocalTopLabels), last_label) != std::end(kLocalTopLabels))
    return fail("host is a local name");
  if (has_public_suffix_list() && blacklist::registrable_domain(host).empty())
    return fail("host is a public suffix: it would block every site under it");
  return check;
}

bool is_ipv4(std::string_view text) {
  int parts = 0;
  for (std::size_t start = 0; start <= text.size(); ++parts) {
    const std::size_t end = std::min(text.find('.', start), text.size());
    const std::string_view part = text.substr(start, end - start);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    if (std::stoi(std::string(part)) > 255 || (part.size() > 1 && part.front() == '0')) return false;
    start = end + 1;
  }
  return parts == 4;
}

// A URL as the crawler records it ("wss://host:8443/proxy?x"), or a pattern as lists are imported
// ("host", "host/path-prefix": blacklist/list_import.hpp), taken apart and checked.
struct UrlCheck {
  std::string host;  // checked host, or an IPv4 address when ipv4
  bool ipv4 = false;
  bool pattern = false;  // an imported "host[/prefix]": the path is a prefix, kept with any query
  std::string port;      // digits, or empty
  std::string path;      // URL: up to '?' or '#', "/" when absent. Pattern: the prefix, or empty
  std::string problem;   // empty when the URL may be used
};

UrlCheck check_url(std::string_view value) {
  UrlCheck check;
  const auto fail = [&](std::string why) {
    check.problem = std::move(why);
    return check;
  };
  if (!std::all_of(value.begin(), value.end(), is_printable_ascii))
    return fail("URL has a space, control character or non-ASCII byte");
  std::string_view rest = value;
  if (const std::size_t separator = value.find("://"); separator != std::string_view::npos) {
    const std::string scheme = util::to_lower(value.substr(0, separator));
    if (scheme != "http" && scheme != "https" && scheme != "ws" && scheme != "wss")
      return fail("not an http, https, ws or wss URL");
    rest.remove_prefix(separator + 3);
  } else {
    check.pattern = true;
  }
  const std::size_t authority_end = std::min(rest.find_first_of(check.pattern ? "/" : "/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find_first_of("@\\") != std::string_view::npos) return fail("URL has user info or a backslash");
  if (authority.starts_with('[')) return fail("host is an IPv6 address");
  std::string_view host = authority;
  if (const std::size_t port_colon = authority.find(':'); port_colon != std::string_view::npos) {
    host = authority.substr(0, port_colon);
    const std::string_view port = authority.substr(port_colon + 1);
    const bool digits = std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (port.empty() || port.size() > 5 || !digits || std::stoi(std::string(port)) == 0 ||
        std::stoi(std::string(port)) > 65535)
      return fail("URL has an invalid port");
    check.port = port;
  }
  if (is_ipv4(host)) {
    check.host = host;
    check.ipv4 = true;
  } else {
    HostCheck host_check = check_host(host);
    if (!host_check.problem.empty()) return fail(std::move(host_check.problem));
    check.host = std::move(host_check.host);
  }
  rest.remove_prefix(authority_end);
  if (check.pattern) {
    check.path = rest;
  } else {
    const std::string_view path = rest.substr(0, std::min(rest.find_first_of("?#"), rest.size()));
    check.path = path.empty() ? "/" : std::string(path);
  }
  return check;
}

// Characters an adblock rule may carry literally: none of the rule syntax ($ options, ^ separator,
// | anchor, * wildcard, # element hiding, ! comment, [ header) and nothing a parser might split on.
bool is_literal_rule_text(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~/%+,=&@:?").find(c) != std::string_view::npos;
  });
}

// ---- Shared pass over the entries.

// The entries in (kind, value) order, then by every other field, so equal input in any order gives
// equal output.
std::vector<const ExportEntry*> sorted(std::span<const ExportEntry> entries) {
  std::vector<const ExportEntry*> order;
  order.reserve(entries.size());
  for (const ExportEntry& entry : entries) order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](const ExportEntry* a, const ExportEntry* b) {
    return std::tie(a->kind, a->value, a->first_seen_ms, a->last_seen_ms, a->hits, a->confidence, a->evidence_json,
                    a->sources) < std::tie(b->kind, b->value, b->first_seen_ms, b->last_seen_ms, b->hits, b->confidence,
                                           b->evidence_json, b->sources);
  });
  return order;
}

std::vector<std::string> sorted_sources(const ExportEntry& entry) {
  std::vector<std::string> sources = entry.sources;
  std::sort(sources.begin(), sources.end());
  sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  return sources;
}

void note_skipped(Rendered& rendered, const ExportEntry& entry, std::string reason) {
  ++rendered.skipped;
  if (rendered.skipped_samples.size() < kMaxSkippedSamples)
    rendered.skipped_samples.push_back({printable(entry.kind), printable(entry.value), std::move(reason)});
}

// The path with query of a URL ("/" when it has none) or of a "host/path" pattern ("" for a bare
// host), lower case: what allow patterns are matched against, as blacklist::KnownEntries does.
std::string lower_path_of(std::string_view value) {
  const auto scheme = value.find("://");
  const auto slash = value.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (slash == std::string_view::npos) return scheme == std::string_view::npos ? "" : "/";
  return util::to_lower(value.substr(slash, value.find('#', slash) - slash));
}

// The allow list, as the line formats consult it. Its values are not checked like blocked ones: an
// allow entry can only take lines out, never put one in.
class AllowList {
 public:
  explicit AllowList(const std::vector<const ExportEntry*>& entries) {
    for (const ExportEntry* entry : entries) {
      if (entry->kind != "allow") continue;
      const std::string& value = entry->value;
      if (value.find("://") != std::string::npos) {
        urls_.insert(value);
      } else if (const auto slash = value.find('/'); slash != std::string::npos) {
        prefixes_[lower_host(value.substr(0, slash))].push_back(util::to_lower(value.substr(slash)));
      } else {
        hosts_.insert(lower_host(value));
      }
    }
  }

  // Whether an allow entry covers the entry `value` whose host is `host`: the exact URL, the host or a
  // name above it, or such a host with a prefix of the value's path and query (not for a domain).
  // The same answer as blacklist::KnownEntries::allowed gives the detector.
  bool covers(std::string_view value, std::string_view host, bool is_domain) const {
    // An exact allow URL covers the URL with any query or fragment too, as for the detector.
    if (urls_.contains(std::string(value)) || urls_.contains(blacklist::endpoint_key(value))) return true;
    const std::string path = is_domain ? std::string() : lower_path_of(value);
    for (std::string_view rest = host;;) {
      const std::string name(rest);
      if (hosts_.contains(name)) return true;
      if (const auto it = prefixes_.find(name); it != prefixes_.end() && !path.empty())
        for (const std::string& prefix : it->second)
          if (path.starts_with(prefix)) return true;
      const auto dot = rest.find('.');
      if (dot == std::string_view::npos) return false;
      rest.remove_prefix(dot + 1);
    }
  }

  // Allowed host names (entries without a path), lower case.
  const std::unordered_set<std::string>& hosts() const { return hosts_; }

 private:
  std::unordered_set<std::string> hosts_;                               // each covers the names below it
  std::unordered_set<std::string> urls_;                                // exact values
  std::unordered_map<std::string, std::vector<std::string>> prefixes_;  // host → path prefixes
};

// What one blocking entry names for the line formats, once checked against the allow list.
struct Target {
  std::optional<UrlCheck> url;  // for URL kinds (page, script_url, ws_endpoint)
  std::string host;             // the host to block
};

// The checked target of a domain, ws_endpoint, script_url or page entry, or nullopt when it is left
// out (counted in `rendered` as skipped or allowed).
std::optional<Target> target_of(const ExportEntry& entry, const AllowList& allow, Rendered& rendered) {
  Target target;
  std::string problem;
  if (entry.kind == "domain") {
    HostCheck check = check_host(entry.value);
    problem = std::move(check.problem);
    target.host = std::move(check.host);
  } else {
    target.url = check_url(entry.value);
    problem = std::move(target.url->problem);
    target.host = target.url->host;
  }
  if (!problem.empty()) {
    note_skipped(rendered, entry, std::move(problem));
    return std::nullopt;
  }
  if (allow.covers(entry.value, target.host, !target.url)) {
    ++rendered.allowed;
    return std::nullopt;
  }
  return target;
}

bool blocks_by_host(const ExportEntry& entry, const ExportOptions& options) {
  return entry.kind == "domain" || entry.kind == "ws_endpoint" || entry.kind == "script_url" ||
         (entry.kind == "page" && options.include_pages);
}

// ---- Line formats.

// The distinct hosts the entries block, for hosts, domains and rpz.
std::set<std::string> blocked_hosts(const std::vector<const ExportEntry*>& entries, const ExportOptions& options,
                                    Rendered& rendered, std::size_t max_length) {
  const AllowList allow(entries);
  std::set<std::string> hosts;
  for (const ExportEntry* entry : entries) {
    if (!blocks_by_host(*entry, options)) continue;
    auto target = target_of(*entry, allow, rendered);
    if (!target) continue;
    if (target->url && target->url->ipv4) {
      note_skipped(rendered, *entry, "host is an IP address");
    } else if (target->host.size() > max_length) {
      note_skipped(rendered, *entry, fmt::format("host longer than {} characters", max_length));
    } else {
      hosts.insert(std::move(target->host));
    }
  }
  return hosts;
}

Rendered render_hosts(const std::vector<const ExportEntry*>& entries, const ExportOptions& options) {
  Rendered rendered;
  const auto hosts = blocked_hosts(entries, options, rendered, kMaxHostLength);
  rendered.written = hosts.size();
  std::string& out = rendered.text;
  out += fmt::format("# Title: {}\n# Last modified: {}\n# Entries: {}\n", header_text(options.title),
                     rfc3339_seconds(options.now_ms), hosts.size());
  for (const std::string& host : hosts) out += fmt::format("0.0.0.0 {}\n", host);
  return rendered;
}

Rendered render_domains(const std::vector<const ExportEntry*>& entries, const ExportOptions& options) {
  Rendered rendered;
  const auto hosts = blocked_hosts(entries, options, rendered, kMaxHostLength);
  rendered.written = hosts.size();
  for (const std::string& host : hosts) rendered.text += host + '\n';
  return rendered;
}

Rendered render_rpz(const std::vector<const ExportEntry*>& entries, const ExportOptions& options) {
  Rendered rendered;
  const auto blocked = blocked_hosts(entries, options, rendered, kMaxRpzHostLength);
  // Allowed names below a blocked name pass through; without it "*.blocked CNAME ." would catch them.
  // RPZ prefers an exact owner over a wildcard, and a longer wildcard over a shorter one.
  std::set<std::string> passed;
  const AllowList allow(entries);
  for (const std::string& allowed : allow.hosts()) {
    if (!check_host(allowed).problem.empty() || allowed.size() > kMaxRpzHostLength) continue;
    for (auto dot = allowed.find('.'); dot != std::string::npos; dot = allowed.find('.', dot + 1)) {
      if (blocked.contains(allowed.substr(dot + 1))) {
        passed.insert(allowed);
        break;
      }
    }
  }
  std::map<std::string, std::string_view> names;  // name → action, in name order
  for (const std::string& host : blocked) names.emplace(host, ".");
  for (const std::string& host : passed) names.emplace(host, "rpz-passthru.");
  rendered.written = blocked.size();

  const auto serial = static_cast<std::uint32_t>(std::clamp<std::int64_t>(options.now_ms, 0, kMaxTimeMs) / 1000);
  std::string& out = rendered.text;
  out += fmt::format("; Title: {}\n; Last modified: {}\n; Entries: {} blocked, {} passed through\n",
                     header_text(options.title), rfc3339_seconds(options.now_ms), blocked.size(), passed.size());
  out += "; A response-policy zone with relative names: load it under any zone name.\n";
  out += fmt::format("$TTL {}\n", kRpzTtlSeconds);
  out += fmt::format("@ IN SOA localhost. hostmaster.localhost. {} 3600 600 604800 {}\n", serial, kRpzTtlSeconds);
  out += "@ IN NS localhost.\n";
  for (const auto& [host, action] : names)
    out += fmt::format("{} CNAME {}\n*.{} CNAME {}\n", host, action, host, action);
  return rendered;
}

// The adblock rule naming a URL's host and path: "||host[:port]/path^" for a URL (that path, any
// query), "||host[:port]/prefix" for an imported pattern, "||host^" for a pattern without a path.
std::optional<std::string> path_rule(const UrlCheck& url, std::string& problem) {
  if (url.pattern && url.path.empty()) return fmt::format("||{}^", url.host);
  if (!url.path.starts_with('/') || !is_literal_rule_text(url.path)) {
    problem = "URL path has a character a filter rule cannot carry";
    return std::nullopt;
  }
  return fmt::format("||{}{}{}{}{}", url.host, url.port.empty() ? "" : ":", url.port, url.path, url.pattern ? "" : "^");
}

// An imported script_path ("/cryptonight.wasm") as a rule of its own: long enough not to match much of
// the web, literal, and not read as something else (an @@ exception). A path that starts and ends
// with '/' ("/web_miner/") would be read as a /regex/, so it gets a trailing '*', which means the
// same substring to Adblock Plus and to our importer.
std::optional<std::string> substring_rule(std::string_view text, std::string& problem) {
  if (text.size() < 4 || !is_literal_rule_text(text) || text.starts_with('@')) {
    problem = "not a literal URL substring of at least 4 characters that a filter rule can carry";
    return std::nullopt;
  }
  if (text.size() > 1 && text.starts_with('/') && text.ends_with('/')) return std::string(text) + "*";
  return std::string(text);
}

// An exception: "host" → @@||host^, an address → @@||address^, a URL or pattern → a path rule.
std::optional<std::string> adblock_exception(const std::string& value, std::string& problem) {
  if (value.find('/') == std::string::npos && is_ipv4(value)) return "||" + value + "^";
  if (value.find('/') == std::string::npos) {
    HostCheck check = check_host(value);
    problem = std::move(check.problem);
    if (problem.empty()) return "||" + check.host + "^";
    return std::nullopt;
  }
  UrlCheck url = check_url(value);
  if (!url.problem.empty()) {
    problem = std::move(url.problem);
    return std::nullopt;
  }
  return path_rule(url, problem);
}

// A blocking rule for an entry with a host (domain, page, socket endpoint, script URL).
std::optional<std::string> adblock_block(const std::string& kind, const Target& target, std::string& problem) {
  if (kind == "domain") return "||" + target.host + "^$third-party";
  if (kind == "page") {
    if (!target.url->ipv4) return "||" + target.host + "^";
    problem = "host is an IP address";
    return std::nullopt;
  }
  if (kind == "ws_endpoint") {
    // Every WebSocket to the host, any port and path: pools rotate both, and no page needs a socket to
    // a pool. An imported pattern with a path keeps its path.
    if (!target.url->pattern || target.url->path.empty()) return "||" + target.host + "^$websocket";
    auto rule = path_rule(*target.url, problem);
    if (rule) *rule += "$websocket";
    return rule;
  }
  return path_rule(*target.url, problem);  // a script: its own path only
}

Rendered render_adblock(const std::vector<const ExportEntry*>& entries, const ExportOptions& options) {
  Rendered rendered;
  const AllowList allow(entries);
  std::set<std::string> blocks, exceptions;
  for (const ExportEntry* entry : entries) {
    const std::string& kind = entry->kind;
    std::optional<std::string> rule;
    std::string problem;
    if (kind == "allow") {
      if ((rule = adblock_exception(entry->value, problem))) exceptions.insert("@@" + *rule);
      else note_skipped(rendered, *entry, std::move(problem));
      continue;
    }
    if (kind == "script_path") {
      rule = substring_rule(entry->value, problem);
    } else {
      if (!blocks_by_host(*entry, options)) continue;
      const auto target = target_of(*entry, allow, rendered);
      if (!target) continue;
      rule = adblock_block(kind, *target, problem);
    }
    if (rule) blocks.insert(std::move(*rule));
    else note_skipped(rendered, *entry, std::move(problem));
  }
  rendered.written = blocks.size() + exceptions.size();

  const int expires_days = std::clamp(options.expires_days, 1, 365);
  std::string& out = rendered.text;
  out += "[Adblock Plus 2.0]\n";
  out += fmt::format("! Title: {}\n", header_text(options.title));
  out += fmt::format("! Last modified: {}\n", adblock_time(options.now_ms));
  out += fmt::format("! Expires: {} {} (update frequency)\n", expires_days, expires_days == 1 ? "day" : "days");
  out += fmt::format("! Entries: {} rules, {} exceptions\n", blocks.size(), exceptions.size());
  for (const std::string& rule : blocks) out += rule + '\n';
  for (const std::string& rule : exceptions) out += rule + '\n';
  return rendered;
}

// ---- Report formats.

// Appends `text` as a JSON string (RFC 8259): '"', '\' and controls escaped; bytes that are not UTF-8
// become U+FFFD, so the document stays valid whatever the value held.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else out += c;
    }
    ++i;
  }
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// Depth of the deepest nesting of [ and { outside strings; stops counting past `limit`.
int json_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size() && deepest <= limit; ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// Appends the evidence as JSON on one line: the store's text itself when it is valid JSON without line
// breaks (the common case, and the fast one), re-serialised when it has line breaks, a JSON string of
// it when it is not JSON or nests too deep to handle safely, null when empty.
void append_evidence(std::string& out, std::string_view evidence) {
  if (evidence.empty()) {
    out += "null";
    return;
  }
  if (json_depth(evidence, kMaxEvidenceDepth) <= kMaxEvidenceDepth && nlohmann::json::accept(evidence)) {
    if (evidence.find_first_of("\r\n") == std::string_view::npos) {
      // accept() allows surrounding whitespace; trim it so the line is the same however it was stored.
      const auto first = evidence.find_first_not_of(" \t");
      const auto last = evidence.find_last_not_of(" \t");
      out.append(evidence.substr(first, last - first + 1));
    } else {
      out += nlohmann::ordered_json::parse(evidence).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return;
  }
  append_json_string(out, evidence);
}

void append_sources(std::string& out, const ExportEntry& entry) {
  out += '[';
  bool first = true;
  for (const std::string& source : sorted_sources(entry)) {
    if (!std::exchange(first, false)) out += ',';
    append_json_string(out, source);
  }
  out += ']';
}

// {"kind":…,"value":…,"first_seen":…,"last_seen":…,"first_seen_ms":…,"last_seen_ms":…,"hits":…,
// "confidence":…,"sources":[…],"evidence":…} on one line.
std::string entry_json(const ExportEntry& entry) {
  std::string out = "{\"kind\":";
  append_json_string(out, entry.kind);
  out += ",\"value\":";
  append_json_string(out, entry.value);
  out += fmt::format(
      ",\"first_seen\":\"{}\",\"last_seen\":\"{}\",\"first_seen_ms\":{},\"last_seen_ms\":{},\"hits\":{},\"confidence\":"
      "{}",
      rfc3339_ms(entry.first_seen_ms), rfc3339_ms(entry.last_seen_ms), entry.first_seen_ms, entry.last_seen_ms,
      entry.hits, entry.confidence);
  out += ",\"sources\":";
  append_sources(out, entry);
  out += ",\"evidence\":";
  append_evidence(out, entry.evidence_json);
  out += '}';
  return out;
}

Rendered render_jsonl(const std::vector<const ExportEntry*>& entries) {
  Rendered rendered;
  for (const ExportEntry* entry : entries) rendered.text += entry_json(*entry) + '\n';
  rendered.written = entries.size();
  return rendered;
}

// {\n  "key": value,\n ...  "<list>": [\n    item,\n    item\n  ]\n}\n: one item per line, so diffs
// stay small. `head` holds keys and values already in JSON.
std::string document(const std::vector<std::pair<std::string_view, std::string>>& head, std::string_view list_name,
                     const std::vector<std::string>& items) {
  std::string out = "{\n";
  for (const auto& [key, value] : head) out += fmt::format("  \"{}\": {},\n", key, value);
  out += fmt::format("  \"{}\": [", list_name);
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    out += items[i];
  }
  out += items.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

Rendered render_json(const std::vector<const ExportEntry*>& entries, const ExportOptions& options) {
  Rendered rendered;
  std::vector<std::string> items;
  items.reserve(entries.size());
  for (const ExportEntry* entry : entries) items.push_back(entry_json(*entry));
  rendered.text = document({{"title", json_string(header_text(options.title))},
                            {"generated", json_string(rfc3339_ms(options.now_ms))},
                            {"count", std::to_string(entries.size())}},
                           "entries", items);
  rendered.written = entries.size();
  return rendered;
}

// A CSV field: always quoted, '"' doubled, formula starts neutralised, valid UTF-8 with controls other
// than TAB, LF and CR (legal inside quotes) replaced by U+FFFD.
std::string csv_field(std::string_view text) {
  std::string out = "\"";
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) out += '\'';
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const std::size_t length = utf8_sequence_length(text.substr(i));
    const bool control =
        length == 1 && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) && c != '\t' && c != '\n' && c != '\r';
    if (length == 0 || control) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    if (c == '"') out += '"';
    out.append(text.substr(i, length));
    i += length;
  }
  out += '"';
  return out;
}

Rendered render_csv(const std::vector<const ExportEntry*>& entries) {
  Rendered rendered;
  std::string& out = rendered.text;
  out += "kind,value,first_seen,last_seen,hits,confidence,sources,evidence\r\n";
  for (const ExportEntry* entry : entries) {
    std::string sources;
    for (const std::string& source : sorted_sources(*entry)) sources += (sources.empty() ? "" : " ") + source;
    out += fmt::format("{},{},{},{},{},{},{},{}\r\n", csv_field(entry->kind), csv_field(entry->value),
                       rfc3339_ms(entry->first_seen_ms), rfc3339_ms(entry->last_seen_ms), entry->hits,
                       entry->confidence, csv_field(sources), csv_field(entry->evidence_json));
  }
  rendered.written = entries.size();
  return rendered;
}

// An IPv4 address, or anything made only of hex digits, ':' and '.' with a ':' (IPv6), either with an
// optional /prefix: how an allow entry or an unknown kind is told from a domain name.
bool looks_like_address(std::string_view value) {
  const std::string_view address = value.substr(0, value.find('/'));
  if (is_ipv4(address)) return true;
  return address.find(':') != std::string_view::npos && std::all_of(address.begin(), address.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
         });
}

// A STIX pattern string literal: ' and \ escaped with a backslash (STIX 2.1 patterning, 9.2).
std::string stix_string(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

// The indicator's pattern. Exact URLs compare with '='; imported patterns and substrings ("host/path",
// "/cryptonight.wasm") with LIKE '%…%', where a '_' or '%' in the value also acts as a wildcard
// (STIX LIKE has no escape), which can only widen the match.
std::string stix_pattern(const ExportEntry& entry) {
  const std::string& kind = entry.kind;
  const std::string& value = entry.value;
  const bool url = value.find("://") != std::string::npos;
  const auto like = [&] { return fmt::format("[url:value LIKE {}]", stix_string("%" + value + "%")); };
  if (kind == "domain") return fmt::format("[domain-name:value = {}]", stix_string(value));
  if (kind == "wasm_sha256") return fmt::format("[file:hashes.'SHA-256' = {}]", stix_string(value));
  if (url) return fmt::format("[url:value = {}]", stix_string(value));
  if (kind == "page" || kind == "script_url" || kind == "ws_endpoint" || kind == "script_path") return like();
  // ip, allow and kinds this version does not know: by the value's shape.
  if (kind == "ip" || looks_like_address(value))
    return fmt::format("[{}:value = {}]", value.find(':') != std::string::npos ? "ipv6-addr" : "ipv4-addr",
                       stix_string(value));
  if (value.find('/') != std::string::npos) return like();
  return fmt::format("[domain-name:value = {}]", stix_string(value));
}

// One indicator on one line; the property order is fixed.
std::string stix_indicator(const ExportEntry& entry) {
  const std::int64_t created = std::clamp<std::int64_t>(entry.first_seen_ms, 0, kMaxTimeMs);
  const std::int64_t modified = std::max(created, std::clamp<std::int64_t>(entry.last_seen_ms, 0, kMaxTimeMs));
  const std::string_view type = entry.kind == "page"    ? "compromised"
                                : entry.kind == "allow" ? "benign"
                                                        : "malicious-activity";
  std::string out = fmt::format(
      "{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"{}\",\"created\":\"{}\",\"modified\":\"{}\","
      "\"name\":",
      stix_indicator_id(entry.kind, entry.value), rfc3339_ms(created), rfc3339_ms(modified));
  append_json_string(out, "cjcrawl " + entry.kind);
  out += fmt::format(",\"indicator_types\":[\"{}\"],\"pattern\":", type);
  append_json_string(out, stix_pattern(entry));
  out += fmt::format(",\"pattern_type\":\"stix\",\"valid_from\":\"{}\",\"confidence\":{},\"x_cjcrawl_kind\":",
                     rfc3339_ms(created), std::clamp(entry.confidence, 0, 100));
  append_json_string(out, entry.kind);
  out += fmt::format(",\"x_cjcrawl_hits\":{}", entry.hits);
  // STIX lists may not be empty, so an entry without sources or evidence leaves the property out.
  if (!entry.sources.empty()) {
    out += ",\"x_cjcrawl_sources\":";
    append_sources(out, entry);
  }
  if (!entry.evidence_json.empty()) {
    out += ",\"x_cjcrawl_evidence\":";
    append_evidence(out, entry.evidence_json);
  }
  out += '}';
  return out;
}

// SHA-1 over several pieces without joining them (the bundle id hashes every object).
class Sha1 {
 public:
  Sha1() : context_(EVP_MD_CTX_new()) {
    if (!context_ || EVP_DigestInit_ex(context_, EVP_sha1(), nullptr) != 1) fail();
  }
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;
  ~Sha1() { EVP_MD_CTX_free(context_); }

  void update(std::string_view bytes) {
    if (EVP_DigestUpdate(context_, bytes.data(), bytes.size()) != 1) fail();
  }
  std::array<std::uint8_t, 20> finish() {
    std::array<std::uint8_t, 20> digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_, digest.data(), &length) != 1 || length != digest.size()) fail();
    return digest;
  }

 private:
  // SHA-1 is in every OpenSSL provider set that can run this binary; failing here is a broken install.
  [[noreturn]] static void fail() { throw std::runtime_error("OpenSSL could not compute SHA-1 (for a UUIDv5)"); }
  EVP_MD_CTX* context_;
};

// UUIDv5 of namespace_id and the concatenation of `pieces`.
Uuid uuid_v5_of_pieces(const Uuid& namespace_id, std::span<const std::string_view> pieces) {
  Sha1 sha1;
  sha1.update(std::string_view(reinterpret_cast<const char*>(namespace_id.data()), namespace_id.size()));
  for (const std::string_view piece : pieces) sha1.update(piece);
  const auto digest = sha1.finish();
  Uuid uuid;
  std::copy(digest.begin(), digest.begin() + 16, uuid.begin());
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x50);  // version 5
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid;
}

Rendered render_stix(const std::vector<const ExportEntry*>& entries) {
  Rendered rendered;
  std::vector<std::string> items;
  items.reserve(entries.size());
  for (const ExportEntry* entry : entries) items.push_back(stix_indicator(*entry));
  // The bundle's id names its content: UUIDv5 of "bundle:" and every object's line, each ended by '\n'.
  std::vector<std::string_view> pieces{"bundle:"};
  for (const std::string& item : items) {
    pieces.push_back(item);
    pieces.push_back("\n");
  }
  const std::string id = json_string("bundle--" + to_string(uuid_v5_of_pieces(kStixNamespace, pieces)));
  if (items.empty()) {
    // STIX lists may not be empty: an empty bundle has no "objects" at all.
    rendered.text = "{\n  \"type\": \"bundle\",\n  \"id\": " + id + "\n}\n";
  } else {
    rendered.text = document({{"type", "\"bundle\""}, {"id", id}}, "objects", items);
  }
  rendered.written = entries.size();
  return rendered;
}
}  // namespace

std::string format_rfc3339_seconds(std::int64_t ms) { return rfc3339_seconds(ms); }
std::string format_rfc3339_ms(std::int64_t ms) { return rfc3339_ms(ms); }

std::string_view to_string(Format format) {
  switch (format) {
    case Format::hosts: return "hosts";
    case Format::domains: return "domains";
    case Format::adblock: return "adblock";
    case Format::rpz: return "rpz";
    case Format::csv: return "csv";
    case Format::json: return "json";
    case Format::jsonl: return "jsonl";
    case Format::stix: return "stix";
  }
  return "hosts";
}

std::optional<Format> parse_format(std::string_view name) {
  for (const Format format : kFormats)
    if (to_string(format) == name) return format;
  return std::nullopt;
}

std::string_view content_type(Format format) {
  switch (format) {
    case Format::hosts:
    case Format::domains:
    case Format::adblock:
    case Format::rpz: return "text/plain; charset=utf-8";
    case Format::csv: return "text/csv; charset=utf-8; header=present";
    case Format::json: return "application/json";
    case Format::jsonl: return "application/x-ndjson";
    case Format::stix: return "application/stix+json;version=2.1";
  }
  return "application/octet-stream";
}

bool is_line_format(Format format) {
  return format == Format::hosts || format == Format::domains || format == Format::adblock || format == Format::rpz;
}

Rendered render_export(Format format, std::span<const ExportEntry> entries, const ExportOptions& options) {
  const std::vector<const ExportEntry*> order = sorted(entries);
  switch (format) {
    case Format::hosts: return render_hosts(order, options);
    case Format::domains: return render_domains(order, options);
    case Format::adblock: return render_adblock(order, options);
    case Format::rpz: return render_rpz(order, options);
    case Format::csv: return render_csv(order);
    case Format::json: return render_json(order, options);
    case Format::jsonl: return render_jsonl(order);
    case Format::stix: return render_stix(order);
  }
  return {};
}

Uuid uuid_v5(const Uuid& namespace_id, std::string_view name) {
  const std::string_view pieces[] = {name};
  return uuid_v5_of_pieces(namespace_id, pieces);
}

std::string to_string(const Uuid& uuid) {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", uuid[i]);
  }
  return out;
}

std::optional<Uuid> parse_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Uuid uuid{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int high = nibble(text[i]), low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    uuid[byte++] = static_cast<std::uint8_t>(high << 4 | low);
    i += 2;
  }
  return uuid;
}

std::string stix_indicator_id(std::string_view kind, std::string_view value) {
  std::string name(kind);
  name += ':';
  name.append(value);
  return "indicator--" + to_string(uuid_v5(kStixNamespace, name));
}

}  // namespace db
