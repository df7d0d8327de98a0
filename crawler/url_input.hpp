// crawler/url_input.hpp — turning what a user typed into the URLs a visit may navigate to.
//
// Accepts http(s) URLs and bare host names (with optional port and path). Everything else
// (file:, javascript:, data:, chrome:, credentials in the URL, no host) is refused with a reason.
// Bare hosts yield https first, then http as the fallback to try when https cannot connect.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crawler {

struct ParsedInput {
  std::vector<std::string> candidates;  // URLs to try in order; empty when `error` is set
  std::string error;                    // why the input was refused
};

// The bound keeps hostile input lists from handing Chrome megabyte URLs.
inline constexpr std::size_t kMaxInputUrlBytes = 8'192;

ParsedInput parse_input(std::string_view text);

}  // namespace crawler
