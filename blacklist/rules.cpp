// blacklist/rules.cpp — parsing the rule files and matching against them.
#include "blacklist/rules.hpp"

#include <arpa/inet.h>
#include <libpsl.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "util/text.hpp"

namespace blacklist {
namespace {

// Debian's publicsuffix package; see the header for why the text form is read.
constexpr const char* kPublicSuffixListPath = "/usr/share/publicsuffix/public_suffix_list.dat";
constexpr std::uintmax_t kMaxPublicSuffixListBytes = 16 << 20;
constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxLabelBytes = 63;
constexpr int kFormatVersion = 1;

// --- Small text helpers -------------------------------------------------------------------------------

using util::ascii_lower;
using util::is_space;
using util::trim;

bool is_ascii(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// For lists (hosts, addresses), which cannot contain '#': the entry before any trailing comment.
std::string_view strip_trailing_comment(std::string_view line) {
  const auto hash = line.find('#');
  return trim(hash == std::string_view::npos ? line : line.substr(0, hash));
}

// Calls on_entry(line_number, text) for every line that is neither blank, a comment nor a directive.
// Directives and over-long lines are handled (and reported) here. on_entry returns false to stop.
void for_each_entry(std::string_view text, const std::string& file, std::vector<RuleProblem>& problems,
                    const std::function<bool(int, std::string_view)>& on_entry) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  int line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line.size() > kMaxRuleLineBytes) {
      problems.push_back({file, line_number, fmt::format("line longer than {} bytes; skipped", kMaxRuleLineBytes)});
      continue;
    }
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '%') {
      const auto directive = trim(strip_trailing_comment(line));
      if (directive == fmt::format("%format {}", kFormatVersion)) continue;
      if (directive.starts_with("%format"))
        problems.push_back({file, line_number,
                            fmt::format("unsupported '{}': this cjcrawl reads %format {}", directive, kFormatVersion)});
      else
        problems.push_back(
            {file, line_number, fmt::format("unknown directive '{}' (known: %format {})", directive, kFormatVersion)});
      continue;
    }
    if (!on_entry(line_number, line)) return;
  }
}

// --- Pattern fields (keywords, script URLs, WebSocket URLs) --------------------------------------------

struct Pattern {
  std::string text;
  double weight = 0;  // keywords only
  int line = 0;
  std::unique_ptr<RE2> re;
};

struct PatternField {
  std::vector<Pattern> patterns;
  std::unique_ptr<RE2::Set> set;                  // null when there are no patterns or it did not build
  std::vector<std::size_t> pattern_of_set_index;  // Set index → index into patterns
  std::string set_unavailable;                    // why `set` is null although there are patterns
};

RE2::Options pattern_options(std::int64_t max_mem) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);  // only the whole match is used
  options.set_max_mem(max_mem);
  return options;
}

// A pattern that matches the empty string would match every text; probing a few short texts catches
// the usual ways (x*, (a|), ^, \b, lookalikes) without analysing the regexp.
bool matches_empty(const RE2& re) {
  for (std::string_view probe : {"", "x", " ", "\n", "x y", "(;"}) {
    re2::StringPiece match;
    const re2::StringPiece text(probe.data(), probe.size());
    std::size_t position = 0;
    while (position <= text.size()) {
      if (!re.Match(text, position, text.size(), RE2::UNANCHORED, &match, 1)) break;
      if (match.empty()) return true;
      position = static_cast<std::size_t>(match.data() - text.data()) + match.size();
    }
  }
  return false;
}

// Compiles one pattern; on failure reports why and returns nullptr.
std::unique_ptr<RE2> compile_pattern(std::string_view text, const std::string& file, int line,
                                     std::vector<RuleProblem>& problems) {
  auto re = std::make_unique<RE2>(re2::StringPiece(text.data(), text.size()), pattern_options(kPatternMaxMemBytes));
  if (!re->ok()) {
    problems.push_back({file, line, fmt::format("bad regex '{}': {}", text, re->error())});
    return nullptr;
  }
  if (matches_empty(*re)) {
    problems.push_back({file, line,
                        fmt::format("pattern '{}' can match the empty string, so it would match "
                                    "everything; skipped",
                                    text)});
    return nullptr;
  }
  return re;
}

// Builds the RE2::Set over the field's patterns. A pattern the Set refuses (it should not, having
// compiled alone) is reported and dropped, so Set and per-pattern paths always cover the same rules.
void build_set(PatternField& field, const std::string& file, const RuleLimits& limits,
               std::vector<RuleProblem>& problems) {
  if (field.patterns.empty()) return;
  auto set = std::make_unique<RE2::Set>(pattern_options(limits.set_max_mem), RE2::UNANCHORED);
  std::vector<Pattern> kept;
  for (auto& pattern : field.patterns) {
    std::string error;
    if (set->Add(pattern.text, &error) < 0) {
      problems.push_back({file, pattern.line, fmt::format("RE2::Set refused '{}': {}", pattern.text, error)});
      continue;
    }
    field.pattern_of_set_index.push_back(kept.size());
    kept.push_back(std::move(pattern));
  }
  field.patterns = std::move(kept);
  if (set->Compile()) {
    field.set = std::move(set);
    return;
  }
  // RE2 also runs a trial DFA search when compiling a Set, so a budget too small for the DFA shows
  // up here rather than at the first match.
  field.pattern_of_set_index.clear();
  field.set_unavailable = fmt::format("RE2::Set of {} patterns did not fit its memory budget of {} bytes",
                                      field.patterns.size(), limits.set_max_mem);
  problems.push_back({file, 0,
                      field.set_unavailable + "; these patterns are matched one at a time instead "
                                              "(same results, slower): raise the budget or simplify "
                                              "the patterns"});
}

