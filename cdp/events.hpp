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

  // Adds a handler for `method` ("Network.webSocketCreated").
  void on(std::string_view method, Handler handler) {
    auto it = handlers_.find(method);
    if (it == handlers_.end()) it = handlers_.emplace(std::string(method), std::vector<Handler>()).first;
    it->second.push_back(std::move(handler));
  }

  bool handles(std::string_view method) const { return handlers_.find(method) != handlers_.end(); }

  // Runs the handlers of `method`; false when there are none.
  bool dispatch(const TargetInfo& target, std::string_view method, const Json& params) const {
    const auto it = handlers_.find(method);
    if (it == handlers_.end()) return false;
    for (const auto& handler : it->second) handler(target, params);
    return true;
  }

  std::vector<std::string> methods() const {
    std::vector<std::string> out;
    for (const auto& [method, handlers] : handlers_) out.push_back(method);
    return out;
  }

 private:
  std::map<std::string, std::vector<Handler>, std::less<>> handlers_;
};

}  // namespace cdp
