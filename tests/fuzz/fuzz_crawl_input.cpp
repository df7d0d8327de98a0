// tests/fuzz/fuzz_crawl_input.cpp — crawler/crawl_input, the list of sites for `cjcrawl crawl`
// (a Tranco CSV or a list of URLs from anywhere): parse_crawl_input, parse_shard on the first line,
// and select_targets / select_invalid. Asserts beyond "no crash": the header's contract — every line
// counted exactly once (targets, invalid, duplicates, skipped, header, over the cap sum to the
// lines), keys unique, targets in input order with their line in the text, a target's candidates
// are parse_input's and non-empty, at most kMaxReportedProblems problems kept and quoted within
// 123 characters — and that shards partition the targets: the shards of 3 together are the whole
// list, each in input order, and a limit keeps the first targets of a shard.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crawler/crawl_input.hpp"
#include "tests/fuzz/targets.hpp"

namespace cjcrawl::fuzz {

int crawl_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  (void)crawler::parse_shard(text.substr(0, text.find('\n')));

  const auto input = crawler::parse_crawl_input(text);
  expect(input.targets.size() + input.invalid_lines + input.duplicates + input.skipped_lines +
                 (input.header_line > 0 ? 1 : 0) + input.over_limit ==
             input.lines,
         "every line is counted exactly once");
  expect(input.invalid.size() <= input.invalid_lines && input.invalid.size() <= crawler::kMaxReportedProblems,
         "problems kept are bounded and counted");
  std::set<std::string> keys;
  std::size_t previous_line = 0;
  for (const auto& target : input.targets) {
    expect(keys.insert(target.key).second, "keys are unique");
    expect(target.line > previous_line && target.line <= input.lines, "targets are in input order, in the text");
    previous_line = target.line;
    expect(!target.candidates().empty(), "a target has URLs to try");
  }
  for (const auto& problem : input.invalid) {
    expect(problem.line >= 1 && problem.line <= input.lines, "a problem's line is in the text");
    expect(problem.text.size() <= crawler::kMaxQuotedInputChars + 3, "a quoted line is bounded");
    expect(!problem.reason.empty(), "a problem says why");
  }

  // Shards of 3 partition the targets, each in input order; a limit keeps a shard's first targets.
  std::size_t selected = 0;
  for (std::size_t index = 0; index < 3; ++index) {
    const crawler::Shard shard{index, 3};
    const auto part = crawler::select_targets(input.targets, shard, std::nullopt);
    for (const auto& target : part) expect(crawler::shard_of(target.key, 3) == index, "a shard holds its own keys");
    selected += part.size();
    const auto limited = crawler::select_targets(input.targets, shard, 1);
    expect(limited.size() == std::min<std::size_t>(1, part.size()) && (part.empty() || limited[0].key == part[0].key),
           "a limit keeps a shard's first targets");
    (void)crawler::select_invalid(input.invalid, shard, 1, limited);
  }
  expect(selected == input.targets.size(), "the shards together are the whole list");
  return 0;
}

}  // namespace cjcrawl::fuzz
