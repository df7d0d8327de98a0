// cdp/message_text.hpp — reading Chrome's JSON messages where the general parser is slow or strict.
//
// Two problems, one module:
//   * Speed. Script sources are most of the bytes cjcrawl reads (measured on the crawl benchmark: four
//     fifths of all message text), and nlohmann's lexer copies a string one character at a time.
//     A reply whose result is an object of strings only (Debugger.getScriptSource) is decoded here
//     directly, a run of plain characters at a time.
//   * Lone surrogates. Chrome writes a JavaScript string's UTF-16 code units as \uXXXX escapes, lone
//     surrogates included (a page can put one in an eval'd source, a sourceURL or a dialog message).
//     nlohmann rejects those, so one unpaired \uD800 would drop the whole message: a script never read,
//     a dialog never answered. Here a lone surrogate becomes U+FFFD, as a browser decoding it would
//     render it.
// Both decoders accept exactly the JSON grammar for strings (RFC 8259 §7) otherwise; anything they do
// not recognise makes them decline, and the caller falls back to the general parser.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cdp {

// Decodes a JSON string whose opening quote is at text[at - 1], appending UTF-8 to `out`. Returns the
// index just past the closing quote, or nullopt when the string is malformed (a raw control character,
// a bad escape, no closing quote). Lone surrogates become U+FFFD.
std::optional<std::size_t> decode_json_string(std::string_view text, std::size_t at, std::string& out);

// The id of a reply as Chrome writes it (`{"id":N,...`), or nullopt when the text does not start so.
std::optional<std::int64_t> leading_reply_id(std::string_view text);

// The result of a reply shaped `{"id":N,"result":{"key":"string",...}}`, optionally followed by
// `,"sessionId":"..."`, as a JSON object of strings. nullopt for any other shape (an error reply, a
// non-string value, whitespace or key orders Chrome does not write): the caller parses it in full.
std::optional<nlohmann::json> parse_string_result(std::string_view text);

// Parses a whole message like nlohmann::json::parse, but leaves out the value of every member whose
// key is in `pruned`, at any depth (their text is still checked). A Network.responseReceived carries
// every header and a timing table nobody reads; not building them saves most of its allocations.
// A discarded Json (is_discarded()) when the text is not valid JSON.
using PrunedKeys = std::set<std::string, std::less<>>;
nlohmann::json parse_pruned(std::string_view text, const PrunedKeys& pruned);

// The message with every lone-surrogate escape (\uD800–\uDFFF without its partner) replaced by
// \uFFFD, so a strict parser accepts it; nullopt when there was none (nothing to retry).
std::optional<std::string> replace_lone_surrogates(std::string_view text);

}  // namespace cdp
