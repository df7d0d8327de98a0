// crawler/navigation.cpp — see navigation.hpp.
#include "crawler/navigation.hpp"

#include <fmt/format.h>

namespace crawler {

using blacklist::Status;

NavigationOutcome interpret_navigation(const util::Result<cdp::PageNavigate::Result>& reply, int http_status,
                                       std::string_view mime_type, bool stopped) {
  using util::ErrorCode;
  NavigationOutcome out;
  if (!reply) {
    const auto& error = reply.error();
    if (error.code == ErrorCode::timeout) {
      out.status = Status::timeout;
      out.reason = "navigation did not commit before the site deadline";
    } else if (error.code == ErrorCode::connection_closed) {
      out.status = Status::crash;
      out.reason = "browser connection lost: " + error.message;
    } else if (error.code == ErrorCode::target_gone) {
      out.status = Status::crash;
      out.reason = "the page's target went away during navigation";
    } else {
      out.status = Status::connection_error;
      out.reason = error.describe();
    }
    return out;
  }
  if (reply->error_text.empty()) {
    out.watch = true;
    return out;
  }
  // A URL that answered, but with no page to render: Chrome turned the navigation into a download
  // (Content-Disposition: attachment, or a type it does not display: Page.navigate says isDownload)
  // or the answer was HTTP 204/205. Chrome aborts such a navigation before anything of the site is
  // committed (the tab keeps our about:blank), so nothing of it can run: a finished visit with
  // nothing to watch, not a network error to retry and to count against a slot's failure budget
  // (URL feeds are full of links to executables). Any other aborted navigation stays an error.
  const bool no_page = reply->error_text == "net::ERR_ABORTED" && !stopped &&
                       (reply->is_download || http_status == 204 || http_status == 205);
  if (no_page) {
    out.status = Status::ok;
    out.reason =
        fmt::format("not a page: HTTP {} {} was not rendered ({})", http_status,
                    mime_type.empty() ? "(no type)" : mime_type, reply->is_download ? "a download" : "no content");
    out.not_a_page = true;
    return out;
  }
  out.status = classify_net_error(reply->error_text);
  out.reason = reply->error_text;
  return out;
}

blacklist::Status classify_net_error(std::string_view error) {
  auto has = [&](std::string_view part) { return error.find(part) != std::string_view::npos; };
  if (has("ERR_NAME_NOT_RESOLVED") || has("ERR_NAME_RESOLUTION_FAILED") || has("ERR_DNS_")) return Status::dns_error;
  if (has("ERR_CERT_") || has("ERR_SSL_") || has("_SSL_") || has("ERR_BAD_SSL")) return Status::tls_error;
  if (has("ERR_TOO_MANY_REDIRECTS")) return Status::redirect_loop;
  if (has("ERR_HTTP_RESPONSE_CODE_FAILURE")) return Status::http_error;
  if (has("ERR_TIMED_OUT")) return Status::timeout;
  return Status::connection_error;
}

bool worth_http_fallback(blacklist::Status status) {
  return status == blacklist::Status::tls_error || status == blacklist::Status::connection_error;
}

}  // namespace crawler
