// tests/unit/test_crawl_input.cpp — what `cjcrawl crawl` reads as its list of sites: the two formats,
// what is skipped or refused (with line numbers), duplicates, and the stable --shard / --limit split.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "crawler/crawl_input.hpp"

using crawler::CrawlInput;
using crawler::CrawlTarget;
using crawler::InputFormat;
using crawler::parse_crawl_input;
using crawler::Shard;

namespace {

std::vector<std::string> inputs_of(const std::vector<CrawlTarget>& targets) {
  std::vector<std::string> inputs;
  for (const auto& target : targets) inputs.push_back(target.input);
  return inputs;
}

std::vector<std::size_t> lines_of(const std::vector<CrawlTarget>& targets) {
  std::vector<std::size_t> lines;
  for (const auto& target : targets) lines.push_back(target.line);
  return lines;
}

// Every line is accounted for exactly once.
std::size_t accounted(const CrawlInput& input) {
  return input.skipped_lines + (input.header_line ? 1 : 0) + input.invalid_lines + input.duplicates + input.over_limit +
         input.targets.size();
}

// `count` distinct bare hosts, one per line.
std::string many_sites(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += "site" + std::to_string(i) + ".example\n";
  return text;
}

}  // namespace

TEST_CASE("the format is detected from the first lines", "[crawl_input]") {
  struct Case {
    std::string name;
    std::string text;
    InputFormat format;
    std::size_t header_line;
    std::vector<std::string> targets;
    std::size_t invalid;
  };
  const std::vector<Case> cases{
      {"Tranco",
       "1,google.com\n2,facebook.com\n3,microsoft.com\n",
       InputFormat::ranked_csv,
       0,
       {"google.com", "facebook.com", "microsoft.com"},
       0},
      {"header line",
       "rank,domain\n1,a.example\n2,b.example\n",
       InputFormat::ranked_csv,
       1,
       {"a.example", "b.example"},
       0},
      {"header after a comment",
       "# top sites\nRank, Site\n1,a.example\n",
       InputFormat::ranked_csv,
       2,
       {"a.example"},
       0},
      {"quoted fields",
       "\"1\",\"a.example\"\n\"2\", \"https://b.example/x,y\"\n",
       InputFormat::ranked_csv,
       0,
       {"a.example", "https://b.example/x,y"},
       0},
      {"plain lines", "a.example\nhttps://b.example/\n", InputFormat::lines, 0, {"a.example", "https://b.example/"}, 0},
      {"mostly rows, one plain line",
       "1,a.example\nb.example\n3,c.example\n",
       InputFormat::ranked_csv,
       0,
       {"a.example", "c.example"},
       1},
      {"mostly lines, one row",
       "a.example\n2,b.example\nc.example\n",
       InputFormat::lines,
       0,
       {"a.example", "c.example"},
       1},
      {"half rows is not most", "1,a.example\nb.example\n", InputFormat::lines, 0, {"b.example"}, 1},
      {"only the first 10 lines decide",
       many_sites(10) + "11,x.example\n12,y.example\n" +
           "13,z.example\n14,w.example\n15,v.example\n16,u.example\n17,t.example\n18,s.example\n19,r.example\n20,q."
           "example\n"
           "21,p.example\n",
       InputFormat::lines, 0, inputs_of(parse_crawl_input(many_sites(10)).targets), 11},
      {"a header without rows is a bad host", "rank,domain\nexample.com\n", InputFormat::lines, 0, {"example.com"}, 1},
      {"empty", "", InputFormat::lines, 0, {}, 0},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto input = parse_crawl_input(c.text);
    CHECK(input.format == c.format);
    CHECK(input.header_line == c.header_line);
    CHECK(inputs_of(input.targets) == c.targets);
    CHECK(input.invalid_lines == c.invalid);
    CHECK(accounted(input) == input.lines);
  }
}

