// tests/unit/test_host_rules.cpp — Chrome's --host-resolver-rules as cjcrawl's egress proxy reads and
// applies them: the fixtures' rule, ports, wildcards, case, IPv6, rule order, every refusal, the bounds,
// the canonical text, and a wildcard matcher that hostile patterns cannot slow down. Pure: no sockets.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "util/host_rules.hpp"
#include "util/text.hpp"

using util::HostRule;
using util::HostRules;

namespace {

// The rule every browser test and the demo use.
constexpr std::string_view fixture_rules = "MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";

HostRules parsed(std::string_view text) {
  INFO(text);
  auto rules = HostRules::parse(text);
  if (!rules) FAIL(rules.error().describe());
  return std::move(rules).value();
}

// "host:port", "not found" or "unchanged": what the rules make of a request, in one comparable word.
std::string outcome(const HostRules& rules, std::string_view host, std::uint16_t port) {
  const auto rewrite = rules.rewrite(host, port);
  if (!rewrite) return "unchanged";
  if (rewrite->not_found) return "not found";
  return rewrite->host + ":" + std::to_string(rewrite->port);
}

struct Case {
  std::string host;
  std::uint16_t port;
  std::string expected;
};

void check_outcomes(std::string_view text, const std::vector<Case>& cases) {
  const auto rules = parsed(text);
  for (const auto& c : cases) {
    INFO(text << " on " << c.host << ":" << c.port);
    CHECK(outcome(rules, c.host, c.port) == c.expected);
  }
}

// The error parse gives for `text`; fails the test when it parses.
std::string refusal(std::string_view text) {
  INFO(text);
  const auto rules = HostRules::parse(text);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.error().code == util::ErrorCode::invalid_argument);
  return rules.error().describe();
}

// The obvious exponential matcher, for differential testing on short strings.
bool reference_match(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '*') {
    for (std::size_t skip = 0; skip <= text.size(); ++skip) {
      if (reference_match(pattern.substr(1), text.substr(skip))) return true;
    }
    return false;
  }
  if (text.empty()) return false;
  const bool same = pattern.front() == '?' || util::ascii_lower(pattern.front()) == util::ascii_lower(text.front());
  return same && reference_match(pattern.substr(1), text.substr(1));
}

}  // namespace

TEST_CASE("the fixtures' rules map test sites to loopback and nothing else resolves", "[host_rules]") {
  check_outcomes(fixture_rules, {
                                    {"site.test", 8080, "127.0.0.1:8080"},
                                    {"pool.miner.test", 443, "127.0.0.1:443"},
                                    {"example.com", 80, "not found"},
                                    {"test", 80, "not found"},  // "*.test" needs the dot
                                    {"127.0.0.1", 8080, "unchanged"},
                                    {"localhost", 80, "not found"},
                                    {"", 80, "not found"},
                                });
  const auto rules = parsed(fixture_rules);
  REQUIRE(rules.rules().size() == 3);
  CHECK(rules.rules()[0] == HostRule{HostRule::Kind::map, "*.test", "127.0.0.1", std::nullopt});
  CHECK(rules.rules()[1] == HostRule{HostRule::Kind::map, "*", "~NOTFOUND", std::nullopt});
  CHECK(rules.rules()[2] == HostRule{HostRule::Kind::exclude, "127.0.0.1", "", std::nullopt});
  const auto not_found = rules.rewrite("example.com", 80);
  REQUIRE(not_found.has_value());
  CHECK(not_found->not_found);
  CHECK(not_found->host == "~NOTFOUND");
  CHECK_FALSE(rules.empty());
  CHECK(parsed("").empty());
  CHECK_FALSE(parsed("").rewrite("example.com", 80).has_value());
}

TEST_CASE("a replacement port replaces the request's port and no port keeps it", "[host_rules]") {
  check_outcomes("MAP a.test b.test:8443, MAP c.test 10.0.0.1, MAP d.test 10.0.0.2:1, MAP e.test e.test:65535",
                 {
                     {"a.test", 80, "b.test:8443"},
                     {"a.test", 443, "b.test:8443"},
                     {"c.test", 80, "10.0.0.1:80"},
                     {"c.test", 443, "10.0.0.1:443"},
                     {"d.test", 443, "10.0.0.2:1"},
                     {"e.test", 80, "e.test:65535"},
                 });
}

