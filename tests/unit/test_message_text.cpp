// tests/unit/test_message_text.cpp — the fast decoder of Chrome's string-only replies agrees with
// nlohmann's parser on every valid string (random ones included, as Chrome escapes them and not), and
// turns the lone surrogates nlohmann refuses into U+FFFD instead of dropping the message.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "cdp/message_text.hpp"

namespace {

using Json = nlohmann::json;

std::string decode(std::string_view quoted) {
  std::string out;
  const auto end = cdp::decode_json_string(quoted, 1, out);
  REQUIRE(end);
  CHECK(*end == quoted.size());
  return out;
}

bool malformed(std::string_view quoted) {
  std::string out;
  return !cdp::decode_json_string(quoted, 1, out);
}

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// A random string of code points from every class a decoder treats differently.
std::u32string random_text(std::mt19937& rng) {
  static const std::u32string kSpecial = U"\"\\/\b\f\n\r\t\x01\x1F\x7F";
  std::uniform_int_distribution<int> length(0, 40);
  std::uniform_int_distribution<int> kind(0, 5);
  std::u32string text;
  for (int n = length(rng); n > 0; --n) {
    switch (kind(rng)) {
      case 0: text += static_cast<char32_t>(std::uniform_int_distribution<int>(0x20, 0x7E)(rng)); break;
      case 1: text += kSpecial[std::uniform_int_distribution<std::size_t>(0, kSpecial.size() - 1)(rng)]; break;
      case 2: text += static_cast<char32_t>(std::uniform_int_distribution<int>(0x80, 0x7FF)(rng)); break;
      case 3: text += static_cast<char32_t>(std::uniform_int_distribution<int>(0x800, 0xD7FF)(rng)); break;
      case 4: text += static_cast<char32_t>(std::uniform_int_distribution<int>(0xE000, 0xFFFF)(rng)); break;
      default: text += static_cast<char32_t>(std::uniform_int_distribution<int>(0x10000, 0x10FFFF)(rng)); break;
    }
  }
  return text;
}

std::string utf8(const std::u32string& text) {
  std::string out;
  for (const char32_t c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | c >> 6);
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | c >> 12);
      out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | c >> 18);
      out += static_cast<char>(0x80 | (c >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("decoding a JSON string agrees with nlohmann on random valid strings, escaped both ways", "[cdp]") {
  std::mt19937 rng(20261126);
  for (int i = 0; i < 2000; ++i) {
    const std::string text = utf8(random_text(rng));
    // ensure_ascii: every non-ASCII character as \uXXXX, astral ones as surrogate pairs (Chrome's way).
    for (const bool ascii : {true, false}) {
      const std::string quoted = Json(text).dump(-1, ' ', ascii);
      INFO(quoted);
      CHECK(decode(quoted) == Json::parse(quoted).get<std::string>());
      CHECK(decode(quoted) == text);
    }
  }
}

TEST_CASE("decoding a JSON string: escapes, surrogates and malformed input", "[cdp]") {
  CHECK(decode(R"("")") == "");
  CHECK(decode(R"("a\"b\\c\/d\b\f\n\r\t")") == "a\"b\\c/d\b\f\n\r\t");
  CHECK(decode(R"("\u00e9\u20AC")") == "\xC3\xA9\xE2\x82\xAC");
  CHECK(decode(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");  // a pair: U+1F600
  // Lone surrogates, which nlohmann refuses, become U+FFFD; a pair after a lone high one is kept.
  CHECK(decode(R"("a\ud800b")") == "a" + kReplacement + "b");
  CHECK(decode(R"("\udc00")") == kReplacement);
  CHECK(decode(R"("\ud800")") == kReplacement);
  CHECK(decode(R"("\ud800\ud83d\ude00")") == kReplacement + "\xF0\x9F\x98\x80");
  CHECK(decode(R"("\ud800\n")") == kReplacement + "\n");
  // Stops at the closing quote: what follows is the caller's.
  std::string out;
  const std::string_view two = R"("ab","cd")";
  CHECK(cdp::decode_json_string(two, 1, out) == std::optional<std::size_t>(4));
  CHECK(out == "ab");
  // Malformed: no closing quote, a raw control character, an unknown escape, short or bad hex.
  CHECK(malformed(R"("abc)"));
  CHECK(malformed("\"a\nb\""));
  CHECK(malformed(R"("\x41")"));
  CHECK(malformed(R"("\u12")"));
  CHECK(malformed(R"("\u12G4")"));
  CHECK(malformed(R"("\ud800\u12G4")"));
  CHECK(malformed(R"("abc\)"));
}

TEST_CASE("a string-only reply is read as its result, and any other shape is declined", "[cdp]") {
  const auto source = cdp::parse_string_result(R"({"id":12,"result":{"scriptSource":"let a = \"x\";\n"}})");
  REQUIRE(source);
  CHECK(*source == Json{{"scriptSource", "let a = \"x\";\n"}});
  const auto wasm = cdp::parse_string_result(
      R"({"id":13,"result":{"scriptSource":"","bytecode":"AGFzbQEAAAA="},"sessionId":"5A1B"})");
  REQUIRE(wasm);
  CHECK(*wasm == Json{{"scriptSource", ""}, {"bytecode", "AGFzbQEAAAA="}});
  CHECK(cdp::parse_string_result(R"({"id":14,"result":{}})") == Json::object());
  CHECK(cdp::parse_string_result(R"({"id":15,"result":{"s":"\ud800"}})") == Json{{"s", kReplacement}});
  CHECK(cdp::leading_reply_id(R"({"id":12,"result":{}})") == std::optional<std::int64_t>(12));

  // Declined: the general parser takes these.
  for (const std::string_view text : {R"({"id":16,"result":{"processInfo":[{"id":1}]}})",            // not a string
                                      R"({"id":17,"result":{"n":1}})",                               // not a string
                                      R"({"id":18,"error":{"code":-32000,"message":"No script"}})",  // an error
                                      R"({"id":19,"result":{"s":"x"},"sessionId":"A","extra":1})",   // more after
                                      R"({"id":20,"result":{"s":"x"}} )",                            // trailing text
                                      R"({"id":21,"result":{"s":"x"})",                              // truncated
                                      R"({"id":22})", R"({"id":})", R"({"id":23)", R"({ "id":24,"result":{}})",
                                      R"({"method":"Page.loadEventFired","params":{}})", "", "{"}) {
    INFO(text);
    CHECK_FALSE(cdp::parse_string_result(text));
  }
}

TEST_CASE("lone surrogate escapes are replaced so the strict parser accepts the message", "[cdp]") {
  const std::string message =
      R"({"method":"Page.javascriptDialogOpening","params":{"message":"a\ud800b\udc00c\ud83d\ude00"}})";
  CHECK(Json::parse(message, nullptr, false).is_discarded());
  const auto repaired = cdp::replace_lone_surrogates(message);
  REQUIRE(repaired);
  const Json parsed = Json::parse(*repaired);
  CHECK(parsed["params"]["message"] == "a" + kReplacement + "b" + kReplacement + "c\xF0\x9F\x98\x80");

  // Nothing to replace: an escaped backslash before "ud800" is text, and pairs are whole.
  CHECK_FALSE(cdp::replace_lone_surrogates(R"({"s":"\\ud800 \ud83d\ude00"})"));
  CHECK_FALSE(cdp::replace_lone_surrogates(R"({"s":"plain"})"));
  // At the very end, and a high surrogate followed by an escaped backslash.
  CHECK(cdp::replace_lone_surrogates(R"("\ud800")") == std::optional<std::string>(R"("\uFFFD")"));
  CHECK(cdp::replace_lone_surrogates(R"("\ud800\\")") == std::optional<std::string>(R"("\uFFFD\\")"));
}

TEST_CASE("a pruned parse equals the full parse minus the pruned members, at any depth", "[cdp]") {
  const cdp::PrunedKeys pruned{"headers", "timing"};
  const std::string message = R"({"method":"Network.responseReceived","params":{"requestId":"7","type":"Document",
      "response":{"url":"http://a.test/","status":200,"remoteIPAddress":"127.0.0.1","headers":{"A":"1","B":["x",{"c":2}]},
      "timing":{"requestTime":1.5,"dnsStart":-1},"fromDiskCache":false,"list":[{"headers":1,"keep":null},[],{}]}}})";
  Json expected = Json::parse(message);
  expected["params"]["response"].erase("headers");
  expected["params"]["response"].erase("timing");
  expected["params"]["response"]["list"][0].erase("headers");
  CHECK(cdp::parse_pruned(message, pruned) == expected);
  // With nothing pruned it is the full parse, on every kind of value; invalid text is discarded.
  const std::string every = R"([null,true,false,-3,18446744073709551615,1.25e-3,"s\u00e9",{"k":{"n":[1,[2,{}]]}},[]])";
  CHECK(cdp::parse_pruned(every, {}) == Json::parse(every));
  CHECK(cdp::parse_pruned("\"top\"", pruned) == Json("top"));
  CHECK(cdp::parse_pruned(R"({"headers":{"a":[1,2]}})", pruned) == Json::object());
  for (const std::string_view bad : {R"({"a":)", R"({"headers":{"a":})", "[1,]", "", R"({"s":"\ud800"})"})
    CHECK(cdp::parse_pruned(bad, pruned).is_discarded());
}
