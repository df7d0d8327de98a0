// cdp/commands.hpp — the handful of CDP commands cjcrawl sends, as types.
//
// Each command has a fixed method name (kMethod), its parameters (params()) and a result type parsed
// from the reply (parse()), so `session.send(PageNavigate{url})` yields a `Result<PageNavigate::Result>`.
// The raw `Connection::call` sits underneath; nothing outside cdp/ uses it.
// Field meanings: shared/data/devtools-protocol/browser_protocol.json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cdp {

using Json = nlohmann::json;

// Commands whose reply carries nothing we use.
struct Empty {};

template <const char* Method>
struct NoParamsCommand {
  static constexpr std::string_view kMethod = Method;
  using Result = Empty;
  Json params() const { return Json::object(); }
  static Result parse(const Json&) { return {}; }
};

namespace method_names {
inline constexpr char kRunIfWaiting[] = "Runtime.runIfWaitingForDebugger";
inline constexpr char kRuntimeEnable[] = "Runtime.enable";
inline constexpr char kPageEnable[] = "Page.enable";
inline constexpr char kDebuggerEnable[] = "Debugger.enable";
inline constexpr char kBrowserClose[] = "Browser.close";
inline constexpr char kGetProcessInfo[] = "SystemInfo.getProcessInfo";
inline constexpr char kPageReload[] = "Page.reload";
inline constexpr char kDebuggerResume[] = "Debugger.resume";
inline constexpr char kProfilerEnable[] = "Profiler.enable";
inline constexpr char kProfilerDisable[] = "Profiler.disable";
inline constexpr char kProfilerStart[] = "Profiler.start";
}  // namespace method_names

using RuntimeRunIfWaitingForDebugger = NoParamsCommand<method_names::kRunIfWaiting>;
using RuntimeEnable = NoParamsCommand<method_names::kRuntimeEnable>;
using PageEnable = NoParamsCommand<method_names::kPageEnable>;
using DebuggerEnable = NoParamsCommand<method_names::kDebuggerEnable>;
using BrowserClose = NoParamsCommand<method_names::kBrowserClose>;
using PageReload = NoParamsCommand<method_names::kPageReload>;
using DebuggerResume = NoParamsCommand<method_names::kDebuggerResume>;
using ProfilerEnable = NoParamsCommand<method_names::kProfilerEnable>;
using ProfilerDisable = NoParamsCommand<method_names::kProfilerDisable>;
using ProfilerStart = NoParamsCommand<method_names::kProfilerStart>;

// A mouse event as a visitor's hand makes it: a move, or a wheel scroll (deltaY) at (x, y).
struct InputDispatchMouseEvent {
  static constexpr std::string_view kMethod = "Input.dispatchMouseEvent";
  std::string type;  // "mouseMoved" or "mouseWheel"
  int x = 0;
  int y = 0;
  int wheel_delta_y = 0;  // mouseWheel only
  using Result = Empty;
  Json params() const {
    Json out{{"type", type}, {"x", x}, {"y", y}};
    if (type == "mouseWheel") {
      out["deltaX"] = 0;
      out["deltaY"] = wheel_delta_y;
    }
    return out;
  }
  static Result parse(const Json&) { return {}; }
};

// A fresh, incognito-like context: its own cookies, storage, cache and service workers.
struct TargetCreateBrowserContext {
  static constexpr std::string_view kMethod = "Target.createBrowserContext";
  struct Result {
    std::string browser_context_id;
  };
  Json params() const { return Json::object(); }
  static Result parse(const Json& reply) { return {reply.at("browserContextId").get<std::string>()}; }
};

// Closes every target of the context and drops its data.
struct TargetDisposeBrowserContext {
  static constexpr std::string_view kMethod = "Target.disposeBrowserContext";
  std::string browser_context_id;
  using Result = Empty;
  Json params() const { return {{"browserContextId", browser_context_id}}; }
  static Result parse(const Json&) { return {}; }
};

struct TargetCreateTarget {
  static constexpr std::string_view kMethod = "Target.createTarget";
  std::string url = "about:blank";
  std::string browser_context_id;  // empty: the default context
  struct Result {
    std::string target_id;
  };
  Json params() const {
    Json out{{"url", url}};
    if (!browser_context_id.empty()) out["browserContextId"] = browser_context_id;
    return out;
  }
  static Result parse(const Json& reply) { return {reply.at("targetId").get<std::string>()}; }
};

struct TargetSetAutoAttach {
  static constexpr std::string_view kMethod = "Target.setAutoAttach";
  bool wait_for_debugger_on_start = true;
  // Leave Chrome's own WebUI (type browser_ui) unattached. Chrome 156 opens two omnibox-popup WebUI
  // pages per browser context; attaching each cost four messages (attach, resume and its reply,
  // detach), about a tenth of all per site (counted on the bench corpus). The filter is Chrome's
  // default (all but browser and tab) with browser_ui also excluded.
  bool skip_browser_ui = false;
  using Result = Empty;
  Json params() const {
    Json out{{"autoAttach", true}, {"waitForDebuggerOnStart", wait_for_debugger_on_start}, {"flatten", true}};
    if (skip_browser_ui)
      out["filter"] = Json::array({{{"type", "browser"}, {"exclude", true}},
                                   {{"type", "tab"}, {"exclude", true}},
                                   {{"type", "browser_ui"}, {"exclude", true}},
                                   Json::object()});
    return out;
  }
  static Result parse(const Json&) { return {}; }
};