TEST_CASE("ranked rows keep their rank, the wrong format for a line says which was detected", "[crawl_input]") {
  const auto ranked = parse_crawl_input("rank,domain\n1,a.example\n2,b.example\nc.example\n");
  REQUIRE(ranked.targets.size() == 2);
  CHECK(ranked.targets[0].rank == 1);
  CHECK(ranked.targets[1].rank == 2);
  CHECK(ranked.targets[1].line == 3);
  REQUIRE(ranked.invalid.size() == 1);
  CHECK(ranked.invalid[0].line == 4);
  CHECK(ranked.invalid[0].reason.find("read as ranked CSV") != std::string::npos);

  const auto plain = parse_crawl_input("a.example\n2,b.example\nc.example\n");
  CHECK(plain.targets[0].rank == 0);
  REQUIRE(plain.invalid.size() == 1);
  CHECK(plain.invalid[0].line == 2);
  CHECK(plain.invalid[0].text == "2,b.example");
  CHECK(plain.invalid[0].reason.find("one URL or host per line") != std::string::npos);
}

TEST_CASE("comments, blank lines, CR LF and a byte order mark are skipped", "[crawl_input]") {
  const auto input = parse_crawl_input(
      "\xEF\xBB\xBF# my list\r\n"
      "\r\n"
      "  example.com  \r\n"
      "https://b.example/#top # the fragment stays, the comment goes\r\n"
      "\t\r\n"
      "   # indented comment\r\n"
      "c.example\t# trailing comment");
  CHECK(input.format == InputFormat::lines);
  CHECK(inputs_of(input.targets) == std::vector<std::string>{"example.com", "https://b.example/#top", "c.example"});
  CHECK(lines_of(input.targets) == std::vector<std::size_t>{3, 4, 7});
  CHECK(input.targets[1].key == "https://b.example/");
  CHECK(input.skipped_lines == 4);
  CHECK(input.invalid.empty());
  CHECK(input.lines == 7);
  CHECK(accounted(input) == input.lines);

  const auto ranked = parse_crawl_input("\xEF\xBB\xBFrank,domain\r\n1,a.example\r\n# comment\r\n2,b.example\r\n");
  CHECK(ranked.format == InputFormat::ranked_csv);
  CHECK(ranked.header_line == 1);
  CHECK(inputs_of(ranked.targets) == std::vector<std::string>{"a.example", "b.example"});
}

TEST_CASE("bare hosts are tried over https, then http, URLs as given", "[crawl_input]") {
  const auto input = parse_crawl_input("example.com\nhttp://b.example/\n1.2.3.4:8080\n");
  REQUIRE(input.targets.size() == 3);
  CHECK(input.targets[0].candidates() == std::vector<std::string>{"https://example.com/", "http://example.com/"});
  CHECK(input.targets[1].candidates() == std::vector<std::string>{"http://b.example/"});
  CHECK(input.targets[2].candidates() == std::vector<std::string>{"https://1.2.3.4:8080/", "http://1.2.3.4:8080/"});
  const auto ranked = parse_crawl_input("1,example.com\n");
  REQUIRE(ranked.targets.size() == 1);
  CHECK(ranked.targets[0].candidates() == std::vector<std::string>{"https://example.com/", "http://example.com/"});
}

