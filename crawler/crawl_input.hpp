// crawler/crawl_input.hpp — the list of sites for `cjcrawl crawl [FILE|-]`: input text in, the
// distinct sites to visit out (each with the URLs to try), every line that could not be used reported
// with its number and why, plus the deterministic `--shard I/N` split and `--limit N` cut.
//
// Input formats (InputFormat), detected from the first kDetectionSampleLines content lines (lines that
// are neither blank nor comments):
//   lines       one http(s) URL or bare host name per line (`example.com`, `https://example.com/a`),
//               as crawler::parse_input accepts them.
//   ranked_csv  `rank,domain` rows as in Tranco, Cisco Umbrella and Alexa top-sites lists
//               (`1,google.com`); chosen when more than half of the sampled lines start with
//               `<digits>,`. The row splits at its first comma, so the second field may be a URL
//               with commas in it; each field may be wrapped in double quotes. A first content line
//               that is not a row and names columns (`rank,domain`: a comma, no '.', ':' or '/') is
//               the header and is skipped (CrawlInput::header_line).
// In both: a line whose first non-blank character is `#` is a comment, and `#` after whitespace
// starts a trailing comment (a URL never contains whitespace, so a URL fragment is never cut); blank
// lines are skipped; CR LF line ends and a leading UTF-8 byte order mark are accepted; surrounding
// whitespace is trimmed. A row in the other format than the one detected is an invalid line.
//
// Sites and their key. A target's candidates are crawler::parse_input's: a bare host yields
// https://host/ then http://host/ (the fallback when https cannot connect); a URL yields itself.
// Beyond what parse_input checks, a host must be an IP literal or a DNS name of letters, digits,
// '-', '.' and '_' (international names in Punycode), and a port must be 1 to 65535. The key
// identifies the site for duplicates, shards and `--resume`: the first candidate with scheme and host
// in lower case, no fragment, "/" for an empty path (all from parse_input), the port as a plain
// number and dropped when it is the scheme's default. So `example.com`, `Example.COM`,
// `https://example.com/` and `https://example.com:443/#x` are one site (key "https://example.com/"),
// while `http://example.com/` is another (key "http://example.com/"): a bare host means "https, or
// http if need be", an explicit http URL means http only. The path and query are part of the key.
//
// Contract:
//  - Pure and never throws for any text (NUL bytes, invalid UTF-8, megabyte lines); only
//    std::bad_alloc escapes. Deterministic: targets are in input order.
//  - Nothing is silently dropped: every line is counted exactly once, as skipped (blank or comment),
//    the header, invalid, a duplicate, over the target cap, or a target. A repeat of a site keeps the
//    first occurrence (its line number and text) and counts the rest in `duplicates`.
//  - Bounded: a line over kMaxInputUrlBytes is invalid without being parsed or copied; at most
//    kMaxCrawlTargets targets are kept (the rest counted in `over_limit`); at most
//    kMaxReportedProblems invalid lines are kept with their text (all counted in `invalid_lines`);
//    quoted text is at most kMaxQuotedInputChars characters. Time is linear in the text.
//  - Shards are 0-based (`--shard 0/4` … `3/4`). A site is in shard I of N when the first 8 bytes of
//    SHA-256(key), read as a big-endian unsigned 64-bit number, are I modulo N; this never changes
//    between machines or releases, and can be checked by hand:
//    `printf %s https://example.com/ | sha256sum | cut -c1-16`, then that hex number mod N.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crawler/url_input.hpp"
#include "util/status.hpp"

