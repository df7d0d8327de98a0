// tests/browser/test_docs.cpp — the README's option tables and `--help` cannot drift apart: every
// option a command's --help lists is in a README table marked for that command, with the same range
// and default, and every option such a table lists is one the command accepts.
//
// A table is marked by the HTML comment before it, `<!-- options: check crawl recheck -->`, naming
// the commands it belongs to ("cjcrawl" is the program's own options). Its columns are option,
// range, default and meaning; the range cell is --help's range text exactly (empty when --help shows
// none), and the default cell, when --help shows a default, is that default.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "tests/browser/cli_support.hpp"

namespace {

using testsupport::cjcrawl;

struct OptionDoc {
  std::string range;
  std::optional<std::string> default_value;  // only when --help shows one
};

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::string without_backticks(std::string text) {
  std::erase(text, '`');
  return trim(text);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The long names a --help line or a README cell names ("-o,--output" → "--output").
std::vector<std::string> long_names(const std::string& text) {
  static const std::regex name(R"((?:^|[\s,`])(--[a-z][a-z0-9-]*))");
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator(); ++it)
    names.push_back((*it)[1]);
  return names;
}

// The options `cjcrawl [COMMAND] --help` lists under "Options:", without --help and --verbose
// (documented once for every command).
std::map<std::string, OptionDoc> help_options(const std::string& command) {
  std::vector<std::string> args;
  if (command != "cjcrawl") args.push_back(command);
  args.push_back("--help");
  const auto help = cjcrawl(args);
  REQUIRE(help.exit_code == 0);
  // "  --max-attempts INT:1 to 100 attempts=3", "  --chrome-arg TEXT ...", "  --listen TEXT=127.0.0.1:8080"
  static const std::regex spec(
      R"(^  ((?:-[a-z],)?--[a-z][a-z0-9-]*)(?: [A-Z]+(?: \.\.\.)?(?::([^=]*?))?(?:=(\S+))?)?(?: REQUIRED)?(?:\s{2,}.*)?$)");
  std::map<std::string, OptionDoc> options;
  bool in_options = false;
  for (const auto& line : lines_of(help.out)) {
    if (line.starts_with("Options:")) {
      in_options = true;
      continue;
    }
    if (!line.empty() && line[0] != ' ') in_options = false;
    if (!in_options || !line.starts_with("  -")) continue;
    std::smatch match;
    INFO("--help line: " << line);
    REQUIRE(std::regex_match(line, match, spec));
    const auto names = long_names(match[1].str());
    REQUIRE(names.size() == 1);
    if (names[0] == "--help" || names[0] == "--verbose") continue;
    OptionDoc doc{trim(match[2].str()), std::nullopt};
    if (match[3].matched) doc.default_value = match[3].str();
    options[names[0]] = doc;
  }
  return options;
}

// Every row of every marked README table, by command: option → (range, default cell).
std::map<std::string, std::map<std::string, std::pair<std::string, std::string>>> readme_options() {
  std::ifstream in(std::filesystem::path(CJCRAWL_FIXTURES).parent_path().parent_path() / "README.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex marker(R"(^<!-- options: ([a-z -]+) -->$)");
  std::map<std::string, std::map<std::string, std::pair<std::string, std::string>>> tables;
  std::vector<std::string> commands;
  bool in_table = false;
  for (const auto& line : lines_of(text.str())) {
    std::smatch match;
    if (std::regex_match(line, match, marker)) {
      std::istringstream names(match[1].str());
      commands.assign(std::istream_iterator<std::string>(names), {});
      in_table = false;
      continue;
    }
    if (commands.empty()) continue;
    if (!line.starts_with("|")) {
      if (in_table) commands.clear();  // the table ended
      continue;
    }
    in_table = true;
    // | option | range | default | meaning |  (a cell's "\|" is part of it)
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '|' && line[i - 1] != '\\') {
        cells.push_back(trim(cell));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    INFO("README row: " << line);
    REQUIRE(cells.size() >= 4);
    if (cells[0] == "option" || cells[0].starts_with("---")) continue;
    const auto names = long_names(cells[0]);
    REQUIRE(names.size() == 1);
    for (const auto& command : commands) {
      INFO("command " << command);
      CHECK_FALSE(tables[command].contains(names[0]));
      tables[command][names[0]] = {without_backticks(cells[1]), without_backticks(cells[2])};
    }
  }
  return tables;
}

// The commands `cjcrawl --help` lists, and the program itself.
std::vector<std::string> commands() {
  const auto help = cjcrawl({"--help"});
  std::vector<std::string> names{"cjcrawl"};
  bool in_commands = false;
  for (const auto& line : lines_of(help.out)) {
    if (line.starts_with("Subcommands:")) {
      in_commands = true;
      continue;
    }
    std::istringstream words(line);
    std::string name;
    if (in_commands && line.starts_with("  ") && words >> name) names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("every option --help lists is in the README with its range and default and the reverse", "[cli][docs]") {
  const auto documented = readme_options();
  const auto names = commands();
  REQUIRE(names.size() >= 10);  // the program and its nine commands at least
  for (const auto& command : names) {
    const auto helped = help_options(command);
    const auto found = documented.find(command);
    INFO("command: " << command);
    REQUIRE(found != documented.end());
    const auto& table = found->second;
    for (const auto& [option, doc] : helped) {
      INFO("option " << option << " as --help shows it");
      const auto row = table.find(option);
      CHECK(row != table.end());
      if (row == table.end()) continue;
      CHECK(row->second.first == doc.range);
      if (doc.default_value) CHECK(row->second.second == *doc.default_value);
    }
    for (const auto& [option, row] : table) {
      INFO("option " << option << " as the README lists it");
      CHECK(helped.contains(option));
    }
  }
  // The tables name no command that does not exist.
  for (const auto& [command, table] : documented) {
    INFO("README table for " << command);
    CHECK(std::find(names.begin(), names.end(), command) != names.end());
  }
}

TEST_CASE("a value outside an option's range is refused with the range --help states", "[cli]") {
  // One option of each kind of bound, on the commands that take them.
  struct Case {
    std::vector<std::string> args;
    std::string said;
  };
  const std::vector<Case> cases{
      {{"crawl", "list.txt", "--limit", "0"}, "--limit 0: expected 1 to 1000000000 sites"},
      {{"crawl", "list.txt", "--crawl-id", "-3"}, "--crawl-id -3: expected 1 to 1000000000000"},
      {{"crawl", "list.txt", "--concurrency", "65"}, "--concurrency 65: expected 1 to 64"},
      {{"check", "site.test", "--threshold", "0"}, "--threshold 0: expected 0.001 to 10000 %"},
      {{"check", "site.test", "--deadline", "1e9"}, "--deadline 1e9: expected 1 to 3600 seconds"},
      {{"check", "site.test", "--sample-period", "ten"}, "--sample-period ten: not a number"},
      {{"serve", "--max-connections", "0"}, "--max-connections 0: expected 1 to 100000"},
      {{"import", "x.txt", "--confidence", "101"}, "--confidence 101: expected 0 to 100"},
      {{"crawls", "--window", "0"}, "--window 0: expected 1 to 1440 minutes"},
  };
  for (const auto& c : cases) {
    const auto result = cjcrawl(c.args);
    INFO(c.said << " → " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(c.said) != std::string::npos);
  }
  // A threshold above one core is demand, and legitimate.
  const auto help = cjcrawl({"check", "--help"});
  CHECK(help.out.find("--threshold FLOAT:0.001 to 10000 %=50") != std::string::npos);
}
