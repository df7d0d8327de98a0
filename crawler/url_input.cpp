// crawler/url_input.cpp — input URL validation and normalisation with Boost.URL.
#include "crawler/url_input.hpp"

#include <algorithm>
#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <fmt/format.h>
#include <idn2.h>

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
  // Boost.URL 1.81 takes "https://host:8080." as port 8080 and the path ".", which RFC 3986 does
  // not allow after a host (path-abempty), and which normalised to no path at all: not the "/" every
  // other URL gets, so the URL changed the next time it was read (found by fuzzing,
  // tests/fuzz/regressions/url_input/).
  if (!url.encoded_path().empty() && !url.encoded_path().starts_with('/'))
    return refused("not a valid URL (the path after the host must begin with '/')");
  if (url.host_type() == boost::urls::host_type::name) {
    const std::string host = util::to_lower(std::string(url.host()));
    if (auto problem = host_name_problem(host); !problem.empty())
      return refused(fmt::format("host '{}': {}", host, problem));
  }
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

constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxLabelBytes = 63;

std::string host_name_problem(std::string host) {
  if (std::any_of(host.begin(), host.end(), [](unsigned char c) { return c >= 0x80; })) {
    char* ascii = nullptr;
    const int converted = idn2_to_ascii_8z(host.c_str(), &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (converted != IDN2_OK) return fmt::format("not a valid international host name ({})", idn2_strerror(converted));
    host = ascii;
    idn2_free(ascii);
  }
  if (host.empty()) return "the host is empty";
  if (host.back() == '.') host.pop_back();  // the root's dot
  if (host.empty()) return "a host name has no empty labels (no leading, trailing or double dots)";
  if (host.size() > kMaxHostBytes) return fmt::format("a host name has at most {} characters", kMaxHostBytes);
  for (std::size_t start = 0; start <= host.size();) {
    const std::size_t end = std::min(host.find('.', start), host.size());
    const std::string_view label = std::string_view(host).substr(start, end - start);
    if (label.empty()) return "a host name has no empty labels (no leading, trailing or double dots)";
    if (label.size() > kMaxLabelBytes)
      return fmt::format("a label of a host name has at most {} characters", kMaxLabelBytes);
    if (label.front() == '-' || label.back() == '-') return "a label of a host name neither begins nor ends with '-'";
    for (const char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
        return fmt::format(
            "'{}' is not allowed in a host name (RFC 1123: letters, digits and '-' in dot-separated "
            "labels; international names are converted by IDNA)",
            std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c)
                                                        : fmt::format("\\x{:02x}", static_cast<unsigned char>(c)));
    start = end + 1;
  }
  return {};
}

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
