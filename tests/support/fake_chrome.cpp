// tests/support/fake_chrome.cpp — see fake_chrome.hpp.
#include "tests/support/fake_chrome.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "util/encoding.hpp"

namespace testsupport {

namespace asio = boost::asio;
using Json = nlohmann::json;

namespace {
// Chrome 156 reports every Wasm module with the hash of the empty string (CDP-NOTES).
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr int kMethodNotFound = -32601;
constexpr int kSessionNotFound = -32001;

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}
}  // namespace

std::shared_ptr<FakeChrome> FakeChrome::create(asio::any_io_executor executor, Site site) {
  std::shared_ptr<FakeChrome> chrome(new FakeChrome(std::move(executor), std::move(site)));
  chrome->peer_->on_command([weak = std::weak_ptr<FakeChrome>(chrome)](const Json& command) {
    if (auto self = weak.lock()) self->on_command(command);
  });
  return chrome;
}

FakeChrome::FakeChrome(asio::any_io_executor executor, Site site)
    : executor_(executor), site_(std::move(site)), peer_(std::make_shared<ScriptedPeer>()) {
  renderers_[kFakePidBase];  // the browser process
}

asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>> FakeChrome::connect() {
  auto connection = std::make_unique<cdp::Connection>(make_scripted_transport(peer_, executor_), executor_);
  auto browser = co_await cdp::Browser::over(std::move(connection));
  co_return browser;
}

std::vector<Json> FakeChrome::commands(std::string_view method, std::string_view session_id) const {
  std::vector<Json> out;
  for (const auto& command : peer_->sent())
    if (command.value("method", std::string()) == method &&
        (session_id == "*" || command.value("sessionId", std::string()) == session_id))
      out.push_back(command);
  return out;
}

FakeChrome::Target FakeChrome::add_target(std::string type, std::string url, std::string context, std::string parent,
                                          std::int64_t pid) {
  const int n = next_id_++;
  Target target{"T" + std::to_string(n),
                "S" + std::to_string(n),
                std::move(type),
                std::move(url),
                std::move(context),
                std::move(parent),
                pid};
  renderers_[pid];  // known from now on (at 0 cores unless set)
  announce(target);
  return target;
}

FakeChrome::Target FakeChrome::attach_again(const Target& target, std::string parent_session_id) {
  Target again = target;
  again.session_id = "S" + std::to_string(next_id_++);
  again.parent_session_id = std::move(parent_session_id);
  announce(again);
  return again;
}

void FakeChrome::detach(const Target& target) {
  if (targets_.erase(target.session_id) == 0) return;
  peer_->event("Target.detachedFromTarget", {{"sessionId", target.session_id}, {"targetId", target.target_id}},
               target.parent_session_id);
}

void FakeChrome::announce(const Target& target) {
  targets_[target.session_id] = target;
  Json info{{"targetId", target.target_id},
            {"type", target.type},
            {"url", target.url},
            {"browserContextId", target.context_id},
            {"attached", true}};
  peer_->event("Target.attachedToTarget",
               {{"sessionId", target.session_id}, {"targetInfo", info}, {"waitingForDebugger", true}},
               target.parent_session_id);
}

FakeChrome::Target FakeChrome::attach(const Target& parent, std::string type, std::string url) {
  // Cross-site frames get a renderer of their own; workers run in their page's.
  const std::int64_t pid = type == "iframe" ? kFakePidBase + next_id_ : parent.renderer_pid;
  return add_target(std::move(type), std::move(url), parent.context_id, parent.session_id, pid);
}

FakeChrome::Target FakeChrome::open_popup(const Target& opener, std::string url) {
  auto popup = add_target("page", "", opener.context_id, "", kFakePidBase + next_id_);
  after(std::chrono::milliseconds(5), [this, popup, url] {
    peer_->event("Page.frameNavigated", {{"frame", {{"id", popup.target_id}, {"url", url}}}}, popup.session_id);
    peer_->event("Page.loadEventFired", {{"timestamp", 1}}, popup.session_id);
  });
  return popup;
}

void FakeChrome::set_profile(const Target& target, Json profile) { profiles_[target.session_id] = std::move(profile); }

std::string FakeChrome::script(const Target& target, std::string url, std::string source, std::string language) {
  const std::string id = "script-" + std::to_string(next_id_++);
  const bool wasm = language == "WebAssembly";
  const std::string hash = wasm ? std::string(kEmptySha256) : util::sha256_hex(source);
  const std::size_t length = source.size();
  sources_[id] = Source{wasm ? base64(source) : std::move(source), wasm};
  peer_->event(
      "Debugger.scriptParsed",
      {{"scriptId", id}, {"url", std::move(url)}, {"hash", hash}, {"length", length}, {"scriptLanguage", language}},
      target.session_id);
  return id;
}

