// crawler/url_input.cpp — input URL validation and normalisation with Boost.URL.
#include "crawler/url_input.hpp"

#include <algorithm>
#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <fmt/format.h>

#include "util/text.hpp"

namespace crawler {
namespace {

using util::trim;

// Normalises one absolute http(s) URL: lower-case scheme and host, "/" for an empty path, no fragment.
util::Error refused(std::string why) { return util::make_error(util::ErrorCode::invalid_argument, "", std::move(why)); }

util::Result<std::vector<std::string>> normalise(std::string_view text, bool bare) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return refused(fmt::format("not a valid URL ({})", parsed.error().message()));
  boost::urls::url url = *parsed;
  if (url.scheme_id() != boost::urls::scheme::http && url.scheme_id() != boost::urls::scheme::https)
    return refused(fmt::format("unsupported scheme '{}': only http and https sites can be checked", url.scheme()));
  if (!url.has_authority() || url.encoded_host().empty()) return refused("the URL has no host");
  if (url.has_userinfo()) return refused("credentials in URLs are not accepted");
  url.set_encoded_host(util::to_lower(url.encoded_host()));
  url.remove_fragment();
  url.normalize_scheme();
  // Boost.URL 1.81 writes an empty path set to "/" as "/./"; normalising removes the dot segment.
  if (url.encoded_path().empty()) url.set_encoded_path("/");
  url.normalize_path();
  std::vector<std::string> candidates{std::string(url.buffer())};
  if (bare) {
    url.set_scheme("http");
    candidates.emplace_back(url.buffer());
  }
  return candidates;
}

}  // namespace

util::Result<std::vector<std::string>> parse_input(std::string_view text) {
  text = trim(text);
  if (text.empty()) return refused("empty input");
  if (text.size() > kMaxInputUrlBytes) return refused(fmt::format("URL longer than {} bytes", kMaxInputUrlBytes));
  if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f || c == ' '; }))
    return refused("control characters or spaces in the URL");
  const auto colon = text.find("://");
  if (colon != std::string_view::npos) return normalise(text, false);
  // A scheme without "//" (javascript:, data:, file:) is not a bare host either.
  const auto first_colon = text.find(':');
  if (first_colon != std::string_view::npos) {
    const auto scheme = text.substr(0, first_colon);
    const bool looks_like_port =
        first_colon + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[first_colon + 1]));
    if (!looks_like_port)
      return refused(fmt::format("unsupported scheme '{}': only http and https sites can be checked", scheme));
  }
  return normalise("https://" + std::string(text), true);
}

}  // namespace crawler