// Parses keywords.txt (`weight pattern`) or a plain pattern file.
PatternField parse_patterns(std::string_view text, const std::string& file, bool weighted, const RuleLimits& limits,
                            std::vector<RuleProblem>& problems) {
  PatternField field;
  std::unordered_map<std::string, int> first_line;
  for_each_entry(text, file, problems, [&](int line, std::string_view entry) {
    if (field.patterns.size() >= kMaxPatternsPerFile) {
      problems.push_back(
          {file, line, fmt::format("more than {} patterns; the rest of the file is not read", kMaxPatternsPerFile)});
      return false;
    }
    double weight = 0;
    std::string_view pattern = entry;
    if (weighted) {
      const auto split = std::find_if(entry.begin(), entry.end(), is_space);
      const std::string_view weight_text(entry.data(), static_cast<std::size_t>(split - entry.begin()));
      const auto [end, error] = std::from_chars(weight_text.data(), weight_text.data() + weight_text.size(), weight);
      if (error != std::errc{} || end != weight_text.data() + weight_text.size() || !std::isfinite(weight) ||
          weight <= 0 || weight > kMaxKeywordWeight) {
        problems.push_back({file, line,
                            fmt::format("bad weight '{}': expected `WEIGHT PATTERN` with WEIGHT a "
                                        "number in (0, {}]",
                                        weight_text, kMaxKeywordWeight)});
        return true;
      }
      pattern = trim(entry.substr(weight_text.size()));
      if (pattern.empty()) {
        problems.push_back({file, line, "weight without a pattern: expected `WEIGHT PATTERN`"});
        return true;
      }
    }
    const auto [seen, inserted] = first_line.emplace(std::string(pattern), line);
    if (!inserted) {
      problems.push_back({file, line, fmt::format("duplicate of line {}; skipped", seen->second)});
      return true;
    }
    auto re = compile_pattern(pattern, file, line, problems);
    if (re) field.patterns.push_back({std::string(pattern), weight, line, std::move(re)});
    return true;
  });
  build_set(field, file, limits, problems);
  return field;
}

std::string describe(RE2::Set::ErrorKind kind, const PatternField& field) {
  switch (kind) {
    case RE2::Set::kOutOfMemory:
      return fmt::format("RE2::Set DFA out of memory while matching ({} patterns)", field.patterns.size());
    case RE2::Set::kNotCompiled: return "RE2::Set not compiled";
    case RE2::Set::kInconsistent: return "RE2::Set returned an inconsistent result";
    case RE2::Set::kNoError: break;
  }
  return "RE2::Set failed";
}

