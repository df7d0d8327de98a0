// tests/fuzz/fuzz_cdp_message.cpp — cdp/message_text, the fast and lenient readers of Chrome's JSON
// messages (a page controls most of their text: URLs, script sources, console and dialog strings).
// The whole input is one message. Beyond "no crash, no UB, no leak", it asserts the module's
// promise to accept exactly the JSON grammar otherwise, differentially against nlohmann's parser:
// a string decode_json_string accepts and nlohmann accepts decodes to the same text; a reply
// parse_string_result reads has the "result" nlohmann reads, as an object of strings; parse_pruned
// without keys is nlohmann's parse (valid exactly when it is), and with keys it is that parse minus
// the pruned members at every depth; replace_lone_surrogates leaves no lone surrogate behind (a
// second pass finds none).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cdp/message_text.hpp"
#include "tests/fuzz/targets.hpp"

namespace cjcrawl::fuzz {
namespace {

using Json = nlohmann::json;

Json parse_strict(std::string_view text) { return Json::parse(text, nullptr, /*allow_exceptions=*/false); }

// `value` without the members under `keys`, at any depth. Iterative: the input may nest thousands deep.
Json without_keys(Json value, const cdp::PrunedKeys& keys) {
  std::vector<Json*> open{&value};
  while (!open.empty()) {
    Json* at = open.back();
    open.pop_back();
    if (at->is_object()) {
      for (const auto& key : keys) at->erase(key);
      for (auto& member : at->items()) open.push_back(&member.value());
    } else if (at->is_array()) {
      for (auto& element : *at) open.push_back(&element);
    }
  }
  return value;
}

void check_string_decoder(std::string_view text) {
  const auto quote = text.find('"');
  if (quote == std::string_view::npos) return;
  std::string decoded;
  const auto end = cdp::decode_json_string(text, quote + 1, decoded);
  if (!end) return;
  expect(*end > quote && *end <= text.size() && text[*end - 1] == '"', "a decoded string ends just past a quote");
  const Json strict = parse_strict(text.substr(quote, *end - quote));
  if (strict.is_discarded()) return;  // lone surrogates and invalid UTF-8: only the fast decoder takes them
  expect(strict.is_string() && strict.get<std::string>() == decoded, "decode_json_string agrees with nlohmann");
}

void check_string_result(std::string_view text, const Json& strict) {
  const auto result = cdp::parse_string_result(text);
  if (!result) return;
  expect(cdp::leading_reply_id(text).has_value(), "a string result is a reply with an id");
  expect(result->is_object(), "a string result is an object");
  for (const auto& member : result->items()) expect(member.value().is_string(), "a string result holds strings only");
  if (strict.is_discarded()) return;
  expect(strict.is_object() && strict.contains("result") && strict["result"] == *result,
         "parse_string_result agrees with nlohmann");
}

void check_pruned(std::string_view text, const Json& strict) {
  const Json unpruned = cdp::parse_pruned(text, {});
  expect(unpruned.is_discarded() == strict.is_discarded(), "parse_pruned accepts what nlohmann accepts");
  if (!strict.is_discarded()) expect(unpruned == strict, "parse_pruned without keys is nlohmann's parse");
  const cdp::PrunedKeys keys{"headers", "timing", "a"};
  const Json pruned = cdp::parse_pruned(text, keys);
  expect(pruned.is_discarded() == strict.is_discarded(), "pruning keeps the validity of the text");
  if (!strict.is_discarded()) expect(pruned == without_keys(strict, keys), "pruned = parsed minus the pruned members");
}

void check_surrogates(std::string_view text, const Json& strict) {
  const auto repaired = cdp::replace_lone_surrogates(text);
  if (!repaired) return;
  expect(!cdp::replace_lone_surrogates(*repaired).has_value(), "no lone surrogate survives a replacement");
  // Valid JSON stays valid: only \uXXXX escapes are rewritten, each into another escape.
  if (!strict.is_discarded()) expect(!parse_strict(*repaired).is_discarded(), "a valid message stays valid");
}

}  // namespace

int cdp_message(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  const Json strict = parse_strict(text);
  (void)cdp::leading_reply_id(text);
  check_string_decoder(text);
  check_string_result(text, strict);
  check_pruned(text, strict);
  check_surrogates(text, strict);
  return 0;
}

}  // namespace cjcrawl::fuzz
