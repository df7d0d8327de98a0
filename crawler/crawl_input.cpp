// crawler/crawl_input.cpp — the crawl list: format detection, per-line validation, site keys and
// duplicates, the SHA-256 shard split, and the one bounded reader of a file or standard input.
#include "crawler/crawl_input.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <unordered_set>
#include <utility>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <fmt/format.h>

#include "util/encoding.hpp"
#include "util/text.hpp"

namespace crawler {
namespace {

// Ranks longer than this do not fit the 64-bit rank (no real list comes close).
constexpr std::size_t kMaxRankDigits = 18;
// "I" and "N" of a shard have at most this many digits (N is at most kMaxShardCount).
constexpr std::size_t kMaxShardDigits = 7;
// Bytes read from a file or standard input at a time.
constexpr std::size_t kReadChunkBytes = 64 * 1024;

// --- Small text helpers -------------------------------------------------------------------------------

using util::all_digits;
using util::is_digit;
using util::is_space;
using util::trim;

// The digits as a number; the caller has bounded their count so it cannot overflow.
std::uint64_t to_number(std::string_view digits) {
  std::uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return value;
}

// Calls on_line(number, line without its line end) for every line of the text, until it returns false.
template <typename OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!on_line(++number, line)) return;
  }
}

// What a line says once comments and surrounding whitespace are gone; empty for blank lines and
// comments. `#` starts a comment at the start of the line or after whitespace: a URL cannot contain
// whitespace, so the `#` of a URL fragment is never taken for one.
std::string_view content_of(std::string_view line) {
  line = trim(line);
  for (std::size_t hash = line.find('#'); hash != std::string_view::npos; hash = line.find('#', hash + 1))
    if (hash == 0 || is_space(line[hash - 1])) return trim(line.substr(0, hash));
  return line;
}

// --- Ranked CSV rows ------------------------------------------------------------------------------------

