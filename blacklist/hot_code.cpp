// blacklist/hot_code.cpp — judging hot functions: Wasm by the fingerprint's map of hash code,
// JavaScript by its operators.
#include "blacklist/hot_code.hpp"

#include <algorithm>
#include <iterator>
#include <map>

#include <fmt/format.h>

namespace blacklist {
namespace {

// The byte offset of V8's 0-based (line, column), or npos. Columns count UTF-16 units; counting
// bytes instead only shifts the start inside a line of non-ASCII text, and the scan looks for the
// function's opening brace from there anyway.
std::size_t offset_of(std::string_view source, int line, int column) {
  if (line < 0 || column < 0) return std::string_view::npos;
  std::size_t at = 0;
  for (int i = 0; i < line; ++i) {
    at = source.find('\n', at);
    if (at == std::string_view::npos) return at;
    ++at;
  }
  const std::size_t end_of_line = std::min(source.find('\n', at), source.size());
  return std::min(at + static_cast<std::size_t>(column), end_of_line);
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

// Reads one function's text token by token, just enough to count operators and find its end:
// strings, template literals, comments and regular-expression literals are skipped whole.
class JsScanner {
 public:
  explicit JsScanner(std::string_view text) : text_(text) {}
  JsFunctionShape run();

 private:
  void skip_quoted(char quote);
  void skip_regex();
  void count_operator(std::size_t length, bool bitwise);
  void scan_token(char c, std::string_view rest);
  bool regex_may_start() const;

  std::string_view text_;
  std::size_t at_ = 0;
  int depth_ = 0;
  bool body_started_ = false;
  char last_significant_ = '(';  // what came before: decides whether '/' starts a regex
  JsFunctionShape shape_;
};

void JsScanner::skip_quoted(char quote) {
  for (++at_; at_ < text_.size(); ++at_) {
    if (text_[at_] == '\\') ++at_;
    else if (text_[at_] == quote) break;
  }
  ++at_;
}

void JsScanner::skip_regex() {
  bool in_class = false;
  for (++at_; at_ < text_.size() && text_[at_] != '\n'; ++at_) {
    const char c = text_[at_];
    if (c == '\\') ++at_;
    else if (c == '[') in_class = true;
    else if (c == ']') in_class = false;
    else if (c == '/' && !in_class) break;
  }
  ++at_;
}

bool JsScanner::regex_may_start() const {
  static constexpr std::string_view kBefore = "(,=:[!&|?{};+-*%<>~^";
  return kBefore.find(last_significant_) != std::string_view::npos;
}

void JsScanner::count_operator(std::size_t length, bool bitwise) {
  ++shape_.operators;
  if (bitwise) ++shape_.bitwise;
  at_ += length;
}

// An identifier or an operator (counted), or punctuation skipped.
void JsScanner::scan_token(char c, std::string_view rest) {
  if (is_identifier_char(c)) {
    while (at_ < text_.size() && is_identifier_char(text_[at_])) ++at_;
  } else if (rest.starts_with(">>>=") || rest.starts_with(">>>")) {
    count_operator(rest.starts_with(">>>=") ? 4 : 3, true);
  } else if (rest.starts_with("<<") || rest.starts_with(">>")) {
    count_operator(rest.size() > 2 && rest[2] == '=' ? 3 : 2, true);
  } else if (rest.starts_with("&&") || rest.starts_with("||") || rest.starts_with("??")) {
    count_operator(2, false);
  } else if (c == '|' && rest.size() > 1 && rest[1] != '=') {
    // asm.js writes `x|0` to say "an int": a type annotation, not work.
    std::size_t next = at_ + 1;
    while (next < text_.size() && text_[next] == ' ') ++next;
    const bool coercion =
        next < text_.size() && text_[next] == '0' && (next + 1 >= text_.size() || !is_identifier_char(text_[next + 1]));
    if (coercion) ++at_;
    else count_operator(1, true);
  } else if (c == '^' || c == '&' || c == '|' || c == '~') {
    count_operator(rest.size() > 1 && rest[1] == '=' && c != '~' ? 2 : 1, true);
  } else if (std::string_view("+-*/%=<>!?:").find(c) != std::string_view::npos) {
    count_operator(1, false);
  } else {
    ++at_;  // brackets, separators, dots, numbers' punctuation
  }
}

JsFunctionShape JsScanner::run() {
  shape_.found = true;
  while (at_ < text_.size()) {
    const char c = text_[at_];
    const std::string_view rest = text_.substr(at_);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++at_;
      continue;
    }
    if (rest.starts_with("//")) {
      at_ = std::min(text_.find('\n', at_), text_.size());
      continue;
    }
    if (rest.starts_with("/*")) {
      const auto end = text_.find("*/", at_ + 2);
      at_ = end == std::string_view::npos ? text_.size() : end + 2;
      continue;
    }
    last_significant_ = c;
    if (c == '"' || c == '\'' || c == '`') {
      skip_quoted(c);
    } else if (c == '/' && regex_may_start()) {
      skip_regex();
    } else if (c == '{') {
      body_started_ = true;
      ++depth_;
      ++at_;
    } else if (c == '}') {
      ++at_;
      if (--depth_ <= 0 && body_started_) {
        shape_.complete = true;
        break;
      }
    } else if (c == ';' && depth_ == 0 && !body_started_) {  // an arrow function's expression body ended
      shape_.complete = true;
      break;
    } else {
      scan_token(c, rest);
    }
  }
  shape_.bytes = std::min(at_, text_.size());
  return shape_;
}

}  // namespace

std::string_view to_string(CodeKind kind) {
  switch (kind) {
    case CodeKind::mining_hash: return "mining hash";
    case CodeKind::hash: return "hash";
    case CodeKind::not_hash: return "not a hash";
    case CodeKind::unknown: break;
  }
  return "unknown";
}

CodeKind code_kind_from_string(std::string_view text) {
  for (CodeKind kind : {CodeKind::mining_hash, CodeKind::hash, CodeKind::not_hash})
    if (text == to_string(kind)) return kind;
  return CodeKind::unknown;
}

CodeJudgement judge_wasm_code(const ScriptRecord& module, std::uint32_t offset) {
  if (module.source_state != "fetched" || !module.wasm_fingerprinted)
    return {CodeKind::unknown, fmt::format("module not fingerprinted ({})", module.source_state)};
  const auto& functions = module.wasm_hash_functions;
  // Bodies follow each other in index order, so the ranges are sorted by offset.
  auto after = std::upper_bound(functions.begin(), functions.end(), offset,
                                [](std::uint32_t value, const WasmHashFunction& f) { return value < f.begin; });
  const WasmHashFunction* hit = nullptr;
  // V8 names a body by its first byte or by the size bytes just before it: 5 bytes of slack.
  if (after != functions.end() && after->begin - offset <= 5) hit = &*after;
  else if (after != functions.begin() && offset < std::prev(after)->end) hit = &*std::prev(after);
  if (!hit) return {CodeKind::not_hash, "not hash code (few bitwise instructions, no hash constants)"};
  if (module.wasm_miner)
    return {CodeKind::mining_hash,
            fmt::format("function {}: {}, in a module with mining-hash structure", hit->index, hit->what)};
  return {CodeKind::hash,
          fmt::format("function {}: {}, in a module without mining-hash structure", hit->index, hit->what)};
}

JsFunctionShape measure_js_function(std::string_view source, int line, int column) {
  const std::size_t start = offset_of(source, line, column);
  if (start == std::string_view::npos || start >= source.size()) return {};
  return JsScanner(source.substr(start, kMaxJsFunctionBytes)).run();
}

CodeJudgement judge_js_code(const JsFunctionShape& shape) {
  if (!shape.found) return {CodeKind::unknown, "function not found in its script"};
  const double share =
      shape.operators == 0 ? 0.0 : static_cast<double>(shape.bitwise) / static_cast<double>(shape.operators);
  const std::string counts = fmt::format("{} of {} operators bitwise ({:.0f}%){}", shape.bitwise, shape.operators,
                                         100 * share, shape.complete ? "" : ", first 64 KiB read");
  if (shape.bitwise >= kJsHashMinBitwise && share >= kJsHashMinShare)
    return {CodeKind::hash, "hash-like JavaScript: " + counts};
  return {CodeKind::not_hash, "not hash-like: " + counts};
}

HotCodeSummary summarize_hot_code(const std::vector<HotCodeRecord>& hot_code) {
  std::map<int, HotCodeSummary> rounds;
  for (const auto& hot : hot_code) {
    auto& round = rounds[hot.round];
    switch (code_kind_from_string(hot.code)) {
      case CodeKind::mining_hash:
        round.mining_share += hot.share;
        if (!round.hottest_mining || hot.share > round.hottest_mining->share) round.hottest_mining = &hot;
        break;
      case CodeKind::hash: round.hash_share += hot.share; break;
      case CodeKind::not_hash: round.not_hash_share += hot.share; break;
      case CodeKind::unknown: break;
    }
  }
  HotCodeSummary best;
  for (const auto& entry : rounds) {
    const HotCodeSummary& round = entry.second;
    if (round.mining_share > best.mining_share ||
        (round.mining_share == best.mining_share && round.not_hash_share > best.not_hash_share))
      best = round;
  }
  return best;
}

}  // namespace blacklist
