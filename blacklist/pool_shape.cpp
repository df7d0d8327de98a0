// blacklist/pool_shape.cpp — hashing blobs and share hashes in any message; see pool_shape.hpp.
#include "blacklist/pool_shape.hpp"

#include <algorithm>
#include <array>

namespace blacklist {
namespace {

constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kShareHexChars = 64;
constexpr std::size_t kMinBlobHexRun = kMinBlobBytes * 2;
constexpr std::size_t kMinBlobBase64Run = (kMinBlobBytes * 4 + 2) / 3;  // unpadded

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // standard and URL-safe alphabets
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Decodes at most kMaxDecodedBytes of a hex run (even length assumed by the caller).
std::string decode_hex_run(std::string_view run) {
  std::string out;
  const std::size_t bytes = std::min(run.size() / 2, kMaxDecodedBytes);
  out.reserve(bytes);
  for (std::size_t i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(hex_value(run[2 * i]) * 16 + hex_value(run[2 * i + 1])));
  return out;
}

// Decodes at most kMaxDecodedBytes of a base64 run (no padding inside the run).
std::string decode_base64_run(std::string_view run) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : run) {
    const int value = base64_value(c);
    if (value < 0) break;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
      if (out.size() >= kMaxDecodedBytes) break;
    }
  }
  return out;
}

std::uint8_t byte_at(std::string_view bytes, std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); }

// A little-endian base-128 varint of at most `max_bytes`; false when it does not end in time.
bool read_varint(std::string_view bytes, std::size_t& at, std::size_t max_bytes, std::uint64_t& value,
                 std::size_t& length) {
  value = 0;
  for (length = 1; length <= max_bytes && at < bytes.size(); ++length) {
    const std::uint8_t b = byte_at(bytes, at++);
    value |= static_cast<std::uint64_t>(b & 0x7F) << (7 * (length - 1));
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

int distinct_bytes(std::string_view bytes) {
  std::array<bool, 256> seen{};
  int distinct = 0;
  for (char c : bytes) {
    auto& slot = seen[static_cast<std::uint8_t>(c)];
    if (!slot) ++distinct;
    slot = true;
  }
  return distinct;
}

bool looks_like_hash(std::string_view bytes32) { return distinct_bytes(bytes32) >= kMinHashDistinctBytes; }

// Text: the runs of hex and base64 characters, each examined as a whole from its start.
ShapeFinding examine_text(std::string_view text, bool sent) {
  ShapeFinding found;
  std::size_t i = 0;
  while (i < text.size()) {
    if (base64_value(text[i]) < 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    bool all_hex = true;
    while (end < text.size() && base64_value(text[end]) >= 0) {
      all_hex = all_hex && hex_value(text[end]) >= 0;
      ++end;
    }
    const std::string_view run = text.substr(i, end - i);
    i = end;
    if (all_hex && !sent && run.size() >= kMinBlobHexRun && run.size() % 2 == 0) {
      if (const auto length = parse_hashing_blob(decode_hex_run(run), false)) {
        found = {true, false, ShapeEncoding::hex, length};
        return found;
      }
    } else if (all_hex && sent && run.size() == kShareHexChars) {
      if (is_share_hash(decode_hex_run(run))) found = {false, true, ShapeEncoding::hex, 0};
    } else if (!all_hex && !sent && run.size() >= kMinBlobBase64Run) {
      if (const auto length = parse_hashing_blob(decode_base64_run(run), false)) {
        found = {true, false, ShapeEncoding::base64, length};
        return found;
      }
    } else if (!all_hex && sent && (run.size() == 43 || run.size() == 44)) {
      const auto decoded = decode_base64_run(run);
      if (decoded.size() == kHashBytes && is_share_hash(decoded)) found = {false, true, ShapeEncoding::base64, 0};
    }
  }
  return found;
}

ShapeFinding examine_binary(std::string_view bytes, bool sent) {
  if (!sent) {
    for (std::size_t at = 0; at + kMinBlobBytes <= bytes.size(); ++at) {
      // Cheap pre-checks before the full parse: a small version byte, then a small minor version.
      if (byte_at(bytes, at) == 0 || byte_at(bytes, at) > kMaxBlobVersion) continue;
      if (byte_at(bytes, at + 1) > kMaxBlobVersion) continue;
      if (const auto length = parse_hashing_blob(bytes.substr(at), true))
        return {true, false, ShapeEncoding::binary, length};
    }
    return {};
  }
  if (bytes.size() > kMaxShareMessageBytes) return {};
  for (std::size_t at = 0; at + kHashBytes <= bytes.size(); ++at)
    if (byte_at(bytes, at + kHashBytes - 1) == 0 && is_share_hash(bytes.substr(at, kHashBytes)))
      return {false, true, ShapeEncoding::binary, 0};
  return {};
}

}  // namespace

std::string to_string(ShapeEncoding encoding) {
  switch (encoding) {
    case ShapeEncoding::hex: return "hex";
    case ShapeEncoding::base64: return "base64";
    case ShapeEncoding::binary: return "binary";
    case ShapeEncoding::none: break;
  }
  return "";
}

std::size_t parse_hashing_blob(std::string_view bytes, bool require_pool_nonce) {
  if (bytes.size() < kMinBlobBytes) return 0;
  std::size_t at = 0;
  std::uint64_t value = 0;
  std::size_t length = 0;
  if (!read_varint(bytes, at, 1, value, length) || value == 0 || value > kMaxBlobVersion) return 0;
  if (!read_varint(bytes, at, 1, value, length) || value > kMaxBlobVersion) return 0;
  if (!read_varint(bytes, at, 5, value, length) || length != 5 || value < kMinBlobTime || value >= kMaxBlobTime)
    return 0;
  if (at + kHashBytes + 4 + kHashBytes >= bytes.size()) return 0;
  if (!looks_like_hash(bytes.substr(at, kHashBytes))) return 0;
  at += kHashBytes;
  const std::string_view nonce = bytes.substr(at, 4);
  if (require_pool_nonce && std::count(nonce.begin(), nonce.end(), '\0') < 3) return 0;
  at += 4;
  if (!looks_like_hash(bytes.substr(at, kHashBytes))) return 0;
  at += kHashBytes;
  if (!read_varint(bytes, at, 3, value, length) || value == 0 || value > kMaxBlobTransactions) return 0;
  return at;
}

bool is_share_hash(std::string_view hash32) {
  if (hash32.size() != kHashBytes || hash32.back() != '\0') return false;
  return distinct_bytes(hash32.substr(0, 24)) >= kMinHashDistinctBytes;
}

ShapeFinding examine_pool_shape(std::string_view message, bool text, bool sent) {
  try {
    message = message.substr(0, kMaxShapeBytes);
    return text ? examine_text(message, sent) : examine_binary(message, sent);
  } catch (...) {
    return {};  // allocation failure on a decoded run: not a finding
  }
}

void PoolShapeStats::add(const ShapeFinding& finding) {
  if (finding.job) {
    if (jobs == 0) encoding = finding.encoding;
    ++jobs;
  }
  if (finding.share) ++shares;
}

}  // namespace blacklist