// The patterns worth examining: those the Set reports (sorted into file order), or all of them on the
// per-pattern path or when the Set is unavailable or fails. `from_set` says the Set vouched for them.
std::vector<std::size_t> candidates(const PatternField& field, std::string_view text, MatchPath path, bool& from_set,
                                    bool& fallback_used, std::string& fallback_reason) {
  std::vector<std::size_t> all(field.patterns.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  from_set = false;
  if (path == MatchPath::per_pattern || field.patterns.empty()) return all;
  if (!field.set) {
    fallback_used = true;
    fallback_reason = field.set_unavailable;
    return all;
  }
  std::vector<int> matched;
  RE2::Set::ErrorInfo info{RE2::Set::kNoError};
  field.set->Match(re2::StringPiece(text.data(), text.size()), &matched, &info);
  if (info.kind != RE2::Set::kNoError) {  // never read a failed match as "no match"
    fallback_used = true;
    fallback_reason = describe(info.kind, field);
    return all;
  }
  std::vector<std::size_t> out;
  out.reserve(matched.size());
  for (int index : matched) out.push_back(field.pattern_of_set_index.at(static_cast<std::size_t>(index)));
  std::sort(out.begin(), out.end());
  from_set = true;
  return out;
}

PatternMatches match_url(const PatternField& field, std::string_view url, MatchPath path) {
  PatternMatches result;
  bool from_set = false;
  for (std::size_t index : candidates(field, url, path, from_set, result.fallback_used, result.fallback_reason)) {
    const auto& pattern = field.patterns[index];
    if (from_set || RE2::PartialMatch(re2::StringPiece(url.data(), url.size()), *pattern.re))
      result.patterns.push_back(pattern.text);
  }
  return result;
}

// Non-overlapping occurrences, leftmost first, at most kMaxCountPerPattern; their start offsets are
// appended to `starts`. Matching resumes where the last match ended, with the whole text as context
// so ^ and \b see what precedes the resume point.
std::uint64_t count_occurrences(const RE2& re, std::string_view text, std::vector<std::size_t>& starts) {
  const re2::StringPiece whole(text.data(), text.size());
  re2::StringPiece match;
  std::uint64_t count = 0;
  std::size_t position = 0;
  while (position <= whole.size() && count < kMaxCountPerPattern) {
    if (!re.Match(whole, position, whole.size(), RE2::UNANCHORED, &match, 1)) break;
    const auto start = static_cast<std::size_t>(match.data() - whole.data());
    starts.push_back(start);
    ++count;
    // Empty matches are refused at load; advancing by one keeps this loop finite regardless.
    position = start + std::max<std::size_t>(match.size(), 1);
  }
  return count;
}

double keyword_score(const std::vector<KeywordHit>& hits, std::vector<std::size_t>& starts, std::size_t length) {
  if (hits.empty()) return 0;
  double base = 0;
  int specific = 0;
  for (const auto& hit : hits) {
    base += hit.weight * (1 + std::log2(static_cast<double>(hit.count)));
    if (hit.weight >= kSpecificWeight) ++specific;
  }
  // Densest window: the most occurrences starting within kDensityWindowBytes of each other.
  std::sort(starts.begin(), starts.end());
  std::size_t densest = 0;
  for (std::size_t first = 0, last = 0; last < starts.size(); ++last) {
    while (starts[last] - starts[first] >= kDensityWindowBytes) ++first;
    densest = std::max(densest, last - first + 1);
  }
  // A script shorter than the window is expected to hold proportionally fewer hits to be dense.
  const double expected =
      kDenseWindowHits * std::min(1.0, static_cast<double>(length) / static_cast<double>(kDensityWindowBytes));
  const double density = std::clamp(static_cast<double>(densest) / std::max(expected, 1e-9), kSparseDensityFloor, 1.0);
  return base * density + kDistinctSpecificBonus * std::max(0, specific - 1);
}

// --- Punycode (RFC 3492), for the Public Suffix List's Unicode rules ---------------------------------

// Decodes UTF-8; nullopt if malformed.
std::optional<std::u32string> decode_utf8(std::string_view text) {
  std::u32string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int extra = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xE ? 2 : (lead >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || text.size() - i <= static_cast<std::size_t>(extra)) return std::nullopt;
    char32_t code = extra == 0 ? lead : lead & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      code = code << 6 | (next & 0x3F);
    }
    out.push_back(code);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

// One label to its ASCII form: unchanged if ASCII, else "xn--" + punycode. nullopt if malformed.
std::optional<std::string> to_ascii_label(std::string_view label) {
  if (is_ascii(label)) return std::string(label);
  const auto input = decode_utf8(label);
  if (!input) return std::nullopt;
  constexpr std::uint64_t kBase = 36, kTmin = 1, kTmax = 26, kSkew = 38, kDamp = 700;
  auto digit = [](std::uint64_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); };
  auto adapt = [&](std::uint64_t delta, std::uint64_t points, bool first) {
    delta = first ? delta / kDamp : delta / 2;
    delta += delta / points;
    std::uint64_t k = 0;
    while (delta > ((kBase - kTmin) * kTmax) / 2) {
      delta /= kBase - kTmin;
      k += kBase;
    }
    return k + (kBase - kTmin + 1) * delta / (delta + kSkew);
  };
  std::string out;
  for (char32_t c : *input)
    if (c < 0x80) out.push_back(static_cast<char>(c));
  const std::uint64_t basic = out.size();
  std::uint64_t handled = basic;
  if (basic > 0) out.push_back('-');
  std::uint64_t n = 0x80, delta = 0, bias = 72;
  while (handled < input->size()) {
    std::uint64_t next = std::numeric_limits<std::uint64_t>::max();
    for (char32_t c : *input)
      if (c >= n) next = std::min<std::uint64_t>(next, c);
    delta += (next - n) * (handled + 1);
    n = next;
    for (char32_t c : *input) {
      if (c < n) ++delta;
      if (c != n) continue;
      std::uint64_t q = delta;
      for (std::uint64_t k = kBase;; k += kBase) {
        const std::uint64_t t = k <= bias ? kTmin : k >= bias + kTmax ? kTmax : k - bias;
        if (q < t) break;
        out.push_back(digit(t + (q - t) % (kBase - t)));
        q = (q - t) / (kBase - t);
      }
      out.push_back(digit(q));
      bias = adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return "xn--" + out;
}

std::optional<std::string> to_ascii_host(std::string_view host) {
  std::string out;
  while (true) {
    const auto dot = host.find('.');
    const auto label = to_ascii_label(host.substr(0, dot));
    if (!label) return std::nullopt;
    out += *label;
    if (dot == std::string_view::npos) return out;
    out += '.';
    host.remove_prefix(dot + 1);
  }
}

// --- Public Suffix List ----------------------------------------------------------------------------

struct PublicSuffixes {
  psl_ctx_t* owned = nullptr;
  const psl_ctx_t* context = nullptr;
  std::string source;
  // Whether `parents_of_rules` was built (from the same file libpsl loaded). Without it every
  // subdomain hit is checked with libpsl.
  bool rules_known = false;
  // Every name that has a suffix rule strictly beneath it ("amazonaws.com" for "s3.amazonaws.com",
  // "kawasaki.jp" for "*.kawasaki.jp").
  std::unordered_set<std::string> parents_of_rules;

  PublicSuffixes() {
    std::error_code error;
    const auto size = std::filesystem::file_size(kPublicSuffixListPath, error);
    if (!error && size <= kMaxPublicSuffixListBytes) owned = psl_load_file(kPublicSuffixListPath);
    if (owned) {
      context = owned;
      source = kPublicSuffixListPath;
      rules_known = index_rules();
      return;
    }
    owned = psl_latest(nullptr);  // the newer of libpsl's builtin list and the distribution's file
    context = owned ? owned : psl_builtin();
    source = context ? (owned ? "libpsl psl_latest" : "libpsl builtin") : "none (libpsl has no list)";
  }
  ~PublicSuffixes() { psl_free(owned); }
  PublicSuffixes(const PublicSuffixes&) = delete;
  PublicSuffixes& operator=(const PublicSuffixes&) = delete;

  bool index_rules() {
    std::ifstream in(kPublicSuffixListPath, std::ios::binary);
    if (!in) return false;
    std::string line;
    while (std::getline(in, line)) {
      std::string_view rule = trim(line);
      if (rule.empty() || rule.starts_with("//")) continue;
      rule = rule.substr(0, static_cast<std::size_t>(std::find_if(rule.begin(), rule.end(), is_space) - rule.begin()));
      if (rule.starts_with('!')) rule.remove_prefix(1);
      bool wildcard = false;
      if (rule.starts_with("*.")) {
        rule.remove_prefix(2);
        wildcard = true;
      }
      // Internationalised rules are written in Unicode; entries, like Chrome's hosts, in punycode.
      const auto ascii = to_ascii_host(util::to_lower(rule));
      if (!ascii) return false;  // not valid UTF-8: do not trust the index, check every hit with libpsl
      const std::string& name = *ascii;
      if (wildcard) parents_of_rules.insert(name);
      for (auto dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
        parents_of_rules.insert(name.substr(dot + 1));
    }
    return !parents_of_rules.empty();
  }

  // True when a host below `name` could have a registrable domain longer than `name`.
  bool may_have_rules_beneath(const std::string& name) const { return !rules_known || parents_of_rules.contains(name); }
};

const PublicSuffixes& public_suffixes() {
  static const PublicSuffixes instance;
  return instance;
}

// --- Addresses ---------------------------------------------------------------------------------------

using Address = IpAddress;

// Parses an IPv4 or IPv6 literal; IPv4-mapped IPv6 becomes IPv4. Brackets and a %zone are accepted.
std::optional<Address> parse_address(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (const auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  return parse_ip_literal(text);
}

Address masked(Address address, int prefix) {
  for (int bit = prefix; bit < address.bits(); ++bit)
    address.bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return address;
}

std::string format_address(const Address& address) {
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), buffer, sizeof buffer);
  return buffer;
}

// IPv6 literals contain ':'; IPv4 literals end in a numeric label, which no host name's top-level
// label is. Cheap enough for every host lookup.
bool looks_like_ip(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;
  const auto dot = host.rfind('.');
  const auto last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  return !last.empty() && std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One table per prefix length in use, looked up from the longest prefix down: exact, and as fast as
// the handful of lengths a list actually uses.
class RangeTable {
 public:
  struct Entry {
    std::string rule;
    int line = 0;
  };

  void insert(const Address& network, int prefix, Entry entry) {
    auto& by_length = network.v6 ? v6_ : v4_;
    auto it =
        std::find_if(by_length.begin(), by_length.end(), [&](const auto& level) { return level.prefix == prefix; });
    if (it == by_length.end()) {
      by_length.push_back({prefix, {}});
      std::sort(by_length.begin(), by_length.end(), [](const auto& a, const auto& b) { return a.prefix > b.prefix; });
      it = std::find_if(by_length.begin(), by_length.end(), [&](const auto& level) { return level.prefix == prefix; });
    }
    it->networks.emplace(key(network), std::move(entry));
    ++size_;
  }

  const Entry* find(const Address& address) const {
    for (const auto& level : address.v6 ? v6_ : v4_) {
      const auto it = level.networks.find(key(masked(address, level.prefix)));
      if (it != level.networks.end()) return &it->second;
    }
    return nullptr;
  }

  bool contains(const Address& network, int prefix) const {
    for (const auto& level : network.v6 ? v6_ : v4_)
      if (level.prefix == prefix) return level.networks.contains(key(network));
    return false;
  }

  std::size_t size() const { return size_; }

 private:
  // The (masked) address as two 64-bit halves; IPv4 uses the first 4 bytes, the rest zero.
  using Key = std::pair<std::uint64_t, std::uint64_t>;
  struct KeyHash {
    std::size_t operator()(const Key& key) const {
      return std::hash<std::uint64_t>{}(key.first * 0x9e3779b97f4a7c15ull ^ key.second);
    }
  };
  static Key key(const Address& address) {
    Key key{0, 0};
    for (std::size_t i = 0; i < 8; ++i) key.first = key.first << 8 | address.bytes[i];
    for (std::size_t i = 8; i < 16; ++i) key.second = key.second << 8 | address.bytes[i];
    return key;
  }
  struct Level {
    int prefix = 0;
    std::unordered_map<Key, Entry, KeyHash> networks;
  };
  std::vector<Level> v4_;
  std::vector<Level> v6_;
  std::size_t size_ = 0;
};

struct IpRules {
  RangeTable blacklisted;
  RangeTable allowed;
};

IpRules parse_ips(std::string_view text, const std::string& file, std::vector<RuleProblem>& problems) {
  IpRules rules;
  std::size_t entries = 0;
  for_each_entry(text, file, problems, [&](int line, std::string_view entry) {
    if (++entries > kMaxListEntriesPerFile) {
      problems.push_back(
          {file, line, fmt::format("more than {} entries; the rest of the file is not read", kMaxListEntriesPerFile)});
      return false;
    }
    entry = strip_trailing_comment(entry);
    const bool allow = entry.starts_with("@@");
    if (allow) entry.remove_prefix(2);
    const auto slash = entry.find('/');
    const auto address = parse_address(entry.substr(0, slash));
    if (!address) {
      problems.push_back({file, line,
                          fmt::format("'{}': expected an IPv4 or IPv6 address or CIDR range "
                                      "(192.0.2.7, 192.0.2.0/24, 2001:db8::/32)",
                                      entry)});
      return true;
    }
    if (address->v6 != (entry.substr(0, slash).find(':') != std::string_view::npos)) {
      problems.push_back(
          {file, line,
           fmt::format("'{}' is an IPv4-mapped IPv6 address; write it as IPv4 ({})", entry, format_address(*address))});
      return true;
    }
    int prefix = address->bits();
    if (slash != std::string_view::npos) {
      const auto length = entry.substr(slash + 1);
      const auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), prefix);
      if (error != std::errc{} || end != length.data() + length.size() || prefix < 1 || prefix > address->bits()) {
        problems.push_back(
            {file, line, fmt::format("'{}': bad prefix length; expected /1 to /{}", entry, address->bits())});
        return true;
      }
    }
    const Address network = masked(*address, prefix);
    if (network.bytes != address->bytes) {
      problems.push_back(
          {file, line,
           fmt::format("'{}' has host bits set; did you mean {}/{}?", entry, format_address(network), prefix)});
      return true;
    }
    auto& table = allow ? rules.allowed : rules.blacklisted;
    if (table.contains(network, prefix)) {
      problems.push_back({file, line, fmt::format("'{}' is listed twice; skipped", entry)});
      return true;
    }
    const std::string rule = (allow ? "@@" : "") + format_address(network) +
                             (prefix == network.bits() ? std::string() : fmt::format("/{}", prefix));
    table.insert(network, prefix, {rule, line});
    return true;
  });
  return rules;
}

// "domains.txt:42", without the cost of a formatting library on the lookup path.
std::string where(std::string_view file, int line) {
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, line).ptr;
  std::string out;
  out.reserve(file.size() + 1 + static_cast<std::size_t>(end - digits));
  out.append(file).append(1, ':').append(digits, end);
  return out;
}

