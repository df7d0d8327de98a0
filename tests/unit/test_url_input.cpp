// tests/unit/test_url_input.cpp — what `check` accepts as a site, and how it normalises it.
#include <catch2/catch.hpp>

#include "crawler/url_input.hpp"

using crawler::parse_input;

TEST_CASE("accepted inputs and their candidates", "[url_input]") {
  struct Case {
    std::string input;
    std::vector<std::string> candidates;
  };
  const std::vector<Case> cases{
      {"http://Example.COM", {"http://example.com/"}},
      {"HTTPS://example.com/a?b=1#frag", {"https://example.com/a?b=1"}},
      {"  example.com  ", {"https://example.com/", "http://example.com/"}},
      {"example.com:8080/path", {"https://example.com:8080/path", "http://example.com:8080/path"}},
      {"http://127.0.0.1:9/x", {"http://127.0.0.1:9/x"}},
      {"http://[::1]:9/", {"http://[::1]:9/"}},
      {"http://xn--mnchen-3ya.de/", {"http://xn--mnchen-3ya.de/"}},
      {"http://example.com./", {"http://example.com./"}},  // the root's dot
      {"http://a-b.c0.example/", {"http://a-b.c0.example/"}},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    auto parsed = parse_input(c.input);
    REQUIRE(parsed.ok());
    CHECK(*parsed == c.candidates);
  }
}

TEST_CASE("refused inputs say why", "[url_input]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "empty"},
      {"file:///etc/passwd", "unsupported scheme 'file'"},
      {"javascript:alert(1)", "unsupported scheme 'javascript'"},
      {"data:text/html,hi", "unsupported scheme 'data'"},
      {"chrome://settings", "unsupported scheme 'chrome'"},
      {"ftp://example.com/", "unsupported scheme 'ftp'"},
      {"http://user:pass@example.com/", "credentials"},
      {"http:///nohost", "no host"},
      {"http://exa mple.com/", "control characters or spaces"},
      {std::string("http://a.com/\x1b[31m"), "control characters"},
      {"http://a.com/" + std::string(9000, 'a'), "longer than"},
  };
  for (const auto& [input, message] : cases) {
    INFO(input.substr(0, 60));
    auto parsed = parse_input(input);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == util::ErrorCode::invalid_argument);
    CHECK(parsed.error().message.find(message) != std::string::npos);
  }
}

TEST_CASE("a name that cannot be a host is refused with the rule it broke", "[url_input]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"exa$mple!", "'$' is not allowed in a host name (RFC 1123"},
      {"./g.txt", "no empty labels"},
      {"..", "no empty labels"},
      {"http://-/", "neither begins nor ends with '-'"},
      {"http://a..b.example/", "no empty labels"},
      {"http://-a.example/", "neither begins nor ends with '-'"},
      {"http://under_score.example/", "'_' is not allowed"},
      {"http://" + std::string(64, 'a') + ".example/", "at most 63 characters"},
      {"http://" + std::string(250, 'a').replace(60, 1, ".").replace(120, 1, ".").replace(180, 1, ".") + ".com/",
       "at most 253 characters"},
      {"http://%2e%2e/", "no empty labels"},
  };
  for (const auto& [input, message] : cases) {
    INFO(input.substr(0, 60));
    auto parsed = parse_input(input);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == util::ErrorCode::invalid_argument);
    INFO(parsed.error().message);
    CHECK(parsed.error().message.find(message) != std::string::npos);
  }
}