namespace crawler {

// --- Bounds ---------------------------------------------------------------------------------------

// Sites kept from one input (a Tranco list is 1,000,000). See BENCHMARKS.md for the memory a parsed
// site takes (a few hundred bytes); the cap bounds it at a few GB.
inline constexpr std::size_t kMaxCrawlTargets = 10'000'000;
// Invalid lines kept with their text; further ones are only counted (a binary file fed by mistake
// must not turn into gigabytes of reasons).
inline constexpr std::size_t kMaxReportedProblems = 10'000;
// Characters of an invalid line quoted in its report (non-printable bytes as \xNN), then "...".
inline constexpr std::size_t kMaxQuotedInputChars = 120;
// Format detection looks at most at this many content lines from the start.
inline constexpr std::size_t kDetectionSampleLines = 10;
// Largest input read_crawl_input accepts.
inline constexpr std::uint64_t kMaxCrawlInputBytes = std::uint64_t{1} << 30;
// Largest shard count parse_shard accepts.
inline constexpr std::size_t kMaxShardCount = 1'000'000;

// --- Parsing --------------------------------------------------------------------------------------

enum class InputFormat { lines, ranked_csv };

std::string_view to_string(InputFormat format);

struct CrawlTarget {
  std::size_t line = 0;    // 1-based line of the first occurrence
  std::uint64_t rank = 0;  // the row's rank in ranked CSV; 0 for plain lines
  std::string input;       // the URL or host as written (trimmed; the domain field of a row)
  std::string key;         // the normalised site: duplicates, shards, resume
  // The URLs to try in order (parse_input's), made when the site is visited rather than kept for
  // every site of a million-site list.
  std::vector<std::string> candidates() const { return parse_input(input).value(); }
};

struct InputProblem {
  std::size_t line = 0;  // 1-based
  std::string text;      // the line made printable by quote_input (so at most 123 characters)
  std::string reason;    // what is wrong and what was expected
};

struct CrawlInput {
  InputFormat format = InputFormat::lines;
  std::vector<CrawlTarget> targets;   // distinct sites, in input order
  std::vector<InputProblem> invalid;  // the first kMaxReportedProblems invalid lines
  std::size_t invalid_lines = 0;      // every invalid line, kept in `invalid` or not
  std::size_t duplicates = 0;         // lines naming a site already in `targets`
  std::size_t skipped_lines = 0;      // blank lines and comments
  std::size_t header_line = 0;        // the ranked CSV header's line number; 0 when there is none
  std::size_t over_limit = 0;         // valid, non-duplicate lines past kMaxCrawlTargets
  std::size_t lines = 0;              // lines in the text: the sum of all the counts above
};

CrawlInput parse_crawl_input(std::string_view text);

// The text quoted for a report: printable ASCII kept; control, non-ASCII and '\' bytes as \xNN;
// at most kMaxQuotedInputChars characters, then "...".
std::string quote_input(std::string_view text);

// --- Shards and limit -----------------------------------------------------------------------------

struct Shard {
  std::size_t index = 0;  // 0-based: 0 <= index < count
  std::size_t count = 1;  // 1 <= count <= kMaxShardCount
};

// Parses "I/N" (0-based, e.g. "0/4" … "3/4"; surrounding whitespace allowed). An invalid_argument
// error says what was expected (without naming the option).
util::Result<Shard> parse_shard(std::string_view text);

// The shard (0 to count-1) a key belongs to among `count` (see the header comment); a count of 0 or 1
// means one shard. The SHA-256 functions here throw std::runtime_error only when OpenSSL cannot
// compute SHA-256 at all (a broken installation).
std::size_t shard_of(std::string_view key, std::size_t count);

// The targets in `shard` (all when nullopt), then the first `limit` of those in input order (all
// when nullopt; 0 keeps none). Hashes each key once: about 0.5 s per 1,000,000 targets.
std::vector<CrawlTarget> select_targets(std::vector<CrawlTarget> targets, std::optional<Shard> shard,
                                        std::optional<std::size_t> limit);

// The invalid lines that go with a selection, to be written as `skipped` lines: in `shard`, those
// whose text (as kept in InputProblem::text) hashes to it, as sites do by their key; with `limit`,
// those before the last selected target's line (none when no target is selected).
std::vector<InputProblem> select_invalid(const std::vector<InputProblem>& invalid, std::optional<Shard> shard,
                                         std::optional<std::size_t> limit, const std::vector<CrawlTarget>& selected);

// --- Reading and identity ---------------------------------------------------------------------------

// SHA-256 of the input bytes exactly as read (BOM, CR LF and comments included), lower-case hex:
// `--resume` finds the crawl of the same input with it. Same as `sha256sum FILE`.
std::string input_digest(std::string_view text);

// Reads FILE, or standard input for "-", up to kMaxCrawlInputBytes; larger input is an error rather
// than a cut list. The error names the file (or "standard input") and what went wrong. The only
// function here that does I/O.
util::Result<std::string> read_crawl_input(const std::string& path);

}  // namespace crawler