// --- Hosts ---------------------------------------------------------------------------------------------

// Hashes a host right to left, so one pass over a host yields the hash of each of its suffixes.
constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

std::uint64_t hash_step(std::uint64_t hash, char c) {
  return (hash ^ static_cast<unsigned char>(ascii_lower(c))) * kFnvPrime;
}

std::uint64_t finish(std::uint64_t hash) {  // FNV's low bits are weak; mix before indexing
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdull;
  hash ^= hash >> 33;
  return hash;
}

std::uint64_t host_hash(std::string_view host) {
  std::uint64_t hash = kFnvOffset;
  for (auto it = host.rbegin(); it != host.rend(); ++it) hash = hash_step(hash, *it);
  return finish(hash);
}

bool equal_ignoring_case(std::string_view lower_name, std::string_view text) {
  if (lower_name.size() != text.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (lower_name[i] != ascii_lower(text[i])) return false;
  return true;
}

// An open-addressing table of host names; a name can be blacklisted, allowed, or both. Each name is
// one record in an arena (lines, flags, length, the name), and each 8-byte slot holds a 32-bit
// fingerprint of the hash and the record's offset. Lookups are bound by cache misses, so: a blocked
// Bloom filter small enough for L2 answers nearly every absent name without touching the table, a
// present name costs one slot and one record, and match_host prefetches the slots of all of a host's
// candidate suffixes together.
class HostTable {
 public:
  struct Entry {
    std::uint32_t record = 0;  // offset in the arena
    std::string_view name;
    int blacklist_line = 0;      // 0: not blacklisted
    int allow_line = 0;          // 0: not allowed
    bool rules_beneath = false;  // see PublicSuffixes::may_have_rules_beneath
  };

  // The record for `name` (lower case, at most kMaxHostBytes), created if needed.
  std::uint32_t upsert(std::string_view name) {
    const std::uint64_t hash = host_hash(name);
    if (const auto found = find(hash, name)) return found->record;
    if ((records_.size() + 1) * 2 > slots_.size()) grow();
    const auto record = static_cast<std::uint32_t>(arena_.size());
    arena_.resize(arena_.size() + kHeaderBytes);
    arena_[record + kLengthAt] = static_cast<char>(name.size());
    arena_ += name;
    records_.push_back(record);
    place(hash, record);
    return record;
  }

  Entry entry(std::uint32_t record) const {
    const char* header = arena_.data() + record;
    Entry entry;
    entry.record = record;
    std::memcpy(&entry.blacklist_line, header + kBlacklistLineAt, sizeof(int));
    std::memcpy(&entry.allow_line, header + kAllowLineAt, sizeof(int));
    entry.rules_beneath = header[kRulesBeneathAt] != 0;
    entry.name = std::string_view(header + kHeaderBytes, static_cast<unsigned char>(header[kLengthAt]));
    return entry;
  }

  void set_blacklist_line(std::uint32_t record, int line) {
    std::memcpy(arena_.data() + record + kBlacklistLineAt, &line, sizeof line);
  }
  void set_allow_line(std::uint32_t record, int line) {
    std::memcpy(arena_.data() + record + kAllowLineAt, &line, sizeof line);
  }
  void set_rules_beneath(std::uint32_t record, bool value) { arena_[record + kRulesBeneathAt] = value ? 1 : 0; }

  // Builds the prefilter; call once all names are in.
  void seal() {
    const std::size_t blocks = std::max<std::size_t>(1, records_.size() * kFilterBitsPerName / 512 + 1);
    filter_.assign(blocks, FilterBlock{});
    for (const auto record : records_) {
      const auto probe = filter_probe(host_hash(entry(record).name));
      auto& block = filter_[probe.block];
      for (int k = 0; k < kFilterProbes; ++k) {
        const auto bit = (probe.bits >> (9 * k)) & 511;
        block.words[bit / 64] |= std::uint64_t{1} << (bit % 64);
      }
    }
  }

  // False: no name has this hash, without touching the table. True: look it up with find(); at
  // kFilterBitsPerName bits per name, under 1% of absent names get this far.
  bool may_contain(std::uint64_t hash) const {
    if (filter_.empty()) return false;
    const auto probe = filter_probe(hash);
    const auto& block = filter_[probe.block];
    for (int k = 0; k < kFilterProbes; ++k) {
      const auto bit = (probe.bits >> (9 * k)) & 511;
      if ((block.words[bit / 64] & (std::uint64_t{1} << (bit % 64))) == 0) return false;
    }
    return true;
  }

  // Brings the slot for `hash` into cache ahead of find().
  void prefetch(std::uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }

  // `suffix` may be in any case; `hash` is host_hash of it.
  std::optional<Entry> find(std::uint64_t hash, std::string_view suffix) const {
    if (slots_.empty()) return std::nullopt;
    const auto fingerprint = static_cast<std::uint32_t>(hash >> 32);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const auto& slot = slots_[i];
      if (slot.record == kEmpty) return std::nullopt;
      if (slot.fingerprint != fingerprint) continue;
      auto candidate = entry(slot.record);
      if (equal_ignoring_case(candidate.name, suffix)) return candidate;
    }
  }

  const std::vector<std::uint32_t>& records() const { return records_; }

 private:
  static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t kBlacklistLineAt = 0;
  static constexpr std::size_t kAllowLineAt = 4;
  static constexpr std::size_t kRulesBeneathAt = 8;
  static constexpr std::size_t kLengthAt = 9;
  static constexpr std::size_t kHeaderBytes = 10;
  static_assert(kMaxHostBytes <= 255, "a record stores the name length in one byte");

  struct Slot {
    std::uint32_t fingerprint = 0;
    std::uint32_t record = kEmpty;
  };

  // A blocked Bloom filter: each name sets kFilterProbes bits within one 64-byte block, so a check
  // reads one cache line. 16 bits per name keep 100,000 names in about 200 KiB, within L2.
  static constexpr std::size_t kFilterBitsPerName = 16;
  static constexpr int kFilterProbes = 6;
  struct alignas(64) FilterBlock {
    std::array<std::uint64_t, 8> words{};
  };
  // The filter's block and bit positions come from a second mix of the hash, independent of the slot
  // index and fingerprint: the block from its top 32 bits, six 9-bit positions from a multiple.
  struct FilterProbe {
    std::size_t block;
    std::uint64_t bits;
  };
  FilterProbe filter_probe(std::uint64_t hash) const {
    const std::uint64_t mixed = finish(hash ^ 0x5851f42d4c957f2dull);
    const std::size_t block = static_cast<std::size_t>(((mixed >> 32) * filter_.size()) >> 32);
    return {block, mixed * 0x9e3779b97f4a7c15ull};
  }

  void place(std::uint64_t hash, std::uint32_t record) {
    std::size_t i = hash & mask_;
    while (slots_[i].record != kEmpty) i = (i + 1) & mask_;
    slots_[i] = {static_cast<std::uint32_t>(hash >> 32), record};
  }

  void grow() {
    const std::size_t capacity = std::max<std::size_t>(16, slots_.size() * 2);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const auto record : records_) place(host_hash(entry(record).name), record);
  }

  std::string arena_;
  std::vector<std::uint32_t> records_;  // every record's offset, in insertion order
  std::vector<FilterBlock> filter_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

