// db/export.hpp — the blacklist as files other tools read: hosts files, domain lists, Adblock Plus
// filters, DNS response-policy zones, CSV, JSON, JSON Lines and STIX 2.1 bundles.
//
// Pure renderers: entries and options in, text out. No I/O and no clock: the caller passes now_ms
// (SOURCE_DATE_EPOCH or the clock), filters the entries (kind, source, since, confidence, age) and
// writes the text. Identical input gives byte-identical output, whatever the order of the entries.
//
// Every value came from a hostile page or a foreign list. The line formats (hosts, domains, adblock,
// rpz) write only names and URL pieces that pass the checks below, built from the checked pieces and
// never from the raw value; an entry that fails is left out of that format and counted. The report
// formats (csv, json, jsonl, stix) carry every entry, escaped.
//
// Rules of the line formats:
//  - They carry mining infrastructure: `domain` entries, and the host of `ws_endpoint` and
//    `script_url` entries (adblock: a socket rule and a path rule instead, below). `page` entries are
//    victims, and go in only when ExportOptions::include_pages is set. `ip` and `wasm_sha256` entries
//    never go in (a shared CDN address must not be blocked by name), nor do URL hosts that are IP
//    literals, except in adblock's socket and script rules, which block only WebSockets to, or one
//    path on, the address. `script_path` entries (an imported URL substring) go into adblock only.
//  - Values come in two shapes: URLs as the crawler records them ("wss://host:8443/proxy"), and
//    patterns as blacklist::import_list writes them (no scheme: "host" or "host/path-prefix" for
//    ws_endpoint, script_url and allow). Both are checked the same way.
//  - `allow` entries: a host (and every name below it), an exact URL (with any query or fragment), or
//    a "host/path-prefix" pattern
//    (that host and those below it, paths starting with the prefix). Nothing an allow entry covers is
//    written as blocked in any line format; such entries are counted in Rendered::allowed. Allow
//    values are not checked to be used this way: they can only take lines out. adblock writes each
//    allow entry that passes the checks as an exception (`@@||host^`, `@@||host/path^`,
//    `@@||host/prefix`); rpz writes `rpz-passthru.` for an allowed name below a blocked one (the
//    zone's `*.blocked` would catch it otherwise); hosts and domains list exact names and need nothing.
//  - A host is written only if, once lower-cased and stripped of one trailing dot: it is ASCII
//    letters, digits, '-', '_' and dots; at most 253 characters (rpz: 200, so the zone's own name
//    fits in DNS's 255); labels of 1–63 characters that do not begin or end with '-'; two labels or
//    more; its last label is not all digits (an IPv4 address); no label begins with "rpz-" (RPZ
//    trigger names); its last label is not a local name (localhost, localdomain, local, internal,
//    lan, home, arpa); and it is not a public suffix (co.uk, github.io) by the Public Suffix List.
//    Non-ASCII names are not punycoded here: they are left out.
//  - A URL or pattern is used only if the whole value is printable ASCII without spaces; a URL's
//    scheme is http, https, ws or wss; there is no user info or backslash before the path; the host
//    passes the host check or is an IPv4 address (IPv6 is left out); a port is 1–65535. A URL's query
//    and fragment are dropped. In an adblock rule, a path (or a script_path) may hold only letters,
//    digits and - . _ ~ / % + , = & @ : ? — none of `$ ^ | * # ! ; ' "` or brackets.
//
// Report formats: sorted by (kind, value) bytewise, raw values carried with their kind; csv, json,
// jsonl and stix are valid UTF-8 whatever the values hold (bytes that are not UTF-8 become U+FFFD;
// JSON escapes control characters, csv replaces those other than TAB, CR and LF with U+FFFD).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace db {

enum class Format { hosts, domains, adblock, rpz, csv, json, jsonl, stix };

inline constexpr std::array kFormats{Format::hosts, Format::domains, Format::adblock, Format::rpz,
                                     Format::csv,   Format::json,    Format::jsonl,   Format::stix};

