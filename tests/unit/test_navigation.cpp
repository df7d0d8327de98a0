// tests/unit/test_navigation.cpp — what a navigation's answer means (crawler::interpret_navigation,
// classify_net_error, worth_http_fallback): a table of Page.navigate replies and call failures.
#include <catch2/catch.hpp>

#include "crawler/navigation.hpp"

namespace {

using blacklist::Status;
using Reply = util::Result<cdp::PageNavigate::Result>;

Reply committed() { return cdp::PageNavigate::Result{"F", "L", "", false}; }
Reply failed(std::string error_text, bool download = false) {
  return cdp::PageNavigate::Result{"F", "", std::move(error_text), download};
}

}  // namespace

TEST_CASE("navigation: a committed page is watched, with no status of its own", "[navigation]") {
  const auto outcome = crawler::interpret_navigation(committed(), 200, "text/html", false);
  CHECK(outcome.watch);
  CHECK_FALSE(outcome.status);
  CHECK_FALSE(outcome.not_a_page);
}

TEST_CASE("navigation: a net error is the site's answer, classified", "[navigation]") {
  struct Case {
    std::string error;
    Status status;
  };
  const std::vector<Case> cases{{"net::ERR_NAME_NOT_RESOLVED", Status::dns_error},
                                {"net::ERR_CERT_AUTHORITY_INVALID", Status::tls_error},
                                {"net::ERR_SSL_PROTOCOL_ERROR", Status::tls_error},
                                {"net::ERR_TOO_MANY_REDIRECTS", Status::redirect_loop},
                                {"net::ERR_TIMED_OUT", Status::timeout},
                                {"net::ERR_CONNECTION_REFUSED", Status::connection_error},
                                {"net::ERR_HTTP_RESPONSE_CODE_FAILURE", Status::http_error}};
  for (const auto& c : cases) {
    INFO(c.error);
    const auto outcome = crawler::interpret_navigation(failed(c.error), 0, "", false);
    CHECK_FALSE(outcome.watch);
    REQUIRE(outcome.status);
    CHECK(*outcome.status == c.status);
    CHECK(outcome.reason == c.error);
  }
  // Only what a plain-http retry could cure is worth one.
  CHECK(crawler::worth_http_fallback(Status::tls_error));
  CHECK(crawler::worth_http_fallback(Status::connection_error));
  CHECK_FALSE(crawler::worth_http_fallback(Status::dns_error));
  CHECK_FALSE(crawler::worth_http_fallback(Status::ok));
}

TEST_CASE("navigation: a download or an empty answer is ok and not a page, unless something stopped", "[navigation]") {
  const auto download = crawler::interpret_navigation(failed("net::ERR_ABORTED", true), 200, "application/zip", false);
  CHECK_FALSE(download.watch);
  REQUIRE(download.status);
  CHECK(*download.status == Status::ok);
  CHECK(download.not_a_page);
  CHECK(download.reason == "not a page: HTTP 200 application/zip was not rendered (a download)");
  const auto empty = crawler::interpret_navigation(failed("net::ERR_ABORTED"), 204, "", false);
  CHECK(*empty.status == Status::ok);
  CHECK(empty.reason == "not a page: HTTP 204 (no type) was not rendered (no content)");
  // An abort that is neither (or a page that crashed meanwhile) stays an error.
  CHECK(*crawler::interpret_navigation(failed("net::ERR_ABORTED"), 200, "text/html", false).status ==
        Status::connection_error);
  const auto crashed = crawler::interpret_navigation(failed("net::ERR_ABORTED", true), 200, "application/zip", true);
  CHECK(*crashed.status == Status::connection_error);
  CHECK_FALSE(crashed.not_a_page);
}

TEST_CASE("navigation: a call that failed is a crash or a timeout", "[navigation]") {
  using util::ErrorCode;
  const auto outcome = [](ErrorCode code) {
    const Reply reply = util::make_error(code, "Page.navigate", "why");
    return crawler::interpret_navigation(reply, 0, "", false);
  };
  CHECK(*outcome(ErrorCode::timeout).status == Status::timeout);
  CHECK(*outcome(ErrorCode::connection_closed).status == Status::crash);
  CHECK(outcome(ErrorCode::connection_closed).reason == "browser connection lost: why");
  CHECK(*outcome(ErrorCode::target_gone).status == Status::crash);
  CHECK(*outcome(ErrorCode::protocol).status == Status::connection_error);
}
