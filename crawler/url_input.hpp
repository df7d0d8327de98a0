// crawler/url_input.hpp — turning what a user typed into the URLs a visit may navigate to.
//
// Accepts http(s) URLs and bare host names (with optional port and path). Everything else
// (file:, javascript:, data:, chrome:, credentials in the URL, no host) is refused with a reason.
// Bare hosts yield https first, then http as the fallback to try when https cannot connect.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace crawler {

// The bound keeps hostile input lists from handing Chrome megabyte URLs.
inline constexpr std::size_t kMaxInputUrlBytes = 8'192;

// Why `host` (a registered name, lower case, percent-decoded) cannot be a host name, or "": RFC 1123
// labels once IDNA has turned an international name into its ASCII (punycode) form. A trailing dot
// (the root's) is allowed.
std::string host_name_problem(std::string host);

// The URLs to try, in order; an invalid_argument error saying why the input was refused.
util::Result<std::vector<std::string>> parse_input(std::string_view text);

}  // namespace crawler
