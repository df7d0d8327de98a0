// crawler/fetch.hpp — fetching a blocklist over http(s) with libcurl, carefully.
//
// TLS verification stays on; connect and total timeouts; a size cap enforced while reading (not
// only from Content-Length); at most a few redirects, and only to http(s); conditional GET with the
// validators of the previous fetch, where 304 means "unchanged".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace crawler {

struct FetchOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};
  std::uint64_t max_bytes = 64u << 20;  // a larger body fails the fetch
  long max_redirects = 5;
  std::string if_none_match;      // the ETag of the last fetch, or empty
  std::string if_modified_since;  // its Last-Modified, or empty
};

struct Fetched {
  long http_status = 0;
  bool not_modified = false;  // 304: keep what we have
  std::string body;
  std::string etag;
  std::string last_modified;
};

// Call once per process before any fetch (curl_global_init is not thread-safe).
void init_fetching();

// A 2xx body or a 304; otherwise an error (io: the transfer failed; not_found: an HTTP error
// status) whose message says what went wrong, for the user ("HTTP 404", "more than 5 redirects").
util::Result<Fetched> fetch_url(std::string_view url, const FetchOptions& options);

}  // namespace crawler
