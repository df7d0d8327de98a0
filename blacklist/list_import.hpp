// blacklist/list_import.hpp — parsers for public miner blocklists (`cjcrawl import`): list text in,
// normalised entries out, with every line that could not be imported counted by kind. Pure: no I/O,
// no clock; fetching the list and storing the entries happen elsewhere (crawler/, db/).
//
// Formats (ListFormat), detected from the text or forced:
//   adblock  Adblock Plus / uBlock Origin filters: `||host^`, `||host^$third-party`, `||host^$websocket`,
//            `||host/path`, `|https://host/path`, `@@` exceptions, path rules (`/cryptonight.wasm`,
//            `?proxy=wss://`), `!` comments, `[Adblock Plus 2.0]` header.
//   hosts    hosts files: `0.0.0.0 host [host...]`; the address must be 0.0.0.0, 127.0.0.1, :: or ::1.
//   domains  one host per line; `*.host` means the same as `host`; `@@host` is an allow entry.
//   ips      one IPv4/IPv6 address or CIDR range per line; `@@` prefix for an allow entry.
//   webext   WebExtension match patterns: `*://*.host/*`, `*://host/path*`, `wss://*.host/proxy*`,
//            `*://*/*cryptonight.wasm`.
// In every format a line starting with `#` is a comment (in adblock also `!`, while `##...` there is
// a cosmetic filter); in hosts, domains and ips `#` also starts a trailing comment.
//
// Entries (EntryKind) and how their values read. Every value is lower case, printable ASCII without
// space, `*`, `^`, `|`, `$` or `#` (characters with a meaning inside an Adblock Plus rule). Host
// names are validated and in their ASCII form (Punycode for non-ASCII labels, no trailing dot), and
// are never a public suffix alone. A host in a value covers its subdomains: lists mean "this host
// and everything under it" (`||host^`, `*.host`), and where a list names one exact host
// (`*://host/*`, a hosts-file line) the entry is that slightly broader rule.
//   domain       "coinhive.com" — the host and its subdomains, every scheme and path.
//   ws_endpoint  "coinhive.com" or "coinhive.com/proxy" — WebSocket URLs to that host (or a
//                subdomain) whose path starts with the given prefix. From `$websocket`-only rules and
//                ws:// / wss:// patterns.
//   script_url   "coinhive.com/lib" — HTTP(S) URLs to that host (or a subdomain) whose path (with
//                query) starts with the prefix: `||host/path`, `|https://host/path`, `*://host/path*`.
//   script_path  "/cryptonight.wasm", "?proxy=wss://", "plugins/aj-cryptominer" — a literal substring
//                of a script's (or Wasm's) URL, on any host: ABP path rules and `*://*/...` patterns.
//   ip           "192.0.2.7", "192.0.2.0/24", "2001:db8::/32" — canonical text, host bits zero.
//   allow        an exception: `@@||host^` → "host", `@@||host/path` → "host/path", `@@ip` → "ip".
// Imported script_url, ws_endpoint and allow values are patterns and begin with a host (or `[` for
// an IPv6 literal, bracketed as in "[2001:db8::1]/proxy"), never with a scheme: the exact URLs the
// crawler records under the same kinds always begin with one ("wss://...").
// What a pattern matches is approximated toward broader, never narrower: a path end anchor (`|`, or
// a match pattern without a trailing `*`) becomes a prefix or substring; `$third-party`,
// `$~third-party` and `domain=~site` conditions are dropped; a rule for both scripts and sockets
// becomes a script rule. Matching is meant case-insensitive, as in Adblock Plus.
//
// Contract:
//  - Never throws for any input (NUL bytes, invalid UTF-8, CR LF, megabyte lines); only
//    std::bad_alloc escapes. Nothing is silently dropped: every line is a comment (or blank, or a
//    header), produces at least one entry, or is counted in `skipped` under exactly one SkipKind with
//    the first line number and a reason. A hosts-file line naming several hosts counts per host.
//  - Deterministic: entries are unique by (kind, value), sorted by kind then value; each carries the
//    first line it came from. A repeat is counted as SkipKind::duplicate.
//  - Bounded: lines over kMaxImportLineBytes are skipped unread; at most kMaxImportEntries entries
//    are kept, the rest counted. Time is linear in the text, plus sorting the entries.
//  - Hosts are checked against the Public Suffix List through registrable_domain (blacklist/rules).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blacklist {

// --- Bounds ---------------------------------------------------------------------------------------

// Longer lines are skipped without being parsed (the longest line in the lists we know is under
// 2 KiB: a `$csp=...,domain=` rule with a hundred sites).
inline constexpr std::size_t kMaxImportLineBytes = 16 * 1024;
// Distinct entries kept per list; the rest is counted as SkipKind::entry_limit.
inline constexpr std::size_t kMaxImportEntries = 5'000'000;
// Format detection reads at most this many non-comment lines from the start.
inline constexpr std::size_t kDetectionSampleLines = 100;
// A script_path shorter than this (after dropping `*`s) would match too much of the web.
inline constexpr std::size_t kMinScriptPathBytes = 4;
// IP ranges wider than these are refused as too broad.
inline constexpr int kMinIpv4Prefix = 8;
inline constexpr int kMinIpv6Prefix = 16;
// Bytes of the offending line quoted in a skip reason (non-printable bytes as \xNN).
inline constexpr std::size_t kMaxQuotedBytes = 160;

// --- Kinds --------------------------------------------------------------------------------------

enum class ListFormat { adblock, hosts, domains, ips, webext };

// Sort order of entries is this order.
enum class EntryKind { domain, ws_endpoint, script_url, script_path, ip, allow };