// Why `text` is not acceptable as a domains.txt entry, or empty if it is (then `name` is set).
std::string host_entry_problem(std::string_view text, std::string& name) {
  if (text.starts_with("||")) return fmt::format("'{}' is Adblock Plus syntax; write the bare host", text);
  if (text.find("://") != std::string_view::npos || text.find('/') != std::string_view::npos)
    return fmt::format("'{}' is a URL or path; write only its host ('{}')", text, host_of(text));
  if (std::any_of(text.begin(), text.end(), is_space))
    return fmt::format("'{}': expected one host per line (for a hosts-file line, write only the host)", text);
  if (text.starts_with("*."))
    return fmt::format("'{}': no wildcard needed, '{}' already covers its subdomains", text, text.substr(2));
  if (parse_address(text)) return fmt::format("'{}' is an IP address; put it in ips.txt", text);
  if (text.find(':') != std::string_view::npos)
    return fmt::format("'{}': a host entry has no port; write only the host", text);
  if (!is_ascii(text)) return fmt::format("'{}' is not ASCII; write the host in its punycode (xn--) form", text);
  name = util::to_lower(text);
  if (name.ends_with('.')) name.pop_back();
  if (name.empty() || name.size() > kMaxHostBytes) return fmt::format("'{}' is not a valid host name", text);
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return fmt::format("'{}' has an empty label", text);
      label = 0;
      continue;
    }
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed) return fmt::format("'{}' contains '{}', which no host name has", text, c);
    if (++label > kMaxLabelBytes) return fmt::format("'{}' has a label longer than {} bytes", text, kMaxLabelBytes);
  }
  if (label == 0) return fmt::format("'{}' has an empty label", text);
  const auto& suffixes = public_suffixes();
  if (name.find('.') == std::string::npos || (suffixes.context && psl_is_public_suffix(suffixes.context, name.c_str())))
    return fmt::format(
        "'{}' is a public suffix: it would cover every site registered under it; list those "
        "registrable domains instead",
        name);
  return {};
}

