// blacklist/rules.hpp — the detection rules users edit (seeds/rules/), compiled once into matchers.
//
// Five fields, each from one commented text file (formats in seeds/rules/README.md): weighted keyword
// patterns for script bodies, patterns for script URLs and for WebSocket URLs (one RE2::Set each),
// blacklisted and allowed hosts (matched on the host and its parents down to the registrable domain,
// which libpsl decides), and IP addresses and CIDR ranges (v4 and v6, a weak signal only).
//
// Contract:
//  - Loading never throws for bad content and never stops at the first problem: each bad entry
//    (bad regex, bad weight, bad host or CIDR, unknown directive, ...) becomes a RuleProblem with
//    file, line and reason, and is skipped. Only std::bad_alloc escapes.
//  - `Rules` is immutable after loading and cheap to copy: copies share the compiled matchers, and
//    every const member may be called from several threads at once.
//  - An RE2 failure is never read as "no match". If an RE2::Set cannot be built within its memory
//    budget (RuleLimits::set_max_mem), or its DFA runs out of memory while matching, the field is
//    matched one pattern at a time instead — same results, slower — and the result says so
//    (`fallback_used`, `fallback_reason`) so it can go into the evidence. Exhausting the budget
//    therefore costs time, never detection. A pattern that does not compile on its own is a problem
//    at load and is not part of the rules.
//  - Public Suffix List: loaded once per process, on first use, from Debian's publicsuffix package
//    (/usr/share/publicsuffix/public_suffix_list.dat, with psl_load_file). The text form is read,
//    rather than the .dafsa psl_latest() would pick, because the same file also yields the index
//    of listed names that have suffix rules beneath them (amazonaws.com), so match_host calls
//    libpsl (~0.8 µs) only for hits on those. Without that file: psl_latest(NULL), else
//    psl_builtin(), and every subdomain hit is checked with libpsl (same results, slower).
//    `public_suffix_source()` names the list in use.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blacklist {

// --- Bounds ---------------------------------------------------------------------------------------

// Memory budget of each RE2::Set (program plus DFA state cache, which grows only as needed). The
// keyword Set of the default rules scans at full speed from about 256 KiB; below that its DFA cache
// thrashes (100 KiB: 6× slower) before it fails outright (about 30 KiB). The head room is for
// user-added patterns and hostile scripts.
inline constexpr std::int64_t kSetMaxMemBytes = 32 << 20;
// Memory budget of each individual pattern (RE2's own default).
inline constexpr std::int64_t kPatternMaxMemBytes = 8 << 20;
// Occurrences counted per keyword pattern and script; counting stops there.
inline constexpr std::uint64_t kMaxCountPerPattern = 10'000;
// A rule file larger than this is not read (reported as a problem).
inline constexpr std::uintmax_t kMaxRuleFileBytes = 64 << 20;
// Longer lines are reported and skipped.
inline constexpr std::size_t kMaxRuleLineBytes = 4'096;
// Entries per pattern file (each pattern is also compiled on its own) and per list file.
inline constexpr std::size_t kMaxPatternsPerFile = 4'096;
inline constexpr std::size_t kMaxListEntriesPerFile = 1'000'000;
// Keyword weights lie in (0, kMaxKeywordWeight].
inline constexpr double kMaxKeywordWeight = 10;