std::string_view unquote(std::string_view field) {
  field = trim(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = trim(field.substr(1, field.size() - 2));
  return field;
}

struct Row {
  std::string_view rank;    // digits
  std::string_view domain;  // the rest of the line after the first comma, possibly empty
};

// `<digits>,<rest>`, each field optionally in double quotes; nullopt for anything else.
std::optional<Row> split_row(std::string_view content) {
  const auto comma = content.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  const auto rank = unquote(content.substr(0, comma));
  if (!all_digits(rank)) return std::nullopt;
  return Row{rank, unquote(content.substr(comma + 1))};
}

// A CSV header such as `rank,domain`: column names, not a row, and nothing that a host or URL has.
bool looks_like_header(std::string_view content) {
  return content.find(',') != std::string_view::npos && !split_row(content) &&
         content.find_first_of(".:/") == std::string_view::npos &&
         std::all_of(content.begin(), content.end(), [](char c) { return c >= ' ' && c < 0x7f; });
}

// The format of the first kDetectionSampleLines content lines (a header-looking first one aside):
// ranked CSV when more than half of them are rows.
InputFormat detect_format(std::string_view text) {
  std::size_t sampled = 0;
  std::size_t rows = 0;
  bool first = true;
  for_each_line(text, [&](std::size_t, std::string_view line) {
    // An over-long line counts as content that is not a row, as in parse_crawl_input; it is not read.
    const bool too_long = line.size() > kMaxInputUrlBytes;
    const auto content = too_long ? std::string_view() : content_of(line);
    if (!too_long && content.empty()) return true;
    const bool header = std::exchange(first, false) && !too_long && looks_like_header(content);
    if (header) return true;
    ++sampled;
    if (!too_long && split_row(content)) ++rows;
    return sampled < kDetectionSampleLines;
  });
  return rows * 2 > sampled ? InputFormat::ranked_csv : InputFormat::lines;
}

// --- Site keys ------------------------------------------------------------------------------------------

bool is_host_name_char(char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' || c == '_'; }

// The key of a site from its first candidate (already lower-case, without fragment, with a path), or
// why the URL cannot be a site to visit: a host that is no DNS name, a port out of range.
std::string site_key(std::string_view candidate, std::string& error) {
  auto parsed = boost::urls::parse_uri(candidate);
  if (!parsed) {
    error = fmt::format("not a valid URL ({})", parsed.error().message());
    return {};
  }
  boost::urls::url url = *parsed;
  const auto host = url.encoded_host();
  if (url.host_type() == boost::urls::host_type::ipvfuture) {
    error = fmt::format("host '{}' is an IPvFuture address; only IPv4, IPv6 and DNS names can be visited",
                        quote_input(host));
    return {};
  }
  if (url.host_type() == boost::urls::host_type::name && !std::all_of(host.begin(), host.end(), is_host_name_char)) {
    error = fmt::format(
        "host '{}' is not a DNS name: expected letters, digits, '-', '.' and '_' (international names in Punycode, "
        "xn--...)",
        quote_input(host));
    return {};
  }
  if (url.has_port()) {
    // Boost.URL's port_number() wraps values over 65535, so the digits are read here.
    auto digits = std::string_view(url.port());
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    const std::uint64_t port = digits.size() <= 5 ? to_number(digits) : 0;
    if (!url.port().empty() && (port == 0 || port > 65535)) {
      error = fmt::format("port '{}' is out of range: expected 1 to 65535", quote_input(url.port()));
      return {};
    }
    const std::uint64_t default_port = url.scheme_id() == boost::urls::scheme::https ? 443 : 80;
    if (url.port().empty() || port == default_port) url.remove_port();
    else url.set_port_number(static_cast<std::uint16_t>(port));
  }
  return std::string(url.buffer());
}

// The keys seen so far, as indexes into the targets (so each key is stored once), looked up by text.
class SeenSites {
 public:
  explicit SeenSites(const std::vector<CrawlTarget>& targets) : indexes_(0, Hash{&targets}, Equal{&targets}) {}

  bool contains(std::string_view key) const { return indexes_.find(key) != indexes_.end(); }
  void add(std::size_t index) { indexes_.insert(index); }

 private:
  struct KeyOf {
    const std::vector<CrawlTarget>* targets;
    std::string_view operator()(std::size_t index) const { return (*targets)[index].key; }
    std::string_view operator()(std::string_view key) const { return key; }
  };
  struct Hash : KeyOf {
    using is_transparent = void;
    template <typename T>
    std::size_t operator()(const T& item) const {
      return std::hash<std::string_view>{}(KeyOf::operator()(item));
    }
  };
  struct Equal : KeyOf {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf::operator()(a) == KeyOf::operator()(b);
    }
  };
  std::unordered_set<std::size_t, Hash, Equal> indexes_;
};

// --- Parsing the lines ------------------------------------------------------------------------------------

class Collector {
 public:
  explicit Collector(CrawlInput& out) : out_(out), seen_(out.targets) {}

  void invalid(std::size_t line, std::string_view text, std::string reason) {
    ++out_.invalid_lines;
    if (out_.invalid.size() < kMaxReportedProblems)
      out_.invalid.push_back({line, quote_input(text), std::move(reason)});
  }

  // One URL or host (the whole content of a plain line, or the domain field of a row).
  void site(std::size_t line, std::string_view content, std::string_view input, std::uint64_t rank) {
    auto parsed = parse_input(input);
    if (!parsed) return invalid(line, content, parsed.error().message);
    std::string error;
    auto key = site_key(parsed->front(), error);
    if (!error.empty()) return invalid(line, content, std::move(error));
    if (seen_.contains(key)) {
      ++out_.duplicates;
      return;
    }
    if (out_.targets.size() >= kMaxCrawlTargets) {
      ++out_.over_limit;
      return;
    }
    out_.targets.push_back({line, rank, std::string(input), std::move(key)});
    seen_.add(out_.targets.size() - 1);
  }

 private:
  CrawlInput& out_;
  SeenSites seen_;
};

void parse_plain_line(std::size_t line, std::string_view content, Collector& out) {
  if (split_row(content))
    return out.invalid(line, content,
                       "a `rank,domain` row, but this input is read as one URL or host per line (fewer than half "
                       "of its first lines are rows); give one format per file");
  out.site(line, content, content, 0);
}

void parse_ranked_row(std::size_t line, std::string_view content, Collector& out) {
  const auto row = split_row(content);
  if (!row)
    return out.invalid(line, content,
                       "expected a `rank,domain` row such as `1,example.com` (this input is read as ranked CSV)");
  if (row->rank.size() > kMaxRankDigits)
    return out.invalid(line, content, fmt::format("rank longer than {} digits", kMaxRankDigits));
  if (row->domain.empty()) return out.invalid(line, content, "no domain after the rank");
  out.site(line, content, row->domain, to_number(row->rank));
}

// --- Hashing ----------------------------------------------------------------------------------------------

std::optional<std::size_t> parse_shard_number(std::string_view text) {
  if (!all_digits(text) || text.size() > kMaxShardDigits) return std::nullopt;
  return static_cast<std::size_t>(to_number(text));
}

}  // namespace

std::string_view to_string(InputFormat format) {
  switch (format) {
    case InputFormat::lines: return "lines";
    case InputFormat::ranked_csv: return "ranked_csv";
  }
  return "lines";
}

std::string quote_input(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const bool plain = byte >= 0x20 && byte < 0x7f && byte != '\\';
    if (out.size() + (plain ? 1 : 4) > kMaxQuotedInputChars) return out + "...";
    if (plain) out += static_cast<char>(byte);
    else out += fmt::format("\\x{:02x}", byte);
  }
  return out;
}