HostTable parse_domains(std::string_view text, const std::string& file, std::vector<RuleProblem>& problems) {
  HostTable table;
  std::size_t entries = 0;
  for_each_entry(text, file, problems, [&](int line, std::string_view entry) {
    if (++entries > kMaxListEntriesPerFile) {
      problems.push_back(
          {file, line, fmt::format("more than {} entries; the rest of the file is not read", kMaxListEntriesPerFile)});
      return false;
    }
    entry = strip_trailing_comment(entry);
    const bool allow = entry.starts_with("@@");
    if (allow) entry.remove_prefix(2);
    std::string name;
    if (auto problem = host_entry_problem(entry, name); !problem.empty()) {
      problems.push_back({file, line, std::move(problem)});
      return true;
    }
    const auto record = table.upsert(name);
    const auto existing = table.entry(record);
    const int recorded = allow ? existing.allow_line : existing.blacklist_line;
    if (recorded != 0) {
      problems.push_back({file, line, fmt::format("duplicate of line {}; skipped", recorded)});
      return true;
    }
    if (allow) table.set_allow_line(record, line);
    else table.set_blacklist_line(record, line);
    return true;
  });
  const auto& suffixes = public_suffixes();
  for (const auto record : table.records())
    table.set_rules_beneath(record, suffixes.may_have_rules_beneath(std::string(table.entry(record).name)));
  table.seal();
  return table;
}

