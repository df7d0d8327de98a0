// tests/fuzz/fuzz_url_input.cpp — crawler/url_input, what a user (or a crawl list from anywhere)
// gives as a site: parse_input (http(s) URLs and bare hosts, normalised with Boost.URL, names
// checked after IDNA) and host_name_problem. The input is one URL or host; it is also checked as a
// host name. Asserts beyond "no crash": an accepted input yields one candidate (a URL) or two (a
// bare host: https, then the same with http), each an http(s) URL without a fragment that, unless the scheme
// took it over the input bound, is itself accepted and normalises to itself (normalisation is
// idempotent); a refusal says why.
#include <string>
#include <string_view>

#include "crawler/url_input.hpp"
#include "tests/fuzz/targets.hpp"

namespace cjcrawl::fuzz {

int url_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  (void)crawler::host_name_problem(std::string(text));

  const auto candidates = crawler::parse_input(text);
  if (!candidates) {
    expect(!candidates.error().message.empty(), "a refusal says why");
    return 0;
  }
  expect(candidates->size() == 1 || candidates->size() == 2, "one candidate, or two for a bare host");
  for (const auto& url : *candidates) {
    expect(url.starts_with("https://") || url.starts_with("http://"), "a candidate is an http(s) URL");
    expect(url.find('#') == std::string::npos, "a candidate has no fragment");
    if (url.size() > crawler::kMaxInputUrlBytes) continue;  // "https://" made it longer than input may be
    const auto again = crawler::parse_input(url);
    expect(again.ok() && again->size() == 1 && again->front() == url, "a candidate normalises to itself");
  }
  if (candidates->size() == 2) {
    const auto& https = candidates->at(0);
    const auto& http = candidates->at(1);
    expect(https.starts_with("https://") && http == "http://" + https.substr(8),
           "a bare host's fallback is its https URL over http");
  }
  return 0;
}

}  // namespace cjcrawl::fuzz
