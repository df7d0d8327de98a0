// crawler/fetch.cpp — libcurl easy interface, one transfer at a time.
#include "crawler/fetch.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include <fmt/format.h>

namespace crawler {
namespace {

struct Transfer {
  const FetchOptions* options = nullptr;
  Fetched* result = nullptr;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer.result->body.size() + bytes > transfer.options->max_bytes) {
    transfer.too_large = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  transfer.result->body.append(data, bytes);
  return bytes;
}

// Keeps the validators of the final response (headers of redirects are overwritten by later ones).
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {  // a new response (after a redirect): forget the previous one's
    transfer.result->etag.clear();
    transfer.result->last_modified.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  constexpr std::size_t kMaxValidatorBytes = 1024;
  if (value.size() > kMaxValidatorBytes) return bytes;
  if (name == "etag") transfer.result->etag = std::string(value);
  if (name == "last-modified") transfer.result->last_modified = std::string(value);
  return bytes;
}

}  // namespace

void init_fetching() { curl_global_init(CURL_GLOBAL_DEFAULT); }

util::Result<Fetched> fetch_url(std::string_view url, const FetchOptions& options) {
  using util::ErrorCode;
  const auto failed = [&](ErrorCode code, std::string message) {
    return util::make_error(code, std::string(url), std::move(message));
  };
  Fetched result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return failed(ErrorCode::internal, "libcurl could not start a transfer");
  Transfer transfer{&options, &result, false};
  const std::string target(url);
  curl_slist* headers = nullptr;
  if (!options.if_none_match.empty())
    headers = curl_slist_append(headers, ("If-None-Match: " + options.if_none_match).c_str());
  if (!options.if_modified_since.empty())
    headers = curl_slist_append(headers, ("If-Modified-Since: " + options.if_modified_since).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);

  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, target.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, options.max_redirects);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode (gzip, deflate)
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "cjcrawl/" CJCRAWL_VERSION " (blocklist import)");
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);

  const CURLcode code = curl_easy_perform(handle);
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &result.http_status);
  if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED)
    return failed(ErrorCode::io, fmt::format("larger than the {} MB limit", options.max_bytes >> 20));
  if (code == CURLE_TOO_MANY_REDIRECTS)
    return failed(ErrorCode::io, fmt::format("more than {} redirects", options.max_redirects));
  if (code != CURLE_OK) return failed(ErrorCode::io, curl_easy_strerror(code));
  if (result.http_status == 304) {
    result.not_modified = true;
  } else if (result.http_status < 200 || result.http_status >= 300) {
    return failed(ErrorCode::not_found, fmt::format("HTTP {}", result.http_status));
  }
  return result;
}

}  // namespace crawler