struct NetworkEnable {
  static constexpr std::string_view kMethod = "Network.enable";
  // Response bodies are read only from workers (where a miner's HTTP pool traffic comes from), so
  // only workers ask Chrome to keep small bodies; pages buffer none. Small request bodies come inline
  // in Network.requestWillBeSent on every target.
  static constexpr int kWorkerResourceBufferBytes = 16 * 1024;
  static constexpr int kWorkerTotalBufferBytes = 256 * 1024;
  static constexpr int kMaxPostDataBytes = 8 * 1024;
  bool buffer_bodies = false;
  using Result = Empty;
  Json params() const {
    return {{"maxTotalBufferSize", buffer_bodies ? kWorkerTotalBufferBytes : 0},
            {"maxResourceBufferSize", buffer_bodies ? kWorkerResourceBufferBytes : 0},
            {"maxPostDataSize", kMaxPostDataBytes}};
  }
  static Result parse(const Json&) { return {}; }
};

struct NetworkGetResponseBody {
  static constexpr std::string_view kMethod = "Network.getResponseBody";
  std::string request_id;
  struct Result {
    std::string body;
    bool base64_encoded = false;
  };
  Json params() const { return {{"requestId", request_id}}; }
  static Result parse(const Json& reply) {
    return {reply.value("body", std::string()), reply.value("base64Encoded", false)};
  }
};

struct DebuggerSetSkipAllPauses {
  static constexpr std::string_view kMethod = "Debugger.setSkipAllPauses";
  using Result = Empty;
  // Hostile pages run `debugger;` in a loop to freeze instrumented visitors: never pause.
  Json params() const { return {{"skip", true}}; }
  static Result parse(const Json&) { return {}; }
};

struct PageNavigate {
  static constexpr std::string_view kMethod = "Page.navigate";
  std::string url;
  struct Result {
    std::string frame_id;
    std::string loader_id;
    std::string error_text;    // e.g. "net::ERR_NAME_NOT_RESOLVED"; empty on success
    bool is_download = false;  // the navigation became a download (errorText net::ERR_ABORTED)
  };
  Json params() const { return {{"url", url}}; }
  static Result parse(const Json& reply) {
    return {reply.value("frameId", std::string()), reply.value("loaderId", std::string()),
            reply.value("errorText", std::string()), reply.value("isDownload", false)};
  }
};

struct PageHandleJavaScriptDialog {
  static constexpr std::string_view kMethod = "Page.handleJavaScriptDialog";
  bool accept = false;
  using Result = Empty;
  Json params() const { return {{"accept", accept}}; }
  static Result parse(const Json&) { return {}; }
};

struct BrowserSetDownloadBehavior {
  static constexpr std::string_view kMethod = "Browser.setDownloadBehavior";
  std::string browser_context_id;  // empty: the default context (each context has its own setting)
  using Result = Empty;
  Json params() const {
    Json out{{"behavior", "deny"}};
    if (!browser_context_id.empty()) out["browserContextId"] = browser_context_id;
    return out;
  }
  static Result parse(const Json&) { return {}; }
};

struct DebuggerGetScriptSource {
  static constexpr std::string_view kMethod = "Debugger.getScriptSource";
  std::string script_id;
  struct Result {
    std::string script_source;
    std::string bytecode_base64;  // Wasm modules: the whole binary, base64
  };
  Json params() const { return {{"scriptId", script_id}}; }
  static Result parse(const Json& reply) {
    return {reply.value("scriptSource", std::string()), reply.value("bytecode", std::string())};
  }
};

// V8's sampling interval, in microseconds; set before Profiler.start.
struct ProfilerSetSamplingInterval {
  static constexpr std::string_view kMethod = "Profiler.setSamplingInterval";
  int interval_us = 1000;
  using Result = Empty;
  Json params() const { return {{"interval", interval_us}}; }
  static Result parse(const Json&) { return {}; }
};

// One function of a CPU profile with the samples taken while it was on top of the stack (self
// time). V8 reports Wasm functions as "wasm-function[N]" (or their name-section name) with line 0
// and the function's module byte offset as the column.
struct ProfiledFunction {
  std::string function_name;
  std::string script_id;
  std::string url;
  int line = -1;  // 0-based; -1 for V8's pseudo-frames
  int column = -1;
  std::uint64_t samples = 0;
};

// Stops the profiler and reads its profile, folded into self samples per function. The pseudo-frames
// "(root)", "(idle)", "(program)" and "(garbage collector)" count in `total_samples` only, so a
// function's samples / total is its share of the profile's wall time. At most kMaxNodes call-tree
// nodes are read (a hostile page can grow the tree); `truncated` says when more were dropped.
struct ProfilerStop {
  static constexpr std::string_view kMethod = "Profiler.stop";
  static constexpr std::size_t kMaxNodes = 100'000;
  using Params = Empty;
  struct Result {
    std::vector<ProfiledFunction> functions;  // those with self samples, most samples first
    std::uint64_t total_samples = 0;
    double duration_seconds = 0;
    bool truncated = false;
  };
  Json params() const { return Json::object(); }
  static Result parse(const Json& reply);
};

struct ProcessInfo {
  std::string type;  // browser, renderer, GPU, utility...
  std::int64_t pid = 0;
  double cpu_seconds = 0;  // cumulative over all threads
};

struct SystemInfoGetProcessInfo : NoParamsCommand<method_names::kGetProcessInfo> {
  struct Result {
    std::vector<ProcessInfo> processes;
  };
  static Result parse(const Json& reply) {
    Result out;
    for (const auto& item : reply.at("processInfo"))
      out.processes.push_back(
          {item.value("type", std::string()), item.value("id", std::int64_t{0}), item.value("cpuTime", 0.0)});
    return out;
  }
};

}  // namespace cdp
