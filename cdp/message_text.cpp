// cdp/message_text.cpp — see message_text.hpp.
#include "cdp/message_text.hpp"

#include <charconv>
#include <utility>
#include <vector>

namespace cdp {
namespace {

constexpr std::uint32_t kReplacementCharacter = 0xFFFD;

bool is_high_surrogate(std::uint32_t unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool is_low_surrogate(std::uint32_t unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at text[at..at+4), as a UTF-16 code unit.
std::optional<std::uint32_t> hex4(std::string_view text, std::size_t at) {
  if (at + 4 > text.size()) return std::nullopt;
  std::uint32_t unit = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const int digit = hex_digit(text[i]);
    if (digit < 0) return std::nullopt;
    unit = unit << 4 | static_cast<std::uint32_t>(digit);
  }
  return unit;
}

// A \uXXXX escape of a low surrogate at text[at..at+6).
bool low_surrogate_escape_at(std::string_view text, std::size_t at) {
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return false;
  const auto unit = hex4(text, at + 2);
  return unit && is_low_surrogate(*unit);
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | code_point >> 6);
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | code_point >> 12);
    out += static_cast<char>(0x80 | (code_point >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | code_point >> 18);
    out += static_cast<char>(0x80 | (code_point >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (code_point >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// A cursor over one message, for the fixed shapes Chrome writes.
struct Cursor {
  std::string_view text;
  std::size_t at = 0;

  bool take(std::string_view literal) {
    if (at > text.size() || text.substr(at, literal.size()) != literal) return false;
    at += literal.size();
    return true;
  }
  bool take_string(std::string& out) {
    if (!take("\"")) return false;
    const auto end = decode_json_string(text, at, out);
    if (!end) return false;
    at = *end;
    return true;
  }
  bool done() const { return at == text.size(); }
};

}  // namespace

std::optional<std::size_t> decode_json_string(std::string_view text, std::size_t at, std::string& out) {
  std::size_t i = at;
  for (;;) {
    // A run of plain characters, appended at once.
    std::size_t run_end = i;
    while (run_end < text.size()) {
      const auto c = static_cast<unsigned char>(text[run_end]);
      if (c == '"' || c == '\\' || c < 0x20) break;
      ++run_end;
    }
    out.append(text.data() + i, run_end - i);
    if (run_end >= text.size()) return std::nullopt;  // no closing quote
    if (text[run_end] == '"') return run_end + 1;
    if (text[run_end] != '\\' || run_end + 1 >= text.size()) return std::nullopt;  // a raw control character
    const char escape = text[run_end + 1];
    i = run_end + 2;
    switch (escape) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const auto unit = hex4(text, i);
        if (!unit) return std::nullopt;
        i += 4;
        std::uint32_t code_point = *unit;
        if (is_high_surrogate(code_point) && low_surrogate_escape_at(text, i)) {
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*hex4(text, i + 2) - 0xDC00);
          i += 6;
        } else if (is_high_surrogate(code_point) || is_low_surrogate(code_point)) {
          code_point = kReplacementCharacter;
        }
        append_utf8(out, code_point);
        break;
      }
      default: return std::nullopt;
    }
  }
}

std::optional<std::int64_t> leading_reply_id(std::string_view text) {
  constexpr std::string_view kPrefix = R"({"id":)";
  if (!text.starts_with(kPrefix)) return std::nullopt;
  std::int64_t id = 0;
  const char* end = text.data() + text.size();
  const auto parsed = std::from_chars(text.data() + kPrefix.size(), end, id);
  if (parsed.ec != std::errc() || parsed.ptr == end || (*parsed.ptr != ',' && *parsed.ptr != '}')) return std::nullopt;
  return id;
}

std::optional<nlohmann::json> parse_string_result(std::string_view text) {
  if (!leading_reply_id(text)) return std::nullopt;
  Cursor cursor{text, text.find(',')};
  if (!cursor.take(R"(,"result":{)")) return std::nullopt;
  nlohmann::json result = nlohmann::json::object();
  if (!cursor.take("}")) {
    for (;;) {
      std::string key;
      std::string value;
      if (!cursor.take_string(key) || !cursor.take(":") || !cursor.take_string(value)) return std::nullopt;
      result[std::move(key)] = std::move(value);
      if (cursor.take("}")) break;
      if (!cursor.take(",")) return std::nullopt;
    }
  }
  if (cursor.take(R"(,"sessionId":)")) {
    std::string session;
    if (!cursor.take_string(session)) return std::nullopt;
  }
  if (!cursor.take("}") || !cursor.done()) return std::nullopt;
  return result;
}

namespace {

// nlohmann's SAX interface, building the DOM as json_sax_dom_parser does, minus pruned members.
class PrunedDom {
 public:
  using Json = nlohmann::json;
  PrunedDom(Json& root, const PrunedKeys& pruned) : root_(root), pruned_(pruned) {}