// Why a line (or a hosts-file name) was not imported. For an adblock line, the first that applies in
// this order: line_too_long, directive, cosmetic / scriptlet, regex, then the options (csp, redirect,
// site_specific, unsupported_option), then the pattern (too_broad, wildcard_host, host_with_port,
// bad_host, public_suffix, wildcard_path, websocket_path, path_exception, malformed), then duplicate
// and entry_limit.
enum class SkipKind {
  line_too_long,       // over kMaxImportLineBytes
  directive,           // `!#include file`, `!#if ...`: preprocessor directives (an included list is not fetched)
  cosmetic,            // element hiding: `##`, `#@#`, `#?#`, ...
  scriptlet,           // `##+js(...)`, `#$#` snippets, `#%#` scripts
  regex,               // `/.../` network rules
  csp,                 // `$csp=`
  redirect,            // `$redirect=`, `$redirect-rule=`, `$rewrite=`
  site_specific,       // `$domain=site` (or a rule that is only options): applies on certain pages, which are victims
  unsupported_option,  // another option, a negated resource type, or an exception-only one ($document, ...)
  too_broad,           // matches (nearly) everything: empty pattern, `*`, a tiny substring, 0.0.0.0/0
  wildcard_host,       // `*` inside a host (`||minero-proxy-*.now.sh^`); `*.host` is fine
  wildcard_path,       // `*` or `^` inside a path or substring (`||host^*.php`, `/miner.*/loader.`)
  websocket_path,      // a WebSocket-only rule without a host (`/wproxy$websocket`, `wss://*/x`)
  path_exception,      // an `@@` exception without a host
  public_suffix,       // the host alone is a public suffix (`ddns.net`, `github.io`, `com`)
  ip_in_domain_list,   // an IP address where a host name is expected (domains, hosts)
  local_name,          // hosts files: `localhost`, `broadcasthost`, `ip6-loopback`, `0.0.0.0`, ...
  hosts_redirect,      // hosts files: an address other than 0.0.0.0 / 127.0.0.1 / :: / ::1 (not a block)
  host_with_port,      // `host:port` — a port cannot be represented
  bad_host,            // not a valid host name
  bad_ip,              // not a valid address or range (bad prefix, host bits set)
  malformed,           // anything else that does not parse in the format
  duplicate,           // the same (kind, value) again
  entry_limit,         // past kMaxImportEntries
};

std::string_view to_string(ListFormat format);
std::string_view to_string(EntryKind kind);
std::string_view to_string(SkipKind kind);

// "adblock", "hosts", "domains", "ips", "webext" (for --format); nullopt for anything else.
std::optional<ListFormat> parse_list_format(std::string_view name);

// --- Results --------------------------------------------------------------------------------------

struct ImportedEntry {
  EntryKind kind = EntryKind::domain;
  std::string value;     // see the top of this file
  std::size_t line = 0;  // 1-based, the first line that produced it

  bool operator==(const ImportedEntry&) const = default;
};

struct SkipCount {
  std::size_t count = 0;
  std::size_t sample_line = 0;  // first occurrence, 1-based
  std::string sample_reason;    // for that occurrence, quoting (part of) the line

  bool operator==(const SkipCount&) const = default;
};

struct ImportResult {
  ListFormat format = ListFormat::domains;
  bool format_detected = false;           // false when forced
  std::vector<ImportedEntry> entries;     // unique, sorted by (kind, value)
  std::map<SkipKind, SkipCount> skipped;  // only kinds that occurred
  std::size_t lines = 0;                  // lines in the text (a final line without '\n' counts)
  std::size_t comment_lines = 0;          // blank lines, comments and headers

  std::size_t count(EntryKind kind) const;
  std::size_t skipped_count(SkipKind kind) const;  // 0 when absent
  std::size_t skipped_total() const;

  bool operator==(const ImportResult&) const = default;
};

// --- Parsing --------------------------------------------------------------------------------------

// The format of a list, from its first kDetectionSampleLines lines that are not blank or comments:
//  - a `[Adblock ...]` header or a `!` comment line decides adblock at once;
//  - otherwise each line votes: adblock if it starts with `||`, `@@` or `|`, or has `##`/`#@#`, a `^`
//    or `$` options; webext if it starts with `*://`, `http(s)://` or `ws(s)://`; hosts if it is an IP
//    address followed by a name; ips if it is one address or CIDR range; domains if it is one token
//    of host-name characters (letters, digits, `-`, `_`, `.`, a leading `*.`); path-like lines
//    (starting with `/`) vote adblock;
//  - the most votes win; ties go to the first of adblock, webext, hosts, ips, domains. A text
//    without any vote (empty, only comments) is `domains`.
ListFormat detect_list_format(std::string_view text);

// Why `text` is no text list at all, or "": NUL bytes, or more than kMaxInvalidUtf8Share of its bytes
// not UTF-8 (a binary file, an archive, a wrongly decoded download). Checked before any parsing, so
// that garbage never becomes "entries".
inline constexpr double kMaxInvalidUtf8Share = 0.01;
std::string not_a_text_list(std::string_view text);

struct ImportLimits {
  std::size_t max_entries = kMaxImportEntries;  // tests shrink it to reach the limit
};

// Parses a whole list. `format` forces the format; otherwise it is detected (detect_list_format).
// A leading UTF-8 byte order mark is ignored; lines end at '\n', and a '\r' before it is dropped.
ImportResult import_list(std::string_view text, std::optional<ListFormat> format = std::nullopt,
                         const ImportLimits& limits = {});

}  // namespace blacklist
