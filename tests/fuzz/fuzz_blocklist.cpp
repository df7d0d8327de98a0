// tests/fuzz/fuzz_blocklist.cpp — blacklist/list_import: the parsers of public miner blocklists
// (adblock, hosts, domains, ips, webext), format detection and the not-a-text-list check, all over
// text fetched from anyone's server. The input is one list, imported once with detection and once
// forced into each of the five formats. Asserts beyond "no crash": the header's contract — entries
// unique and sorted by (kind, value), every value lower case printable ASCII without space, '*',
// '^', '|', '$' or '#', and never empty; every entry's and every skip sample's line within the text;
// skip counts positive; the line count is the text's — and that the detected format re-parses:
// forcing the format detection chose gives the same entries and skips.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "blacklist/list_import.hpp"
#include "tests/fuzz/targets.hpp"

namespace cjcrawl::fuzz {
namespace {

using blacklist::ImportResult;
using blacklist::ListFormat;

// Lines as the header counts them: every '\n', plus a last line without one (after a byte order mark).
std::size_t count_lines(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (text.empty()) return 0;
  const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (text.back() == '\n' ? 0 : 1);
}

bool valid_value(std::string_view value) {
  if (value.empty()) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F && !(byte >= 'A' && byte <= 'Z') && c != '*' && c != '^' && c != '|' &&
           c != '$' && c != '#';
  });
}

void check_contract(const ImportResult& result, std::size_t lines) {
  expect(result.lines == lines, "the line count is the text's");
  for (std::size_t i = 0; i < result.entries.size(); ++i) {
    const auto& entry = result.entries[i];
    expect(valid_value(entry.value), "an entry's value is lower-case printable ASCII without ABP syntax");
    expect(entry.line >= 1 && entry.line <= result.lines, "an entry's line is in the text");
    if (i > 0) {
      const auto& previous = result.entries[i - 1];
      expect(previous.kind < entry.kind || (previous.kind == entry.kind && previous.value < entry.value),
             "entries are unique and sorted by (kind, value)");
    }
  }
  for (const auto& [kind, skip] : result.skipped) {
    expect(skip.count > 0, "only skip kinds that occurred are listed");
    expect(skip.sample_line >= 1 && skip.sample_line <= result.lines, "a skip's sample line is in the text");
  }
  expect(result.comment_lines <= result.lines, "comment lines are lines of the text");
}

}  // namespace

int blocklist(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  (void)blacklist::not_a_text_list(text);
  const auto lines = count_lines(text);

  const ImportResult detected = blacklist::import_list(text);
  expect(detected.format_detected, "no forced format means a detected one");
  check_contract(detected, lines);
  for (const auto format :
       std::array{ListFormat::adblock, ListFormat::hosts, ListFormat::domains, ListFormat::ips, ListFormat::webext}) {
    const ImportResult forced = blacklist::import_list(text, format);
    expect(!forced.format_detected && forced.format == format, "a forced format is kept");
    check_contract(forced, lines);
    if (format == detected.format) {
      expect(forced.entries == detected.entries && forced.skipped == detected.skipped &&
                 forced.comment_lines == detected.comment_lines,
             "the detected format re-parses to the same result");
    }
  }
  return 0;
}

}  // namespace cjcrawl::fuzz