// --- Keyword score ----------------------------------------------------------------------------------
//
//   score = density × Σ weight_p × (1 + log2 count_p)  +  kDistinctSpecificBonus × max(0, specific − 1)
//
// over the patterns p that occur in the script (count_p ≤ kMaxCountPerPattern), where
//   specific = how many of them have weight ≥ kSpecificWeight (miner API, not mere names), and
//   density  = clamp(densest / expected, kSparseDensityFloor, 1), where densest is the largest number
//              of occurrences (all patterns together) starting within any kDensityWindowBytes window,
//              and expected = kDenseWindowHits × min(1, script bytes / kDensityWindowBytes).
// Repetition counts logarithmically; several distinct miner API names count extra; hits scattered
// thinly relative to the script (a stray name in a big bundle) count at most half. Density is taken
// on the densest window, not over the whole script, so padding a loader with megabytes of other code
// does not dilute it, and the floor caps what any spreading-out can take away.
//
// The signal counts as "miner keywords" at kKeywordMinerScore. Reaching it takes miner API, not names:
// one weight-9 identifier used twice (9 × 2 = 18), or two distinct weight-7 ones (7 + 7 + 3 = 17).
// With the shipped keywords, a three-call CoinImp loader scores 25, a webminerpool client 39 and a
// Coinhive-style library 223, while an article about Coinhive, CryptoNight and Monero that names
// them nine times scores 7.6 (tests/unit/test_rules.cpp).
inline constexpr double kKeywordMinerScore = 16;
inline constexpr double kSpecificWeight = 4;
inline constexpr double kDistinctSpecificBonus = 3;
inline constexpr std::size_t kDensityWindowBytes = 4'096;
inline constexpr double kDenseWindowHits = 4;
inline constexpr double kSparseDensityFloor = 0.5;

// --- Results ----------------------------------------------------------------------------------------

struct RuleProblem {
  std::string file;  // as given: a path under the rules directory, or "keywords.txt" for from_text
  int line = 0;      // 1-based; 0 for the file as a whole (missing, too large, Set out of memory)
  std::string reason;
};

// "file:line: reason" (or "file: reason" for line 0).
std::string to_string(const RuleProblem& problem);

struct KeywordHit {
  std::string pattern;  // as written in keywords.txt
  double weight = 0;
  std::uint64_t count = 0;         // non-overlapping occurrences, at most kMaxCountPerPattern
  std::uint64_t first_offset = 0;  // byte offset of the first occurrence in the script
};

struct KeywordScan {
  double score = 0;              // see "Keyword score" above
  std::vector<KeywordHit> hits;  // in keywords.txt order
  bool fallback_used = false;    // matched per pattern because the RE2::Set failed (still complete)
  std::string fallback_reason;   // why, for the evidence; empty unless fallback_used

  bool miner_signal() const { return score >= kKeywordMinerScore; }
};

struct PatternMatches {
  std::vector<std::string> patterns;  // the patterns that match, in file order
  bool fallback_used = false;         // as in KeywordScan
  std::string fallback_reason;
};

enum class Listing { none, blacklisted, allowed };

struct ListMatch {
  Listing listing = Listing::none;
  std::string rule;   // the entry that decided: "coinhive.com", "@@cdn.example", "192.0.2.0/24"
  std::string where;  // its file name and line: "domains.txt:42" (match_host) or "ips.txt:7" (match_ip)
};

std::string to_string(Listing listing);

struct RuleCounts {
  std::size_t keywords = 0;
  std::size_t script_urls = 0;
  std::size_t ws_endpoints = 0;
  std::size_t blacklisted_hosts = 0;
  std::size_t allowed_hosts = 0;
  std::size_t blacklisted_ip_ranges = 0;
  std::size_t allowed_ip_ranges = 0;
};

// --- Inputs ----------------------------------------------------------------------------------------

struct RuleLimits {
  std::int64_t set_max_mem = kSetMaxMemBytes;  // per RE2::Set; tests shrink it to force the fallback
};

// The five files' contents, for building rules without a directory (tests, benchmarks).
struct RuleTexts {
  std::string keywords;      // reported as "keywords.txt"
  std::string script_urls;   // "script_urls.txt"
  std::string ws_endpoints;  // "ws_endpoints.txt"
  std::string domains;       // "domains.txt"
  std::string ips;           // "ips.txt"
};

// Which way pattern fields are matched. `set_first` is the engine's way (the RE2::Set picks the
// patterns, which are then counted one by one); `per_pattern` runs every pattern on its own, the
// simple reference the Set path must agree with (used by differential tests).
enum class MatchPath { set_first, per_pattern };

struct LoadedRules;