void FakeChrome::http_exchange(const Target& target, std::string type, std::string url, std::string request_body,
                               std::string response_body) {
  const std::string id = "http-" + std::to_string(next_id_++);
  Json request{{"url", url}, {"method", request_body.empty() ? "GET" : "POST"}};
  if (!request_body.empty()) {
    request["hasPostData"] = true;
    request["postDataEntries"] = Json::array({{{"bytes", base64(request_body)}}});
  }
  peer_->event("Network.requestWillBeSent", {{"requestId", id}, {"type", type}, {"request", std::move(request)}},
               target.session_id);
  const std::size_t length = response_body.size();
  response_bodies_[target.session_id + "/" + id] = std::move(response_body);
  peer_->event("Network.responseReceived",
               {{"requestId", id}, {"type", type}, {"response", {{"url", url}, {"status", 200}}}}, target.session_id);
  peer_->event("Network.loadingFinished", {{"requestId", id}, {"encodedDataLength", length}}, target.session_id);
}

void FakeChrome::websocket(const Target& target, std::string request_id, std::string url) {
  peer_->event("Network.webSocketCreated", {{"requestId", std::move(request_id)}, {"url", std::move(url)}},
               target.session_id);
}

void FakeChrome::frame(const Target& target, const std::string& request_id, const std::string& payload, bool sent) {
  peer_->event(sent ? "Network.webSocketFrameSent" : "Network.webSocketFrameReceived",
               {{"requestId", request_id},
                {"timestamp", 1},
                {"response", {{"opcode", 1}, {"mask", sent}, {"payloadData", payload}}}},
               target.session_id);
}

void FakeChrome::set_busy(std::int64_t renderer_pid, double cores) {
  auto& cpu = renderers_[renderer_pid];
  const auto now = Clock::now();
  cpu.seconds += cpu.cores * std::chrono::duration<double>(now - cpu.since).count();
  cpu.since = now;
  cpu.cores = cores;
}

void FakeChrome::crash(const Target& page) { peer_->event("Inspector.targetCrashed", Json::object(), page.session_id); }

void FakeChrome::after(std::chrono::milliseconds delay, std::function<void()> action) {
  auto timer = std::make_shared<asio::steady_timer>(executor_, delay);
  timer->async_wait(
      [timer, weak = weak_from_this(), action = std::move(action)](const boost::system::error_code& error) {
        if (!error && weak.lock()) action();
      });
}

void FakeChrome::end_connection() { peer_->end("closed by the peer"); }

Json FakeChrome::process_info() {
  Json list = Json::array();
  const auto now = Clock::now();
  for (auto& [pid, cpu] : renderers_) {
    cpu.seconds += cpu.cores * std::chrono::duration<double>(now - cpu.since).count();
    cpu.since = now;
    list.push_back({{"type", pid == kFakePidBase ? "browser" : "renderer"}, {"id", pid}, {"cpuTime", cpu.seconds}});
  }
  return {{"processInfo", list}};
}

void FakeChrome::navigate(const Json& command, const Target& page) {
  ++navigations_;
  const std::string url = command["params"].value("url", std::string());
  const Navigation navigation = site_ ? site_(*this, page, url) : Navigation{};
  Json response{{"url", url},
                {"status", navigation.http_status},
                {"mimeType", navigation.mime_type},
                {"remoteIPAddress", "127.0.0.1"}};
  peer_->event("Network.responseReceived",
               {{"requestId", "doc"}, {"type", "Document"}, {"frameId", page.target_id}, {"response", response}},
               page.session_id);
  if (!navigation.error_text.empty()) {
    peer_->reply(
        command,
        {{"frameId", page.target_id}, {"errorText", navigation.error_text}, {"isDownload", navigation.is_download}});
    return;
  }
  peer_->event("Page.frameNavigated", {{"frame", {{"id", page.target_id}, {"url", url}}}}, page.session_id);
  peer_->reply(command, {{"frameId", page.target_id}, {"loaderId", "L1"}});
  if (navigation.load) peer_->event("Page.loadEventFired", {{"timestamp", 1}}, page.session_id);
}