TEST_CASE("invalid lines are reported with their number, text and reason, and parsing goes on", "[crawl_input]") {
  const std::string long_line = "https://a.example/" + std::string(9000, 'a');
  const std::vector<std::pair<std::string, std::string>> cases{
      {"javascript:alert(1)", "unsupported scheme 'javascript'"},
      {"file:///etc/passwd", "unsupported scheme 'file'"},
      {"ftp://example.com/", "unsupported scheme 'ftp'"},
      {"exa mple.com", "control characters or spaces"},
      {"http://a.example/\x1b[31m", "control characters"},
      {long_line, "line longer than 8192 bytes"},
      {"https://a,b.example/", "',' is not allowed in a host name"},  // the RFC 1123 check (issue 16) comes first
      {"https://%61.example/", "not a DNS name"},
      {"https://a.example:99999/", "port '99999' is out of range"},
      {"a.example:0", "port '0' is out of range"},
      {"https://[v1.x]/", "IPvFuture"},
      {"http://user:pass@a.example/", "credentials"},
  };
  std::string text = "first.example\n";
  for (std::size_t i = 0; i < cases.size(); ++i) text += cases[i].first + "\nok" + std::to_string(i) + ".example\n";
  const auto input = parse_crawl_input(text);
  REQUIRE(input.invalid.size() == cases.size());
  CHECK(input.invalid_lines == cases.size());
  CHECK(input.targets.size() == cases.size() + 1);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].first.substr(0, 60));
    const auto& problem = input.invalid[i];
    CHECK(problem.line == 2 + 2 * i);
    CHECK(problem.reason.find(cases[i].second) != std::string::npos);
    CHECK(problem.text.size() <= crawler::kMaxQuotedInputChars + 3);
    CHECK(problem.text.find('\x1b') == std::string::npos);
  }
  CHECK(input.invalid[0].text == "javascript:alert(1)");
  CHECK(input.invalid[4].text == "http://a.example/\\x1b[31m");
  CHECK(input.invalid[5].text.ends_with("aaa..."));
  CHECK(accounted(input) == input.lines);
}

TEST_CASE("ranked rows with a bad rank or no domain are invalid", "[crawl_input]") {
  const auto input = parse_crawl_input("1,a.example\n2,\n" + std::string(19, '9') + ",b.example\n4,javascript:x\n");
  CHECK(input.format == InputFormat::ranked_csv);
  REQUIRE(input.invalid.size() == 3);
  CHECK(input.invalid[0].reason == "no domain after the rank");
  CHECK(input.invalid[1].reason.find("rank longer than 18 digits") != std::string::npos);
  CHECK(input.invalid[2].line == 4);
  CHECK(input.invalid[2].reason.find("unsupported scheme") != std::string::npos);
}

TEST_CASE("a site named twice is crawled once, at its first line", "[crawl_input]") {
  const auto input = parse_crawl_input(
      "example.com\n"                 // 1: key https://example.com/
      "Example.COM\n"                 // duplicate
      "https://example.com/\n"        // duplicate
      "https://example.com:443/#x\n"  // duplicate: default port, fragment
      "HTTPS://EXAMPLE.com:0443\n"    // duplicate: port as a number, empty path
      "example.com:443\n"             // duplicate: https is tried first, on its default port
      "http://example.com/\n"         // 7: http only, another site
      "http://example.com:80\n"       // duplicate of line 7
      "example.com:80\n"              // 9: https on port 80
      "https://example.com:8443/\n"   // 10
      "https://example.com:08443/\n"  // duplicate of line 10
      "https://example.com/a\n"       // 12: the path is part of the site
      "1,example.com\n");             // a row in a plain list: invalid, not a duplicate
  CHECK(lines_of(input.targets) == std::vector<std::size_t>{1, 7, 9, 10, 12});
  std::vector<std::string> keys;
  for (const auto& target : input.targets) keys.push_back(target.key);
  CHECK(keys == std::vector<std::string>{"https://example.com/", "http://example.com/", "https://example.com:80/",
                                         "https://example.com:8443/", "https://example.com/a"});
  CHECK(input.targets[0].input == "example.com");
  CHECK(input.duplicates == 7);
  CHECK(input.invalid_lines == 1);
  CHECK(accounted(input) == input.lines);
}

TEST_CASE("invalid lines are counted past the reporting cap", "[crawl_input]") {
  std::string text;
  for (std::size_t i = 0; i < crawler::kMaxReportedProblems + 5; ++i) text += "javascript:x\n";
  text += "example.com\n";
  const auto input = parse_crawl_input(text);
  CHECK(input.invalid.size() == crawler::kMaxReportedProblems);
  CHECK(input.invalid_lines == crawler::kMaxReportedProblems + 5);
  CHECK(input.targets.size() == 1);
}

