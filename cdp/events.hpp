// cdp/events.hpp — one registry of event handlers, method name to handlers.
//
// Whoever reads events (a visit's collectors) registers a handler per method here, and the same
// table answers two questions: which events the Connection may drop unparsed (handles()), and where
// a parsed one goes (dispatch()). The filter and the dispatch can therefore never disagree: an event
// is parsed exactly when someone will read it. Several handlers may read the same method; they run
// in the order they were registered.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cdp/connection.hpp"

namespace cdp {

class EventRegistry {
 public:
  using Handler = std::function<void(const TargetInfo& target, const Json& params)>;
  // Looks at an event's raw text before it is parsed: false means this handler does not need it.
  // For frequent, large events a handler reads only rarely (a request with a body among hundreds).
  using Wants = std::function<bool(std::string_view raw_text)>;

  // Adds a handler for `method` ("Network.webSocketCreated"); with `wants`, the event is parsed
  // for it only when `wants` accepts the raw text (another handler of the method may still want it).
  void on(std::string_view method, Handler handler, Wants wants = {}) {
    auto it = handlers_.find(method);
    if (it == handlers_.end()) it = handlers_.emplace(std::string(method), std::vector<Entry>()).first;
    it->second.push_back({std::move(handler), std::move(wants)});
  }

  bool handles(std::string_view method) const { return handlers_.find(method) != handlers_.end(); }
  // Whether some handler of `method` wants this event (its raw text): the Connection's parse filter.
  bool wants(std::string_view method, std::string_view raw_text) const {
    const auto it = handlers_.find(method);
    if (it == handlers_.end()) return false;
    for (const auto& entry : it->second)
      if (!entry.wants || entry.wants(raw_text)) return true;
    return false;
  }

  // Runs the handlers of `method`; false when there are none. (A handler whose `wants` refused an
  // event still sees it when another handler had it parsed: handlers do not rely on the filter.)
  bool dispatch(const TargetInfo& target, std::string_view method, const Json& params) const {
    const auto it = handlers_.find(method);
    if (it == handlers_.end()) return false;
    for (const auto& entry : it->second) entry.handler(target, params);
    return true;
  }

  std::vector<std::string> methods() const {
    std::vector<std::string> out;
    for (const auto& [method, handlers] : handlers_) out.push_back(method);
    return out;
  }

 private:
  struct Entry {
    Handler handler;
    Wants wants;
  };
  std::map<std::string, std::vector<Entry>, std::less<>> handlers_;
};

}  // namespace cdp
