// cdp/browser.cpp — see browser.hpp.
#include "cdp/browser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cdp/commands.hpp"
#include "cdp/transport.hpp"

namespace cdp {
namespace {
using std::chrono::milliseconds;
constexpr milliseconds kCloseGrace{2'000};  // Browser.close → process exit; the reader's end
}  // namespace

asio::awaitable<util::Result<std::shared_ptr<Browser>>> Browser::launch(const LaunchOptions& options) {
  std::shared_ptr<Browser> browser(new Browser());
  LaunchOptions launch = options;
  if (options.egress_guard) {
    // The egress guard first: Chrome is launched to use it, and it must outlive Chrome.
    auto proxy = EgressProxy::start(options.egress, resolver_from_test_environment());
    if (!proxy) co_return proxy.error();
    browser->egress_ = std::move(proxy).value();
    launch.proxy_port = browser->egress_->port();
  }
  auto chrome = co_await ChromeProcess::launch(launch);
  if (!chrome) co_return chrome.error();
  browser->chrome_ = std::move(chrome).value();
  // No page may reach DevTools, whatever the exceptions.
  if (browser->egress_)
    if (auto devtools = parse_ws_url(browser->chrome_->devtools_url()))
      browser->egress_->deny_loopback_port(devtools->port);
  auto connection = co_await Connection::connect(browser->chrome_->devtools_url());
  if (!connection) {
    auto error = connection.error();
    error.code = util::ErrorCode::browser_start;  // Chrome offered DevTools but could not be reached
    co_return error;
  }
  browser->connection_ = std::move(connection).value();
  auto started = co_await start(std::move(browser));
  co_return started;
}

asio::awaitable<util::Result<std::shared_ptr<Browser>>> Browser::over(std::unique_ptr<Connection> connection) {
  std::shared_ptr<Browser> browser(new Browser());
  browser->connection_ = std::move(connection);
  auto started = co_await start(std::move(browser));
  co_return started;
}

asio::awaitable<util::Result<std::shared_ptr<Browser>>> Browser::start(std::shared_ptr<Browser> browser) {
  browser->executor_ = co_await asio::this_coro::executor;
  Connection& connection = *browser->connection_;
  browser->targets_ = std::make_unique<TargetManager>(connection, browser->weak_from_this());
  // Only what the current visit reads is parsed (Target.* always is: see Connection).
  connection.skip_events([raw = browser.get()](std::string_view method, std::string_view text) {
    return !raw->events_ || !raw->events_->wants(method, text);
  });
  // What no visit reads, and most of what a response or script event carries.
  connection.prune_keys({"headers", "requestHeaders", "headersText", "requestHeadersText", "timing", "securityDetails",
                         "initiator", "stackTrace", "executionContextAuxData"});
  connection.on_event([raw = browser.get()](const TargetInfo& target, std::string_view method, const Json& params) {
    raw->on_event(target, method, params);
  });
  // The reader keeps the browser alive until it ends: the Connection must outlive run().
  asio::co_spawn(browser->executor_, connection.run(), [self = browser](std::exception_ptr) {
    self->run_done_ = true;
    if (self->on_closed_) self->on_closed_();
  });
  auto attaching = co_await browser->targets_->start();
  if (!attaching) {
    auto error = attaching.error();
    error.code = util::ErrorCode::browser_start;
    co_await browser->close();
    co_return error;
  }
  co_return browser;
}

Browser::~Browser() {
  if (chrome_) chrome_->terminate();
}

bool Browser::alive() const { return !closed_ && !run_done_ && connection_ && connection_->is_open(); }

void Browser::take_events(const EventRegistry* events, TargetListener* listener, std::function<void()> on_closed) {
  events_ = events;
  on_closed_ = std::move(on_closed);
  targets_->set_listener(listener);
}

void Browser::release_events() {
  events_ = nullptr;
  on_closed_ = nullptr;
  if (targets_) targets_->set_listener(nullptr);
}

void Browser::on_event(const TargetInfo& target, std::string_view method, const Json& params) {
  if (method.starts_with("Target.")) targets_->handle(target, method, params);
  if (events_) events_->dispatch(target, method, params);
}

asio::awaitable<void> Browser::close() {
  if (closed_) co_return;
  closed_ = true;
  release_events();
  if (connection_) {
    if (connection_->is_open()) {
      const BrowserClose close_browser;
      auto closed = co_await connection_->send(close_browser, {}, kCloseGrace);
      (void)closed;  // Chrome may drop the socket before replying
    }
    co_await connection_->close();
    // The reader ends once the transport is closed; wait for it (bounded), as the Connection's rule asks.
    asio::steady_timer tick(executor_);
    for (int waited = 0; !run_done_ && waited < kCloseGrace.count(); waited += 20) {
      tick.expires_after(milliseconds(20));
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (chrome_) {
    co_await chrome_->wait_exit(kCloseGrace);
    chrome_->terminate();
  }
}

}  // namespace cdp