TEST_CASE("a pattern with a port matches that port only", "[host_rules]") {
  check_outcomes(
      "MAP *.test:8080 127.0.0.1:9000, MAP pool.test:* 127.0.0.2, MAP *:3333 127.0.0.3, MAP [::1]:80 v6.test",
      {
          {"site.test", 8080, "127.0.0.1:9000"},
          {"site.test", 80, "unchanged"},
          {"pool.test", 1234, "127.0.0.2:1234"},
          {"example.com", 3333, "127.0.0.3:3333"},
          {"example.com", 3334, "unchanged"},
          // An IPv6 host is matched as "[host]:port", as Chrome writes it.
          {"::1", 80, "v6.test:80"},
          {"[::1]", 80, "v6.test:80"},
          {"::1", 81, "unchanged"},
      });
}

TEST_CASE("as in Chrome a MAP pattern is tried against the host and then against host and port", "[host_rules]") {
  // A pattern without ':' can still match through the port ("*0" catches anything on port 80), and one
  // with ':' can match an IPv6 host by itself.
  check_outcomes("MAP *0 a.test, MAP fe80::* b.test, MAP ::1 c.test", {
                                                                          {"example.com", 80, "a.test:80"},
                                                                          {"example.com", 443, "unchanged"},
                                                                          {"fe80::1", 443, "b.test:443"},
                                                                          {"::1", 443, "c.test:443"},
                                                                          {"[::1]", 443, "c.test:443"},
                                                                      });
  // An EXCLUDE pattern is tried against the host only.
  check_outcomes("EXCLUDE *:80, MAP * ~NOTFOUND", {{"example.com", 80, "not found"}});
}

TEST_CASE("'?' matches exactly one character and '*' any run", "[host_rules]") {
  check_outcomes("MAP s?.test 127.0.0.1, MAP *.a*.test 127.0.0.2, MAP x*y 127.0.0.3",
                 {
                     {"s1.test", 80, "127.0.0.1:80"},
                     {"s.test", 80, "unchanged"},
                     {"s12.test", 80, "unchanged"},
                     {"www.a.test", 80, "127.0.0.2:80"},
                     {"www.abc.test", 80, "127.0.0.2:80"},
                     {"xy", 80, "127.0.0.3:80"},
                     {"x.y", 80, "127.0.0.3:80"},
                     {"xy.z", 80, "unchanged"},
                 });
  const std::vector<std::tuple<std::string, std::string, bool>> table{
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything", true},
      {"?", "", false},
      {"?", "a", true},
      {"??", "a", false},
      {"a*", "a", true},
      {"*a", "ba", true},
      {"*a", "ab", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "acb", false},
      {"**", "x", true},
      {"*?*", "", false},
      {"*.test", ".test", true},
      {"*.test", "test", false},
      {"*.TEST", "a.Test", true},
      {"a?c", "ABC", true},
      {"*ab", "aab", true},
  };
  for (const auto& [pattern, text, expected] : table) {
    INFO("'" << pattern << "' on '" << text << "'");
    CHECK(util::match_host_pattern(pattern, text) == expected);
  }
}

TEST_CASE("the wildcard matcher agrees with a plain recursive one", "[host_rules]") {
  std::mt19937 random(17);
  const std::string pattern_alphabet = "ab*?";
  const std::string text_alphabet = "abAB";
  const auto draw = [&](const std::string& alphabet, std::size_t length) {
    std::string out;
    for (std::size_t i = 0; i < length; ++i) out.push_back(alphabet[random() % alphabet.size()]);
    return out;
  };
  for (int round = 0; round < 20000; ++round) {
    const auto pattern = draw(pattern_alphabet, random() % 7);
    const auto text = draw(text_alphabet, random() % 8);
    INFO("'" << pattern << "' on '" << text << "'");
    REQUIRE(util::match_host_pattern(pattern, text) == reference_match(pattern, text));
  }
}

TEST_CASE("patterns keywords and replacements ignore ASCII case", "[host_rules]") {
  const auto rules =
      parsed("map *.TEST Loopback.Test, Exclude SKIP.test, mAp A.example ~notfound, MAP b.example ^NOTFOUND");
  REQUIRE(rules.rules().size() == 4);
  CHECK(rules.rules()[0].pattern == "*.test");
  CHECK(rules.rules()[0].replacement == "loopback.test");
  CHECK(rules.rules()[1].pattern == "skip.test");
  CHECK(rules.rules()[2].replacement == "~NOTFOUND");
  CHECK(rules.rules()[3].replacement == "~NOTFOUND");
  CHECK(outcome(rules, "SITE.Test", 80) == "loopback.test:80");
  CHECK(outcome(rules, "Skip.TEST", 80) == "unchanged");
  CHECK(outcome(rules, "a.EXAMPLE", 80) == "not found");
  CHECK(outcome(rules, "b.example", 80) == "not found");
}