  bool null() { return add(nullptr); }
  bool boolean(bool value) { return add(value); }
  bool number_integer(Json::number_integer_t value) { return add(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return add(value); }
  bool number_float(Json::number_float_t value, const Json::string_t&) { return add(value); }
  bool string(Json::string_t& value) { return add(std::move(value)); }
  bool binary(Json::binary_t& value) { return add(std::move(value)); }
  bool start_object(std::size_t) { return open(Json::value_t::object); }
  bool start_array(std::size_t) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& key) {
    if (skipping_ > 0) return true;
    if (pruned_.contains(key)) {
      skip_next_ = true;
      return true;
    }
    member_ = &(*open_.back())[std::move(key)];
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  // Where the next value goes: the root, the member just keyed, or the end of the open array.
  template <class Value>
  Json* place(Value&& value) {
    if (open_.empty()) {
      root_ = Json(std::forward<Value>(value));
      return &root_;
    }
    if (open_.back()->is_array()) {
      open_.back()->emplace_back(std::forward<Value>(value));
      return &open_.back()->back();
    }
    *member_ = Json(std::forward<Value>(value));
    return member_;
  }
  template <class Value>
  bool add(Value&& value) {
    if (skipping_ > 0) return true;
    if (skip_next_) {
      skip_next_ = false;
      return true;
    }
    place(std::forward<Value>(value));
    return true;
  }
  bool open(Json::value_t type) {
    if (skipping_ > 0 || skip_next_) {
      skip_next_ = false;
      ++skipping_;
      return true;
    }
    open_.push_back(place(Json(type)));
    return true;
  }
  bool close() {
    if (skipping_ > 0) --skipping_;
    else open_.pop_back();
    return true;
  }

  Json& root_;
  const PrunedKeys& pruned_;
  std::vector<Json*> open_;
  Json* member_ = nullptr;
  int skipping_ = 0;  // depth inside a pruned value
  bool skip_next_ = false;
};

}  // namespace

nlohmann::json parse_pruned(std::string_view text, const PrunedKeys& pruned) {
  nlohmann::json root;
  PrunedDom dom(root, pruned);
  if (!nlohmann::json::sax_parse(text, &dom)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return root;
}

std::optional<std::string> replace_lone_surrogates(std::string_view text) {
  std::string out;
  bool replaced = false;
  std::size_t copied = 0;  // text[copied..i) is still to be copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    // In valid JSON a backslash starts an escape inside a string; `\\` is consumed whole, so the
    // backslash of an escaped backslash is never taken for an escape of its own.
    if (i + 1 >= text.size()) break;
    if (text[i + 1] != 'u') {
      ++i;
      continue;
    }
    const auto unit = hex4(text, i + 2);
    if (!unit) continue;  // malformed: left for the parser to reject
    if (is_high_surrogate(*unit) && low_surrogate_escape_at(text, i + 6)) {
      i += 11;  // the pair, whole
      continue;
    }
    if (is_high_surrogate(*unit) || is_low_surrogate(*unit)) {
      out.append(text.substr(copied, i - copied));
      out += "\\uFFFD";
      copied = i + 6;
      replaced = true;
    }
    i += 5;
  }
  if (!replaced) return std::nullopt;
  out.append(text.substr(copied));
  return out;
}

}  // namespace cdp
