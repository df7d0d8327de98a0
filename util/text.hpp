// util/text.hpp — the small byte-string helpers every module needs, written once.
//
// ASCII only, and locale-free on purpose: host names, list entries, HTTP tokens and CDP method names
// are ASCII by definition, and a page's bytes must never be interpreted by the machine's locale.
// Bytes at or above 0x80 pass through unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace util {

// Space, tab, CR, LF, vertical tab, form feed (C's isspace in the "C" locale).
constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Without leading and trailing is_space characters.
std::string_view trim(std::string_view text);
// A copy with A–Z made a–z.
std::string to_lower(std::string_view text);
// Whether `text` starts with `prefix`, ignoring ASCII case in `text` (`prefix` is lower case).
bool starts_with_lower(std::string_view text, std::string_view prefix);
// Non-empty and only 0–9.
bool all_digits(std::string_view text);
// Whether any byte is is_space.
bool has_space(std::string_view text);
// How many bytes of `text` are not part of a valid UTF-8 sequence (overlong forms, surrogates and
// values past U+10FFFF count as invalid).
std::size_t invalid_utf8_bytes(std::string_view text);
// "1 job", "2 jobs": `count` and the noun, with an "s" unless the count is one (English nouns whose
// plural is their singular plus "s"; pass `plural` for the others).
std::string count_of(std::uint64_t count, std::string_view noun, std::string_view plural = {});
// Decimal digits as a number; nullopt when empty, not all digits, or over `max`.
std::optional<std::uint64_t> parse_decimal(std::string_view digits, std::uint64_t max = UINT64_MAX);

}  // namespace util