TEST_CASE("a bracketed IPv6 replacement is stored without brackets", "[host_rules]") {
  const auto rules = parsed("MAP a.test [::1]:8080, MAP b.test [FE80:0:0:0:0:0:0:1], MAP c.test [::ffff:127.0.0.1]");
  REQUIRE(rules.rules().size() == 3);
  CHECK(rules.rules()[0].replacement == "::1");
  CHECK(rules.rules()[0].port == std::optional<std::uint16_t>(8080));
  CHECK(rules.rules()[1].replacement == "fe80::1");
  CHECK_FALSE(rules.rules()[1].port.has_value());
  CHECK(rules.rules()[2].replacement == "::ffff:127.0.0.1");
  CHECK(outcome(rules, "a.test", 80) == "::1:8080");
  CHECK(outcome(rules, "b.test", 443) == "fe80::1:443");
  CHECK(rules.to_string() == "MAP a.test [::1]:8080, MAP b.test [fe80::1], MAP c.test [::ffff:127.0.0.1]");
}

TEST_CASE("a host with a trailing dot matches as without it", "[host_rules]") {
  check_outcomes(fixture_rules, {
                                    {"site.test.", 8080, "127.0.0.1:8080"},
                                    {"SITE.TEST.", 80, "127.0.0.1:80"},
                                    {"127.0.0.1.", 80, "unchanged"},
                                    {"example.com.", 80, "not found"},
                                });
  check_outcomes("MAP site.test:8080 127.0.0.2", {{"site.test.", 8080, "127.0.0.2:8080"}});
}

TEST_CASE("the first MAP rule wins and an EXCLUDE wins wherever it stands", "[host_rules]") {
  check_outcomes("MAP a.test 127.0.0.1, MAP *.test 127.0.0.2, MAP a.test 127.0.0.3",
                 {{"a.test", 80, "127.0.0.1:80"}, {"b.test", 80, "127.0.0.2:80"}});
  check_outcomes("MAP * 127.0.0.9, MAP a.test 127.0.0.1", {{"a.test", 80, "127.0.0.9:80"}});
  // The EXCLUDE last still beats a MAP before it, and it beats every MAP, not only the first.
  check_outcomes("MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE keep.test, EXCLUDE *.example",
                 {
                     {"keep.test", 80, "unchanged"},
                     {"other.test", 80, "127.0.0.1:80"},
                     {"www.example", 80, "unchanged"},
                     {"example.org", 80, "not found"},
                 });
  check_outcomes("EXCLUDE keep.test, MAP *.test 127.0.0.1", {{"keep.test", 80, "unchanged"}});
}

TEST_CASE("whitespace and empty rules are tolerated", "[host_rules]") {
  const auto rules = parsed("  ,MAP\t*.test   127.0.0.1 ,, \n EXCLUDE  x.test\n,  ");
  REQUIRE(rules.rules().size() == 2);
  CHECK(rules.to_string() == "MAP *.test 127.0.0.1, EXCLUDE x.test");
  CHECK(parsed(" , ,, ").empty());
}

TEST_CASE("every malformed rule is refused with the rule named and what was expected", "[host_rules]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      // Unknown keywords.
      {"FOO a b", "host rule 1 'FOO a b': unknown keyword 'FOO'"},
      {"MAP *.test 127.0.0.1, REDIRECT a b", "host rule 2 'REDIRECT a b': unknown keyword"},
      {"MAPS a b", "unknown keyword 'MAPS'"},
      // Wrong number of words.
      {"MAP", "MAP takes a pattern and a replacement"},
      {"MAP *.test", "not 1 word"},
      {"MAP a b c", "not 3 words (rules are separated by ',')"},
      {"MAP *.test 127.0.0.1 MAP * ~NOTFOUND", "not 5 words (rules are separated by ',')"},
      {"EXCLUDE", "EXCLUDE takes one pattern"},
      {"EXCLUDE a b", "not 2 words (rules are separated by ',')"},
      // Bad ports, in a replacement and in a pattern.
      {"MAP a.test b.test:0", "the port '0' is not a number from 1 to 65535"},
      {"MAP a.test b.test:65536", "the port '65536'"},
      {"MAP a.test b.test:", "the port ''"},
      {"MAP a.test b.test:http", "the port 'http'"},
      {"MAP a.test b.test:-1", "the port '-1'"},
      {"MAP a.test [::1]:0", "the port '0'"},
      {"MAP a.test [::1]:99999999999999999999", "the port '99999999999999999999'"},
      {"MAP a.test:0 b.test", "the port '0'"},
      {"EXCLUDE a.test:70000", "the port '70000'"},
      {"MAP a.test: b.test", "the port ''"},
      // Empty patterns.
      {"MAP :80 b.test", "the pattern ':80' is empty before its port"},
      {"EXCLUDE :*", "is empty before its port"},
      // Patterns Chrome would read otherwise or no host can match.
      {"MAP a\\*.test b.test", "escapes are not supported"},
      {"MAP b\xc3\xbc"
       "cher.de b.test",
       "outside printable ASCII"},
      // Replacements that are no host and no address.
      {"MAP a.test ::1", "an IPv6 address goes in brackets"},
      {"MAP a.test [::1", "opens a '[' it does not close"},
      {"MAP a.test [not-v6]", "is no IPv6 address"},
      {"MAP a.test [fe80::1%eth0]", "is no IPv6 address"},
      {"MAP a.test [::1]80", "after ']': expected ':PORT' or nothing"},
      {"MAP a.test :80", "has no host"},
      {"MAP a.test user@b.test", "is no host name"},
      {"MAP a.test b/c", "is no host name"},
      {"MAP a.test ~FOUND", "is no host name"},
      {"MAP a.test " + std::string(255, 'a'), "is no host name"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK_THAT(refusal(text), Catch::Contains(expected));
  }
}