TEST_CASE("hostile bytes never reach a report unescaped", "[crawl_input]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"plain text", "plain text"},
      {std::string("nul\0byte", 8), "nul\\x00byte"},
      {"tab\there", "tab\\x09here"},
      {"caf\xc3\xa9", "caf\\xc3\\xa9"},
      {"back\\slash", "back\\x5cslash"},
      {std::string(200, 'a'), std::string(crawler::kMaxQuotedInputChars, 'a') + "..."},
      {std::string(119, 'a') + "\x01", std::string(119, 'a') + "..."},
  };
  for (const auto& [text, quoted] : cases) {
    INFO(text.substr(0, 40));
    CHECK(crawler::quote_input(text) == quoted);
  }
}

TEST_CASE("shard I/N is 0-based and says so when wrong", "[crawl_input]") {
  struct Valid {
    std::string text;
    std::size_t index;
    std::size_t count;
  };
  for (const auto& c : std::vector<Valid>{
           {"0/4", 0, 4}, {" 3/4 ", 3, 4}, {"0/1", 0, 1}, {"2 / 7", 2, 7}, {"999999/1000000", 999999, 1000000}}) {
    INFO(c.text);
    const auto shard = crawler::parse_shard(c.text);
    REQUIRE(shard.ok());
    CHECK(shard->index == c.index);
    CHECK(shard->count == c.count);
  }
  const std::vector<std::pair<std::string, std::string>> invalid{
      {"4/4", "counted from 0, so they are 0/4 to 3/4"},
      {"1/0", "the count must be 1 to 1000000"},
      {"0/1000001", "the count must be 1 to 1000000"},
      {"", "expected I/N"},
      {"4", "expected I/N"},
      {"a/b", "expected I/N"},
      {"-1/4", "expected I/N"},
      {"1/4/5", "expected I/N"},
      {"1/", "expected I/N"},
      {"00000000001/4", "expected I/N"},
  };
  for (const auto& [text, message] : invalid) {
    INFO(text);
    const auto shard = crawler::parse_shard(text);
    REQUIRE_FALSE(shard.ok());
    CHECK(shard.error().code == util::ErrorCode::invalid_argument);
    CHECK(shard.error().message.find(message) != std::string::npos);
  }
  CHECK_FALSE(crawler::parse_shard("9/3").ok());
}

TEST_CASE("shards split the sites exactly and never move a site", "[crawl_input]") {
  // Fixed assignments: the first 8 bytes of SHA-256(key) mod N, as `sha256sum` computes them. A change
  // here would move sites between the shards of crawls already under way.
  struct Fixed {
    std::string key;
    std::size_t count;
    std::size_t shard;
  };
  for (const auto& c : std::vector<Fixed>{{"https://example.com/", 4, 1},
                                          {"https://example.com/", 7, 5},
                                          {"http://example.com/", 4, 3},
                                          {"http://example.com/", 7, 0},
                                          {"https://google.com/", 4, 2},
                                          {"https://google.com/", 1000000, 562570},
                                          {"https://coinhive.com/", 2, 0},
                                          {"https://coinhive.com/", 1, 0}}) {
    INFO(c.key << " of " << c.count);
    CHECK(crawler::shard_of(c.key, c.count) == c.shard);
  }

  const auto all = parse_crawl_input(many_sites(1000)).targets;
  REQUIRE(all.size() == 1000);
  for (const std::size_t count : {1, 2, 3, 4, 7}) {
    INFO(count << " shards");
    std::vector<std::size_t> union_lines;
    for (std::size_t index = 0; index < count; ++index) {
      const auto shard = crawler::select_targets(all, Shard{index, count}, std::nullopt);
      CHECK(shard.size() > 1000 / count / 2);  // roughly even
      for (const auto& target : shard) CHECK(crawler::shard_of(target.key, count) == index);
      const auto lines = lines_of(shard);
      CHECK(std::is_sorted(lines.begin(), lines.end()));  // input order kept
      union_lines.insert(union_lines.end(), lines.begin(), lines.end());
    }
    std::sort(union_lines.begin(), union_lines.end());
    CHECK(union_lines == lines_of(all));  // every site in exactly one shard
  }
}

