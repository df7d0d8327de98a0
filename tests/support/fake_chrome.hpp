// tests/support/fake_chrome.hpp — a scripted Chrome for unit tests of the target layer, the visit and
// the crawl slots: no process, no socket, in the test's own io_context.
//
// It answers the commands cjcrawl sends the way Chromium 156 does (shared/CDP-NOTES.md): browser
// contexts and pages, flatten auto-attach with targets paused until resumed, domain enables,
// SystemInfo.getProcessInfo with cumulative renderer CPU, script sources, context disposal with its
// detaches, Browser.close. The test plays the site: a Site function runs at each Page.navigate and
// may attach workers and popups, parse scripts, open sockets and send frames, make renderers busy or
// crash them, now or later (after()). Anything else gets Chrome's "method not found" error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "cdp/browser.hpp"
#include "tests/support/scripted_transport.hpp"

namespace testsupport {

class FakeChrome : public std::enable_shared_from_this<FakeChrome> {
 public:
  using Json = nlohmann::json;
  using Clock = std::chrono::steady_clock;

  struct Target {
    std::string target_id;
    std::string session_id;
    std::string type;  // page, iframe, worker, service_worker, ...
    std::string url;
    std::string context_id;
    std::string parent_session_id;  // "" when the browser's auto-attach brought it
    std::int64_t renderer_pid = 0;
  };
  // What the page's navigation does. An error_text ("net::ERR_NAME_NOT_RESOLVED") fails it.
  struct Navigation {
    int http_status = 200;
    std::string mime_type = "text/html";
    std::string error_text;
    bool is_download = false;
    bool load = true;  // fire Page.loadEventFired
  };
  using Site = std::function<Navigation(FakeChrome& chrome, const Target& page, const std::string& url)>;

  static std::shared_ptr<FakeChrome> create(boost::asio::any_io_executor executor, Site site);

  // A cdp::Browser connected to this Chrome (one per FakeChrome).
  boost::asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>> connect();

  // ---- the site's doings
  Target attach(const Target& parent, std::string type, std::string url);  // a worker or an iframe
  Target open_popup(const Target& opener, std::string url);                // a page in the same context
  // The same target attached a second time, on a new session under `parent_session_id` ("" for the
  // browser's auto-attach), as Chrome attaches a page's service worker both ways.
  Target attach_again(const Target& target, std::string parent_session_id);
  void detach(const Target& target);  // that one session ends (the target may live on in another)
  // Returns the script id Chrome gave it.
  std::string script(const Target& target, std::string url, std::string source, std::string language = "JavaScript");
  // What Profiler.stop answers on `target`'s session from now on (default: an empty profile).
  void set_profile(const Target& target, Json profile);
  void websocket(const Target& target, std::string request_id, std::string url);
  void frame(const Target& target, const std::string& request_id, const std::string& payload, bool sent);
  // One HTTP request of `type` (XHR, Fetch, EventSource, ...) with an optional body, answered with
  // `response_body` (kept for Network.getResponseBody, as Chrome does for a target that buffers).
  void http_exchange(const Target& target, std::string type, std::string url, std::string request_body,
                     std::string response_body);
  void set_busy(std::int64_t renderer_pid, double cores);  // from now on, that much CPU
  void crash(const Target& page);
  void after(std::chrono::milliseconds delay, std::function<void()> action);
  void end_connection();  // the browser process "dies"

  // ---- what happened
  ScriptedPeer& peer() { return *peer_; }
  std::vector<Json> commands(std::string_view method, std::string_view session_id = "*") const;
  const std::map<std::string, Target>& targets() const { return targets_; }  // by session id, live ones
  int contexts_created() const { return contexts_created_; }
  int contexts_disposed() const { return contexts_disposed_; }
  int navigations() const { return navigations_; }

 private:
  FakeChrome(boost::asio::any_io_executor executor, Site site);
  void on_command(const Json& command);
  bool answer_target_command(const Json& command, const std::string& method);
  Target add_target(std::string type, std::string url, std::string context, std::string parent, std::int64_t pid);
  void announce(const Target& target);  // Target.attachedToTarget, paused
  void navigate(const Json& command, const Target& page);
  Json process_info();
  void dispose(const std::string& context_id);

  boost::asio::any_io_executor executor_;
  Site site_;
  std::shared_ptr<ScriptedPeer> peer_;
  std::map<std::string, Target> targets_;
  struct Source {
    std::string text;  // JavaScript, or a Wasm module's base64
    bool wasm = false;
  };
  std::map<std::string, Source> sources_;               // by script id
  std::map<std::string, Json> profiles_;                // by session id
  std::map<std::string, std::string> response_bodies_;  // by session id + request id
  struct Cpu {
    double cores = 0;
    double seconds = 0;
    Clock::time_point since = Clock::now();
  };
  std::map<std::int64_t, Cpu> renderers_;  // pid → its CPU
  int next_id_ = 1;
  int contexts_created_ = 0;
  int contexts_disposed_ = 0;
  int navigations_ = 0;
};

// Pids no process can have (above the kernel's pid_max), so /proc never answers for them.
inline constexpr std::int64_t kFakePidBase = 900'000'000;

}  // namespace testsupport

namespace testsupport {

// Launches FakeChromes for crawler::VisitOptions::browser_factory: each launch is a new FakeChrome
// (a new "process") playing the same site, kept here so a test can look at each.
class FakeLauncher {
 public:
  explicit FakeLauncher(FakeChrome::Site site) : site_(std::move(site)) {}
  // The factory: a std::function that keeps this launcher (which must outlive every visit).
  std::function<boost::asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>>(const cdp::LaunchOptions&)>
  factory();
  const std::vector<std::shared_ptr<FakeChrome>>& chromes() const { return chromes_; }
  int launched() const { return static_cast<int>(chromes_.size()); }
  bool fail = false;  // launches fail (as when Chrome is missing)

 private:
  static boost::asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>> launch(FakeLauncher* self);
  FakeChrome::Site site_;
  std::vector<std::shared_ptr<FakeChrome>> chromes_;
};

}  // namespace testsupport