TEST_CASE("a refused rule is quoted terminal-safe and cut short", "[host_rules]") {
  const auto escape = refusal("MAP \x1b[31mred\x1b[0m 127.0.0.1 x");
  CHECK(escape.find('\x1b') == std::string::npos);
  CHECK_THAT(escape, Catch::Contains("\\x1b[31m"));
  const auto long_rule = refusal("FROB " + std::string(5000, 'a'));
  CHECK(long_rule.size() < 400);
  CHECK_THAT(long_rule, Catch::Contains("..."));
}

TEST_CASE("the rules text and the rule count are bounded", "[host_rules]") {
  // At the limits: accepted.
  std::string rules;
  for (std::size_t i = 0; i < util::max_host_rules; ++i) rules += "EXCLUDE a.test,";
  REQUIRE(rules.size() <= util::max_host_rules_text);
  CHECK(parsed(rules).rules().size() == util::max_host_rules);
  // One rule more: refused.
  CHECK_THAT(refusal(rules + "EXCLUDE b.test"), Catch::Contains("more than 1024 host rules"));
  // Empty rules do not count.
  CHECK(parsed(rules + ",,, ,").rules().size() == util::max_host_rules);
  // Text over 64 KiB: refused before it is read, even when it is only padding.
  const std::string padded = "MAP *.test 127.0.0.1" + std::string(util::max_host_rules_text, ' ');
  CHECK_THAT(refusal(padded), Catch::Contains("at most 65536 are read"));
  CHECK(parsed(std::string(util::max_host_rules_text, ' ')).empty());
}

TEST_CASE("to_string gives text that parses to the same rules", "[host_rules]") {
  const std::vector<std::string> texts{
      std::string(fixture_rules),
      "map *.TEST:8080 Site.Test:9000, exclude [::1]:80, MAP fe80::* [FE80::2]:443, MAP a ^notfound:53",
      "MAP ?.test 10.0.0.1:1, EXCLUDE *, MAP * [::ffff:1.2.3.4]",
      "",
  };
  for (const auto& text : texts) {
    INFO(text);
    const auto rules = parsed(text);
    const auto canonical = rules.to_string();
    INFO(canonical);
    const auto again = parsed(canonical);
    CHECK(again.rules() == rules.rules());
    CHECK(again.to_string() == canonical);
  }
  CHECK(parsed(fixture_rules).to_string() == fixture_rules);
  CHECK(parsed("map a [::1]:80, exclude B").to_string() == "MAP a [::1]:80, EXCLUDE b");
}

TEST_CASE("a pathological pattern against a long host finishes quickly", "[host_rules]") {
  const std::string text(100'000, 'a');
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(util::match_host_pattern("*a*a*a*a*a*a*a*b", text));
  CHECK(util::match_host_pattern("*a*a*a*a*a*a*a*", text));
  CHECK_FALSE(util::match_host_pattern("*a*a*a*a*a*a*a*?" + std::string(20, 'a') + "b", text));
  // The same through a rule, with a host as long as a name gets.
  const auto rules = parsed("MAP *a*a*a*a*a*a*a*a*a*a*a*a*b 127.0.0.1, MAP ?*?*?*?*?*?*?*?*?*?*?*?*?*c 127.0.0.2");
  CHECK(outcome(rules, std::string(253, 'a'), 80) == "unchanged");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(2));
}