class Rules {
 public:
  // Empty rules: nothing matches.
  Rules();

  // Reads keywords.txt, script_urls.txt, ws_endpoints.txt, domains.txt and ips.txt from `dir`.
  // A missing or unreadable file is a problem (line 0) and leaves that field empty.
  static LoadedRules load(const std::filesystem::path& dir, const RuleLimits& limits = {});
  static LoadedRules from_text(const RuleTexts& texts, const RuleLimits& limits = {});

  // Keyword patterns found in a script body, counted, with the score. Linear in the source size
  // for the Set pass plus one pass per pattern that occurs.
  KeywordScan scan_script(std::string_view source, MatchPath path = MatchPath::set_first) const;

  // Patterns of script_urls.txt / ws_endpoints.txt that match the full URL.
  PatternMatches match_script_url(std::string_view url, MatchPath path = MatchPath::set_first) const;
  PatternMatches match_ws_url(std::string_view url, MatchPath path = MatchPath::set_first) const;

  // A host name (any case, optional trailing dot; no port, no brackets) against domains.txt. The
  // host and each parent are looked up, down to the registrable domain and no further: with
  // `coinhive.com` listed, `ws001.coinhive.com` is blacklisted, but with `amazonaws.com` listed,
  // `bucket.s3.amazonaws.com` is not (s3.amazonaws.com is a public suffix, so that bucket is its own
  // registrable domain). Any allow entry that covers the host wins; otherwise the most specific
  // blacklist entry is reported. IP literals and hosts over 253 bytes never match.
  ListMatch match_host(std::string_view host) const;

  // An IPv4 or IPv6 address (optionally in brackets, optionally with a %zone) against ips.txt.
  // Allow ranges win; otherwise the most specific blacklisted range is reported. Not an address:
  // Listing::none.
  ListMatch match_ip(std::string_view address) const;

  RuleCounts counts() const;

 private:
  struct Compiled;
  explicit Rules(std::shared_ptr<const Compiled> compiled);
  // Compiles the five texts; `labels` holds, field by field, the file name problems should name.
  static LoadedRules compile(const RuleTexts& texts, const RuleTexts& labels, const RuleLimits& limits,
                             std::vector<RuleProblem> problems);
  std::shared_ptr<const Compiled> compiled_;
};

struct LoadedRules {
  Rules rules;
  std::vector<RuleProblem> problems;  // grouped by file, in the order found
};

// The host of a URL as Chrome reports it ("https://WS001.coinhive.com:443/proxy" → "ws001.coinhive.com";
// "blob:https://a.example/uuid" → "a.example"; "wss://[2001:db8::1]:8080/" → "2001:db8::1"): lower
// case, no port, user info or trailing dot. Empty when the URL has no host (data:, about:blank, a
// relative reference).
std::string host_of(std::string_view url);

// The registrable domain of a host per the Public Suffix List ("ws001.coinhive.com" → "coinhive.com"),
// or empty when the host has none (it is a public suffix, an IP literal, or empty).
std::string registrable_domain(std::string_view host);

// Which Public Suffix List this process uses: a file path, or "libpsl builtin".
std::string public_suffix_source();

// A host name's ASCII form: each non-ASCII label becomes its Punycode A-label ("bücher.example" →
// "xn--bcher-kva.example"); ASCII labels are returned unchanged, case included. No UTS #46 mapping or
// normalisation is applied. nullopt if the name is not valid UTF-8. Quadratic in a label's length.
std::optional<std::string> host_to_ascii(std::string_view host);

// An IPv4 or IPv6 address, as bytes (IPv4 in the first 4).
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  int bits() const { return v6 ? 128 : 32; }
};

// Parses a bare IPv4 or IPv6 literal (no brackets, no zone, no spaces). IPv4-mapped IPv6 comes back
// as IPv4, and then `mapped` (if given) is set. Used by the rules and by the blocklist importer.
std::optional<IpAddress> parse_ip_literal(std::string_view text, bool* mapped = nullptr);

}  // namespace blacklist