// True when `suffix_length` bytes at the end of `host` reach at least down to its registrable domain,
// i.e. the entry found there may speak for the host. Only needed for entries with suffix rules below.
bool covers_registrable_domain(std::string_view host, std::size_t suffix_length) {
  const auto& suffixes = public_suffixes();
  if (!suffixes.context) return true;
  const std::string name = util::to_lower(host);
  const char* registrable = psl_registrable_domain(suffixes.context, name.c_str());
  return registrable && std::char_traits<char>::length(registrable) <= suffix_length;
}

// Reads a rule file, bounded; on failure reports a problem and returns nullopt.
std::optional<std::string> read_rule_file(const std::filesystem::path& path, std::vector<RuleProblem>& problems) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    problems.push_back({path.string(), 0, fmt::format("unreadable ({}); this field has no rules", error.message())});
    return std::nullopt;
  }
  if (!std::filesystem::exists(status)) {
    problems.push_back({path.string(), 0, "missing; this field has no rules"});
    return std::nullopt;
  }
  if (!std::filesystem::is_regular_file(status)) {
    problems.push_back({path.string(), 0, "not a regular file; this field has no rules"});
    return std::nullopt;
  }
  const auto size = std::filesystem::file_size(path, error);
  if (error) {
    problems.push_back({path.string(), 0, fmt::format("unreadable ({}); this field has no rules", error.message())});
    return std::nullopt;
  }
  if (size > kMaxRuleFileBytes) {
    problems.push_back(
        {path.string(), 0, fmt::format("{} bytes, over the {}-byte limit; not read", size, kMaxRuleFileBytes)});
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    problems.push_back({path.string(), 0, "cannot be opened; this field has no rules"});
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    problems.push_back({path.string(), 0, "read error; this field has no rules"});
    return std::nullopt;
  }
  return std::move(text).str();
}

}  // namespace

// --- Rules ---------------------------------------------------------------------------------------------

struct Rules::Compiled {
  PatternField keywords;
  PatternField script_urls;
  PatternField ws_endpoints;
  HostTable hosts;
  IpRules ips;
};

Rules::Rules() : compiled_(std::make_shared<const Compiled>()) {}
Rules::Rules(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

LoadedRules Rules::load(const std::filesystem::path& dir, const RuleLimits& limits) {
  std::vector<RuleProblem> problems;
  RuleTexts texts;
  RuleTexts labels;
  auto read = [&](const char* name, std::string& text, std::string& label) {
    const auto path = dir / name;
    label = path.string();
    text = read_rule_file(path, problems).value_or("");
  };
  read("keywords.txt", texts.keywords, labels.keywords);
  read("script_urls.txt", texts.script_urls, labels.script_urls);
  read("ws_endpoints.txt", texts.ws_endpoints, labels.ws_endpoints);
  read("domains.txt", texts.domains, labels.domains);
  read("ips.txt", texts.ips, labels.ips);
  return compile(texts, labels, limits, std::move(problems));
}

LoadedRules Rules::from_text(const RuleTexts& texts, const RuleLimits& limits) {
  const RuleTexts labels{"keywords.txt", "script_urls.txt", "ws_endpoints.txt", "domains.txt", "ips.txt"};
  return compile(texts, labels, limits, {});
}

LoadedRules Rules::compile(const RuleTexts& texts, const RuleTexts& labels, const RuleLimits& limits,
                           std::vector<RuleProblem> problems) {
  auto compiled = std::make_shared<Compiled>();
  compiled->keywords = parse_patterns(texts.keywords, labels.keywords, true, limits, problems);
  compiled->script_urls = parse_patterns(texts.script_urls, labels.script_urls, false, limits, problems);
  compiled->ws_endpoints = parse_patterns(texts.ws_endpoints, labels.ws_endpoints, false, limits, problems);
  compiled->hosts = parse_domains(texts.domains, labels.domains, problems);
  compiled->ips = parse_ips(texts.ips, labels.ips, problems);
  return {Rules(std::shared_ptr<const Compiled>(std::move(compiled))), std::move(problems)};
}

KeywordScan Rules::scan_script(std::string_view source, MatchPath path) const {
  KeywordScan scan;
  const auto& field = compiled_->keywords;
  bool from_set = false;
  std::vector<std::size_t> starts;
  for (std::size_t index : candidates(field, source, path, from_set, scan.fallback_used, scan.fallback_reason)) {
    const auto& pattern = field.patterns[index];
    const std::size_t before = starts.size();
    const std::uint64_t count = count_occurrences(*pattern.re, source, starts);
    if (count == 0) continue;
    scan.hits.push_back({pattern.text, pattern.weight, count, starts[before]});
  }
  scan.score = keyword_score(scan.hits, starts, source.size());
  return scan;
}

PatternMatches Rules::match_script_url(std::string_view url, MatchPath path) const {
  return match_url(compiled_->script_urls, url, path);
}

PatternMatches Rules::match_ws_url(std::string_view url, MatchPath path) const {
  return match_url(compiled_->ws_endpoints, url, path);
}

ListMatch Rules::match_host(std::string_view host) const {
  const auto& table = compiled_->hosts;
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHostBytes || table.records().empty() || looks_like_ip(host)) return {};

  // Hash every suffix that starts at a label and has at least two labels, in one right-to-left pass;
  // keep those the prefilter lets through and prefetch their slots so the probes' misses overlap.
  struct Suffix {
    std::size_t start;
    std::uint64_t hash;
  };
  std::array<Suffix, kMaxHostBytes / 2 + 1> suffixes;
  std::size_t count = 0;
  std::uint64_t hash = kFnvOffset;
  bool past_a_dot = false;  // single labels (top-level domains) are never entries
  for (std::size_t i = host.size(); i-- > 0;) {
    if (host[i] == '.') past_a_dot = true;
    hash = hash_step(hash, host[i]);
    if (past_a_dot && host[i] != '.' && (i == 0 || host[i - 1] == '.') && count < suffixes.size()) {
      const std::uint64_t suffix_hash = finish(hash);
      if (!table.may_contain(suffix_hash)) continue;  // the usual case: not listed
      suffixes[count++] = {i, suffix_hash};
      table.prefetch(suffix_hash);
    }
  }

  std::optional<HostTable::Entry> allowed;
  std::optional<HostTable::Entry> blacklisted;  // the longest, since suffixes come shortest first
  for (std::size_t k = 0; k < count; ++k) {
    const std::string_view suffix = host.substr(suffixes[k].start);
    const auto entry = table.find(suffixes[k].hash, suffix);
    if (!entry) continue;
    // An entry with suffix rules beneath it speaks for this host only if it is not above the host's
    // registrable domain (amazonaws.com does not cover bucket.s3.amazonaws.com).
    if (entry->rules_beneath && suffix.size() < host.size() && !covers_registrable_domain(host, suffix.size()))
      continue;
    if (entry->allow_line != 0 && !allowed) allowed = entry;
    if (entry->blacklist_line != 0) blacklisted = entry;
  }
  if (allowed) return {Listing::allowed, "@@" + std::string(allowed->name), where("domains.txt", allowed->allow_line)};
  if (blacklisted)
    return {Listing::blacklisted, std::string(blacklisted->name), where("domains.txt", blacklisted->blacklist_line)};
  return {};
}