// The format's name as the command line and the feed URL spell it ("hosts", ..., "stix").
std::string_view to_string(Format format);
// The format named exactly (lower case) by `name`, or nullopt.
std::optional<Format> parse_format(std::string_view name);
// The HTTP Content-Type of the format: text/plain; charset=utf-8 for hosts, domains, adblock and rpz
// (text/dns exists for zones, but browsers download it rather than show it), text/csv with
// header=present, application/json, application/x-ndjson, application/stix+json;version=2.1.
std::string_view content_type(Format format);
// hosts, domains, adblock and rpz: the formats that block (infrastructure only, values checked).
bool is_line_format(Format format);

// One blacklist entry with everything the store knows about it.
struct ExportEntry {
  // page, domain, script_url, ws_endpoint, ip, wasm_sha256, allow, script_path (imported); any other
  // kind goes into the report formats only.
  std::string kind;
  std::string value;               // verbatim from the store: any bytes
  std::int64_t first_seen_ms = 0;  // Unix epoch milliseconds
  std::int64_t last_seen_ms = 0;
  std::int64_t hits = 0;
  int confidence = 0;                // 0–100 (clamped in stix)
  std::string evidence_json;         // the store's evidence JSON; empty, or not JSON, is carried as is
  std::vector<std::string> sources;  // "crawl" or a feed URL; written sorted and without duplicates
};

struct ExportOptions {
  // "Now" for the headers (hosts, adblock, rpz, json) and the RPZ serial; the only clock used.
  std::int64_t now_ms = 0;
  // Title of the list (hosts, adblock, rpz, json). Written as printable ASCII: any other byte becomes '?'.
  std::string title = "cjcrawl cryptojacking blacklist";
  // Adblock "! Expires:", in days: how often subscribers should update. Clamped to 1–365.
  int expires_days = 1;
  // Put the hosts of `page` entries (compromised sites, victims) in the line formats too. Off by default:
  // blocking a victim's domain blocks the victim. The caller sets it for an explicit `--kind page`.
  bool include_pages = false;
};

// An entry a format could not carry, for the caller to report.
struct SkippedEntry {
  std::string kind;
  std::string value;   // printable: other bytes as \xNN, cut at kMaxSkippedValueChars
  std::string reason;  // e.g. "host is a public suffix: it would block every site under it"
};

inline constexpr std::size_t kMaxSkippedSamples = 20;
inline constexpr std::size_t kMaxSkippedValueChars = 120;

struct Rendered {
  std::string text;                           // the whole file, '\n' line ends (csv: "\r\n", RFC 4180)
  std::size_t written = 0;                    // line formats: distinct rules or names; report formats: entries
  std::size_t skipped = 0;                    // entries of a carried kind whose value failed the checks above
  std::size_t allowed = 0;                    // entries of a carried kind left out because an allow entry covers them
  std::vector<SkippedEntry> skipped_samples;  // the first kMaxSkippedSamples, in (kind, value) order
};

