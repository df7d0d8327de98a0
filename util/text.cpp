// util/text.cpp — see text.hpp.
#include "util/text.hpp"

#include <algorithm>

namespace util {

std::size_t invalid_utf8_bytes(std::string_view text) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  std::size_t invalid = 0;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) length = 1, code = lead;
    else if (lead >= 0xc2 && lead <= 0xdf) length = 2, code = lead & 0x1fu;
    else if (lead >= 0xe0 && lead <= 0xef) length = 3, code = lead & 0x0fu;
    else if (lead >= 0xf0 && lead <= 0xf4) length = 4, code = lead & 0x07u;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (byte(i + k) & 0xc0) == 0x80;
      code = (code << 6) | (byte(i + k) & 0x3fu);
    }
    valid = valid && !(length == 3 && code < 0x800) && !(length == 4 && (code < 0x10000 || code > 0x10ffff)) &&
            !(code >= 0xd800 && code <= 0xdfff);
    if (valid) {
      i += length;
    } else {
      ++invalid;
      ++i;
    }
  }
  return invalid;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool starts_with_lower(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(text[i]) != prefix[i]) return false;
  return true;
}

bool all_digits(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), is_digit); }

bool has_space(std::string_view text) { return std::any_of(text.begin(), text.end(), is_space); }

std::optional<std::uint64_t> parse_decimal(std::string_view digits, std::uint64_t max) {
  if (!all_digits(digits)) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace util

std::string util::count_of(std::uint64_t count, std::string_view noun, std::string_view plural) {
  std::string out = std::to_string(count) + " ";
  if (count == 1) out += noun;
  else if (!plural.empty()) out += plural;
  else (out += noun) += "s";
  return out;
}