ListMatch Rules::match_ip(std::string_view text) const {
  const auto address = parse_address(text);
  if (!address) return {};
  if (const auto* entry = compiled_->ips.allowed.find(*address))
    return {Listing::allowed, entry->rule, where("ips.txt", entry->line)};
  if (const auto* entry = compiled_->ips.blacklisted.find(*address))
    return {Listing::blacklisted, entry->rule, where("ips.txt", entry->line)};
  return {};
}

RuleCounts Rules::counts() const {
  RuleCounts counts;
  counts.keywords = compiled_->keywords.patterns.size();
  counts.script_urls = compiled_->script_urls.patterns.size();
  counts.ws_endpoints = compiled_->ws_endpoints.patterns.size();
  for (const auto record : compiled_->hosts.records()) {
    const auto entry = compiled_->hosts.entry(record);
    if (entry.blacklist_line != 0) ++counts.blacklisted_hosts;
    if (entry.allow_line != 0) ++counts.allowed_hosts;
  }
  counts.blacklisted_ip_ranges = compiled_->ips.blacklisted.size();
  counts.allowed_ip_ranges = compiled_->ips.allowed.size();
  return counts;
}

std::string to_string(const RuleProblem& problem) {
  if (problem.line == 0) return fmt::format("{}: {}", problem.file, problem.reason);
  return fmt::format("{}:{}: {}", problem.file, problem.line, problem.reason);
}

std::string to_string(Listing listing) {
  switch (listing) {
    case Listing::none: return "none";
    case Listing::blacklisted: return "blacklisted";
    case Listing::allowed: return "allowed";
  }
  return "none";
}

std::string host_of(std::string_view url) {
  url = trim(url);
  if (url.size() >= 5 && util::to_lower(url.substr(0, 5)) == "blob:") url.remove_prefix(5);
  // Scheme ("wss:") then "//"; a scheme-relative "//host" is accepted too.
  if (!url.starts_with("//")) {
    const auto colon = url.find(':');
    if (colon == std::string_view::npos || colon == 0) return {};
    for (std::size_t i = 0; i < colon; ++i) {
      const char c = url[i];
      const bool scheme_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                               (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
      if (!scheme_char) return {};
    }
    url.remove_prefix(colon + 1);
    if (!url.starts_with("//")) return {};
  }
  url.remove_prefix(2);
  std::string_view authority = url.substr(0, url.find_first_of("/?#\\"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return {};
    host = authority.substr(1, close - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  std::string out = util::to_lower(host);
  if (out.ends_with('.')) out.pop_back();
  return out;
}

std::string registrable_domain(std::string_view host) {
  std::string name = util::to_lower(trim(host));
  if (name.ends_with('.')) name.pop_back();
  if (name.empty() || looks_like_ip(name)) return {};
  const auto& suffixes = public_suffixes();
  if (!suffixes.context) return {};
  const char* registrable = psl_registrable_domain(suffixes.context, name.c_str());
  return registrable ? std::string(registrable) : std::string();
}

std::string public_suffix_source() { return public_suffixes().source; }

std::optional<std::string> host_to_ascii(std::string_view host) { return to_ascii_host(host); }

std::optional<IpAddress> parse_ip_literal(std::string_view text, bool* mapped) {
  char buffer[64];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::copy(text.begin(), text.end(), buffer);
  buffer[text.size()] = '\0';
  IpAddress address;
  if (inet_pton(AF_INET, buffer, address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, buffer, address.bytes.data()) != 1) return std::nullopt;
  address.v6 = true;
  static constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address.bytes.begin())) {
    std::copy(address.bytes.begin() + 12, address.bytes.end(), address.bytes.begin());
    std::fill(address.bytes.begin() + 4, address.bytes.end(), 0);
    address.v6 = false;
    if (mapped) *mapped = true;
  }
  return address;
}

}  // namespace blacklist