// Renders `entries` (already filtered by the caller) in `format`. Never throws on hostile values.
//
// hosts:   "# Title/Last modified/Entries" comments, then "0.0.0.0 host" per distinct host, sorted.
// domains: one host per line, sorted, nothing else (for scripts and resolvers that take bare names).
// adblock: "[Adblock Plus 2.0]", "! Title:", "! Last modified: 10 Jun 2024 09:12 UTC", "! Expires:",
//          then sorted blocking rules, then sorted exceptions:
//            domain      ||host^$third-party
//            ws_endpoint ||host^$websocket         (host may be an IPv4 address; any port and path)
//                        ||host/prefix$websocket   (an imported pattern with a path keeps it)
//            script_url  ||host[:port]/path^       (the script's path; query and fragment dropped)
//                        ||host/prefix             (an imported pattern: a prefix, no end anchor)
//            script_path /cryptonight.wasm         (verbatim: 4 characters or more, not starting with '@';
//                                                   "/x/" is written "/x/*", or it would read as a /regex/)
//            page        ||host^                   (only with include_pages)
//            allow       @@||host^, @@||1.2.3.4^, @@||host[:port]/path^ or @@||host/prefix
// rpz:     a zone with relative names, loadable under any zone name (BIND response-policy, Unbound
//          rpz:): comments, $TTL 300, "@ IN SOA localhost. hostmaster.localhost. SERIAL 3600 600
//          604800 300", "@ IN NS localhost.", then per host "host CNAME ." and "*.host CNAME ."
//          (NXDOMAIN for the name and all below it). SERIAL is now_ms in Unix seconds, modulo 2^32:
//          it grows with every export a second or more apart and stays within RFC 1982 arithmetic.
// csv:     RFC 4180: header "kind,value,first_seen,last_seen,hits,confidence,sources,evidence",
//          CRLF line ends, text fields always double-quoted with '"' doubled; times RFC 3339 UTC with
//          milliseconds; sources space-separated. A text field starting with = + - @ TAB or CR gets a
//          leading "'" so spreadsheets do not run it as a formula.
// json:    one document {"title", "generated", "count", "entries": [...]}, one entry per line, each
//          {"kind", "value", "first_seen", "last_seen", "first_seen_ms", "last_seen_ms", "hits",
//          "confidence", "sources": [...], "evidence": <evidence_json itself when it is JSON (put on
//          one line if it had line breaks); its text as a string when it is not JSON, not UTF-8, or
//          nests deeper than 32; null when empty>}.
// jsonl:   the same entry objects, one per line, no envelope.
// stix:    a STIX 2.1 bundle of indicators, one per entry, with pattern ([domain-name:value = '…'],
//          [url:value = '…'] for a URL, [url:value LIKE '%…%'] for an imported pattern or
//          script_path, [ipv4-addr:…]/[ipv6-addr:…], [file:hashes.'SHA-256' = '…'], allow and unknown
//          kinds by the value's shape; ' and \ escaped; a '%' or '_' in a LIKE value stays a wildcard),
//          pattern_type "stix", valid_from and created = first seen, modified = last seen (never
//          before created), confidence, indicator_types (page: compromised, allow: benign, else
//          malicious-activity) and x_cjcrawl_* properties. Ids are stix_indicator_id(kind, value);
//          the bundle id is UUIDv5 of the objects' text, so it changes exactly when they do.
Rendered render_export(Format format, std::span<const ExportEntry> entries, const ExportOptions& options);

// Unix milliseconds as RFC 3339 UTC: "2024-06-10T09:12:00Z" / "2024-06-10T09:12:00.000Z" (clamped
// to 1970–9999).
std::string format_rfc3339_seconds(std::int64_t ms);
std::string format_rfc3339_ms(std::int64_t ms);

// ---- UUIDs (RFC 4122), for STIX ids.
using Uuid = std::array<std::uint8_t, 16>;

// The namespace of cjcrawl's STIX ids: 54771cd9-5c59-4513-bbed-13cf07dc6aad. Never change it: ids
// must stay stable across releases so consumers can update indicators in place.
inline constexpr Uuid kStixNamespace{0x54, 0x77, 0x1c, 0xd9, 0x5c, 0x59, 0x45, 0x13,
                                     0xbb, 0xed, 0x13, 0xcf, 0x07, 0xdc, 0x6a, 0xad};

// Name-based UUID, version 5 (SHA-1 of namespace then name; OpenSSL EVP). Throws std::runtime_error
// only when OpenSSL cannot compute SHA-1 at all (a broken install), as render_export(stix) then does.
Uuid uuid_v5(const Uuid& namespace_id, std::string_view name);
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case.
std::string to_string(const Uuid& uuid);
// Parses the 36-character form (either case), or nullopt.
std::optional<Uuid> parse_uuid(std::string_view text);
// "indicator--" + uuid_v5(kStixNamespace, kind + ":" + value).
std::string stix_indicator_id(std::string_view kind, std::string_view value);

}  // namespace db
