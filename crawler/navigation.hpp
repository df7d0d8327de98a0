// crawler/navigation.hpp — what a navigation's answer means for a visit: pure functions, no I/O.
//
// Page.navigate replies when the navigation commits or fails. Its reply (or the call's failure) and
// the main document's response decide whether there is a page to watch, and if not, the site's
// status: a net error is the site's answer (DNS, TLS, connection, redirect loop, timeout), a
// download or an empty answer is a finished visit with nothing to watch, and a call that failed is a
// crash or a timeout.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "blacklist/evidence.hpp"
#include "cdp/commands.hpp"
#include "util/status.hpp"

namespace crawler {

struct NavigationOutcome {
  bool watch = false;                       // a page committed: wait for its load, then sample
  std::optional<blacklist::Status> status;  // otherwise the visit's status, with
  std::string reason;                       // its reason
  bool not_a_page = false;                  // a download or an empty answer (counted as not_a_page)
};

// `reply`: Page.navigate's reply or the call's failure. `http_status` and `mime_type`: the main
// document's response, when one arrived (0 and "" otherwise). `stopped`: the page crashed or the
// browser went away meanwhile.
NavigationOutcome interpret_navigation(const util::Result<cdp::PageNavigate::Result>& reply, int http_status,
                                       std::string_view mime_type, bool stopped);

// Maps a net error from Page.navigate (e.g. "net::ERR_NAME_NOT_RESOLVED") to a status.
blacklist::Status classify_net_error(std::string_view error_text);

// A bare host is worth trying again over plain http after these (TLS or connection failures).
bool worth_http_fallback(blacklist::Status status);

}  // namespace crawler
