// cdp/commands.cpp — the replies that take more than a line to read.
#include "cdp/commands.hpp"

#include <algorithm>
#include <unordered_map>

namespace cdp {
namespace {

bool is_pseudo_frame(std::string_view name, std::string_view script_id) {
  return script_id == "0" &&
         (name == "(root)" || name == "(idle)" || name == "(program)" || name == "(garbage collector)");
}

}  // namespace

ProfilerStop::Result ProfilerStop::parse(const Json& reply) {
  Result out;
  const Json& profile = reply.at("profile");
  // Node id → index into out.functions (or npos for pseudo-frames); identical frames under
  // different callers fold into one function.
  std::unordered_map<std::int64_t, std::size_t> node_function;
  std::unordered_map<std::string, std::size_t> by_frame;
  constexpr std::size_t kPseudo = static_cast<std::size_t>(-1);
  const Json& nodes = profile.value("nodes", Json::array());
  for (const auto& node : nodes) {
    if (node_function.size() == kMaxNodes) {
      out.truncated = true;
      break;
    }
    const Json& frame = node.value("callFrame", Json::object());
    ProfiledFunction function{frame.value("functionName", std::string()),
                              frame.value("scriptId", std::string()),
                              frame.value("url", std::string()),
                              frame.value("lineNumber", -1),
                              frame.value("columnNumber", -1),
                              0};
    const auto id = node.value("id", std::int64_t{-1});
    if (is_pseudo_frame(function.function_name, function.script_id)) {
      node_function.emplace(id, kPseudo);
      continue;
    }
    const std::string key = function.script_id + ':' + std::to_string(function.line) + ':' +
                            std::to_string(function.column) + ':' + function.function_name;
    auto [found, added] = by_frame.emplace(key, out.functions.size());
    if (added) out.functions.push_back(std::move(function));
    node_function.emplace(id, found->second);
  }
  for (const auto& sample : profile.value("samples", Json::array())) {
    ++out.total_samples;
    if (!sample.is_number_integer()) continue;
    const auto node = node_function.find(sample.get<std::int64_t>());
    if (node != node_function.end() && node->second != kPseudo) ++out.functions[node->second].samples;
  }
  const double start = profile.value("startTime", 0.0);
  const double end = profile.value("endTime", 0.0);
  out.duration_seconds = end > start ? (end - start) / 1e6 : 0.0;
  std::erase_if(out.functions, [](const ProfiledFunction& function) { return function.samples == 0; });
  std::sort(out.functions.begin(), out.functions.end(),
            [](const ProfiledFunction& a, const ProfiledFunction& b) { return a.samples > b.samples; });
  return out;
}

}  // namespace cdp