void FakeChrome::dispose(const std::string& context_id) {
  ++contexts_disposed_;
  // Children first (their detach arrives on their parent's session), then pages.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto it = targets_.begin(); it != targets_.end();) {
      const bool child = !it->second.parent_session_id.empty();
      if (it->second.context_id != context_id || child != (pass == 0)) {
        ++it;
        continue;
      }
      peer_->event("Target.detachedFromTarget",
                   {{"sessionId", it->second.session_id}, {"targetId", it->second.target_id}},
                   it->second.parent_session_id);
      it = targets_.erase(it);
    }
  }
}

bool FakeChrome::answer_target_command(const Json& command, const std::string& method) {
  const Json& params = command.value("params", Json::object());
  if (method == "Target.createBrowserContext") {
    ++contexts_created_;
    peer_->reply(command, {{"browserContextId", "CTX" + std::to_string(next_id_++)}});
  } else if (method == "Target.createTarget") {
    auto page = add_target("page", params.value("url", std::string("about:blank")),
                           params.value("browserContextId", std::string()), "", kFakePidBase + next_id_);
    peer_->reply(command, {{"targetId", page.target_id}});
  } else if (method == "Target.disposeBrowserContext") {
    dispose(params.value("browserContextId", std::string()));
    peer_->reply(command);
  } else if (method == "Target.setAutoAttach") {
    peer_->reply(command);
  } else {
    return false;
  }
  return true;
}

void FakeChrome::on_command(const Json& command) {
  const std::string method = command.value("method", std::string());
  const std::string session = command.value("sessionId", std::string());
  if (!session.empty() && !targets_.contains(session)) {
    peer_->reply_error(command, kSessionNotFound, "Session with given id not found.");
    return;
  }
  if (answer_target_command(command, method)) return;
  if (method == "SystemInfo.getProcessInfo") {
    peer_->reply(command, process_info());
  } else if (method == "Page.navigate") {
    navigate(command, targets_.at(session));
  } else if (method == "Debugger.getScriptSource") {
    const auto found = sources_.find(command["params"].value("scriptId", std::string()));
    if (found == sources_.end()) {
      peer_->reply_error(command, -32000, "No script for id");
    } else if (found->second.wasm) {
      peer_->reply(command, {{"scriptSource", ""}, {"bytecode", found->second.text}});
    } else {
      peer_->reply(command, {{"scriptSource", found->second.text}});
    }
  } else if (method == "Network.getResponseBody") {
    const auto found = response_bodies_.find(session + "/" + command["params"].value("requestId", std::string()));
    if (found == response_bodies_.end()) peer_->reply_error(command, -32000, "No resource with given identifier found");
    else peer_->reply(command, {{"body", base64(found->second)}, {"base64Encoded", true}});
  } else if (method == "Profiler.stop") {
    const auto found = profiles_.find(session);
    peer_->reply(
        command,
        {{"profile",
          found != profiles_.end()
              ? found->second
              : Json{{"nodes", Json::array()}, {"samples", Json::array()}, {"startTime", 0}, {"endTime", 0}}}});
  } else if (method == "Page.reload") {
    const Target page = targets_.at(session);
    peer_->reply(command);
    after(std::chrono::milliseconds(5), [this, page] {
      peer_->event("Page.loadEventFired", {{"timestamp", 2}}, page.session_id);
    });
  } else if (method == "Browser.close") {
    peer_->reply(command);
    peer_->end("closed by the peer");
  } else if (method == "Network.enable" || method == "Debugger.enable" || method == "Debugger.setSkipAllPauses" ||
             method == "Page.enable" || method == "Runtime.runIfWaitingForDebugger" ||
             method == "Browser.setDownloadBehavior" || method == "Input.dispatchMouseEvent" ||
             method == "Page.handleJavaScriptDialog" || method == "Debugger.resume" || method == "Profiler.enable" ||
             method == "Profiler.disable" || method == "Profiler.start" || method == "Profiler.setSamplingInterval") {
    peer_->reply(command);
  } else {
    peer_->reply_error(command, kMethodNotFound, "'" + method + "' wasn't found");
  }
}

}  // namespace testsupport

namespace testsupport {

std::function<boost::asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>>(const cdp::LaunchOptions&)>
FakeLauncher::factory() {
  return [this](const cdp::LaunchOptions&) { return launch(this); };
}

boost::asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>> FakeLauncher::launch(FakeLauncher* self) {
  if (self->fail)
    co_return util::make_error(util::ErrorCode::browser_start, "launch", "no usable Chrome (a test's choice)");
  auto executor = co_await boost::asio::this_coro::executor;
  auto chrome = FakeChrome::create(executor, self->site_);
  self->chromes_.push_back(chrome);
  auto browser = co_await chrome->connect();
  co_return browser;
}

}  // namespace testsupport