TEST_CASE("limit applies after the shard, in input order", "[crawl_input]") {
  const auto all = parse_crawl_input(many_sites(100)).targets;
  const auto shard = crawler::select_targets(all, Shard{1, 4}, std::nullopt);
  REQUIRE(shard.size() > 5);
  const auto limited = crawler::select_targets(all, Shard{1, 4}, 5);
  const auto shard_lines = lines_of(shard);
  CHECK(lines_of(limited) == std::vector<std::size_t>(shard_lines.begin(), shard_lines.begin() + 5));
  CHECK(lines_of(crawler::select_targets(all, std::nullopt, 3)) == std::vector<std::size_t>{1, 2, 3});
  CHECK(crawler::select_targets(all, std::nullopt, 0).empty());
  CHECK(crawler::select_targets(all, std::nullopt, 1000).size() == 100);
  CHECK(crawler::select_targets(all, std::nullopt, std::nullopt).size() == 100);
}

TEST_CASE("the input digest is the SHA-256 of the bytes as read", "[crawl_input]") {
  CHECK(crawler::input_digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(crawler::input_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(crawler::input_digest("a.example\n") != crawler::input_digest("a.example\r\n"));
}

TEST_CASE("read_crawl_input reads a file and names it when it cannot", "[crawl_input]") {
  const auto directory = std::filesystem::temp_directory_path() / ("cjcrawl-crawl-input-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const auto file = directory / "list.txt";
  const std::string text = "1,a.example\r\n2,b.example\r\n";
  std::ofstream(file, std::ios::binary) << text;

  const auto read = crawler::read_crawl_input(file.string());
  REQUIRE(read.ok());
  CHECK(*read == text);

  const auto missing = crawler::read_crawl_input((directory / "missing.txt").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("missing.txt") != std::string::npos);
  CHECK(missing.error().message.find("No such file") != std::string::npos);

  const auto folder = crawler::read_crawl_input(directory.string());
  REQUIRE_FALSE(folder.ok());
  CHECK(folder.error().message.find(directory.string()) != std::string::npos);
  CHECK(folder.error().message.find("directory") != std::string::npos);

  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
}

TEST_CASE("invalid lines go with the selection: each in exactly one shard, and only before a limit's last site",
          "[crawl_input]") {
  std::string text;
  for (int i = 1; i <= 40; ++i)
    text += (i % 4 == 0 ? "not a site " + std::to_string(i) : "site" + std::to_string(i) + ".example") + "\n";
  const auto parsed = parse_crawl_input(text);
  REQUIRE(parsed.invalid.size() == 10);
  auto invalid_lines = [](const std::vector<crawler::InputProblem>& problems) {
    std::vector<std::size_t> out;
    for (const auto& problem : problems) out.push_back(problem.line);
    return out;
  };
  // Without shard or limit: all of them.
  CHECK(crawler::select_invalid(parsed.invalid, std::nullopt, std::nullopt, parsed.targets).size() == 10);
  // Shards: each invalid line in exactly one of them.
  std::vector<std::size_t> union_lines;
  for (std::size_t index = 0; index < 3; ++index) {
    const auto targets = crawler::select_targets(parsed.targets, Shard{index, 3}, std::nullopt);
    const auto lines = invalid_lines(crawler::select_invalid(parsed.invalid, Shard{index, 3}, std::nullopt, targets));
    union_lines.insert(union_lines.end(), lines.begin(), lines.end());
  }
  std::sort(union_lines.begin(), union_lines.end());
  CHECK(union_lines == invalid_lines(parsed.invalid));
  // A limit of 5 sites ends at line 6 (line 4 is invalid): only line 4 comes along.
  const auto five = crawler::select_targets(parsed.targets, std::nullopt, 5);
  CHECK(invalid_lines(crawler::select_invalid(parsed.invalid, std::nullopt, 5, five)) == std::vector<std::size_t>{4});
  CHECK(crawler::select_invalid(parsed.invalid, std::nullopt, 0, {}).empty());
}