CrawlInput parse_crawl_input(std::string_view text) {
  CrawlInput out;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  out.format = detect_format(text);
  Collector collector(out);
  bool first_content = true;
  for_each_line(text, [&](std::size_t number, std::string_view line) {
    ++out.lines;
    if (line.size() > kMaxInputUrlBytes) {
      first_content = false;
      collector.invalid(number, line,
                        fmt::format("line longer than {} bytes; no site has a URL that long", kMaxInputUrlBytes));
      return true;
    }
    const auto content = content_of(line);
    if (content.empty()) {
      ++out.skipped_lines;
      return true;
    }
    const bool first = std::exchange(first_content, false);
    if (out.format == InputFormat::ranked_csv) {
      if (first && looks_like_header(content)) out.header_line = number;
      else parse_ranked_row(number, content, collector);
    } else {
      parse_plain_line(number, content, collector);
    }
    return true;
  });
  return out;
}

util::Result<Shard> parse_shard(std::string_view text) {
  const auto fail = [](std::string message) -> util::Result<Shard> {
    return util::make_error(util::ErrorCode::invalid_argument, "", std::move(message));
  };
  const auto expected = fmt::format(
      "expected I/N, shard I of N counted from 0 (0/4, 1/4, 2/4 and 3/4 split a list in four), N from 1 to {}",
      kMaxShardCount);
  text = trim(text);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return fail(expected);
  const auto index = parse_shard_number(trim(text.substr(0, slash)));
  const auto count = parse_shard_number(trim(text.substr(slash + 1)));
  if (!index || !count) return fail(expected);
  if (*count == 0 || *count > kMaxShardCount)
    return fail(fmt::format("{} shards: the count must be 1 to {}", *count, kMaxShardCount));
  if (*index >= *count)
    return fail(fmt::format("there is no shard {} of {}: shards are counted from 0, so they are 0/{} to {}/{}", *index,
                            *count, *count, *count - 1, *count));
  return Shard{*index, *count};
}

std::size_t shard_of(std::string_view key, std::size_t count) {
  if (count <= 1) return 0;
  const auto digest = util::sha256(key);
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value = (value << 8) | digest[i];
  return static_cast<std::size_t>(value % count);
}

std::vector<InputProblem> select_invalid(const std::vector<InputProblem>& invalid, std::optional<Shard> shard,
                                         std::optional<std::size_t> limit, const std::vector<CrawlTarget>& selected) {
  std::size_t last_line = std::numeric_limits<std::size_t>::max();
  if (limit) {
    last_line = 0;
    for (const auto& target : selected) last_line = std::max(last_line, target.line);
  }
  std::vector<InputProblem> out;
  for (const auto& problem : invalid) {
    if (problem.line > last_line) continue;
    if (shard && shard->count > 1 && shard_of(problem.text, shard->count) != shard->index) continue;
    out.push_back(problem);
  }
  return out;
}

std::vector<CrawlTarget> select_targets(std::vector<CrawlTarget> targets, std::optional<Shard> shard,
                                        std::optional<std::size_t> limit) {
  if (shard && shard->count > 1)
    std::erase_if(targets,
                  [&](const CrawlTarget& target) { return shard_of(target.key, shard->count) != shard->index; });
  if (limit && targets.size() > *limit)
    targets.erase(targets.begin() + static_cast<std::ptrdiff_t>(*limit), targets.end());
  return targets;
}

std::string input_digest(std::string_view text) { return util::sha256_hex(text); }

util::Result<std::string> read_crawl_input(const std::string& path) {
  const bool standard_input = path == "-";
  const std::string name = standard_input ? std::string("standard input") : path;
  const auto too_large = [&] {
    return util::make_error(util::ErrorCode::invalid_argument, "",
                            fmt::format("{} is larger than {} MiB, the most one crawl reads; split the list into "
                                        "several files",
                                        name, kMaxCrawlInputBytes >> 20));
  };
  const auto system_error = [&](std::string_view what) {
    return util::make_error(util::ErrorCode::invalid_argument, "",
                            fmt::format("cannot {} {}: {}", what, name, std::generic_category().message(errno)), errno);
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned(nullptr, &std::fclose);
  std::FILE* file = stdin;
  if (!standard_input) {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) return system_error("open");
    file = owned.get();
  }
  std::string text;
  // A regular file's size is known up front: refuse a huge one unread, and read the rest in one buffer.
  std::error_code ignored;
  if (!standard_input && std::filesystem::is_regular_file(path, ignored)) {
    const auto size = std::filesystem::file_size(path, ignored);
    if (!ignored && size > kMaxCrawlInputBytes) return too_large();
    if (!ignored) text.reserve(static_cast<std::size_t>(size));
  }
  std::array<char, kReadChunkBytes> chunk;
  while (true) {
    const auto read = std::fread(chunk.data(), 1, chunk.size(), file);
    if (text.size() + read > kMaxCrawlInputBytes) return too_large();
    text.append(chunk.data(), read);
    if (read < chunk.size()) {
      if (std::ferror(file)) return system_error("read");
      return text;
    }
  }
}

}  // namespace crawler
