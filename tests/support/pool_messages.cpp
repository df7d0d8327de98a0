// tests/support/pool_messages.cpp — see pool_messages.hpp.
#include "tests/support/pool_messages.hpp"

namespace test_support {

std::string pseudo_random_bytes(std::size_t count, std::uint32_t seed) {
  std::uint32_t state = seed == 0 ? 0x9E3779B9u : seed;
  std::string out;
  out.reserve(count);
  while (out.size() < count) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    out.push_back(static_cast<char>(state >> 24));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0F]);
  }
  return out;
}

namespace {
void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}
}  // namespace

std::string hashing_blob(const BlobFields& fields) {
  std::string out;
  put_varint(out, fields.major_version);
  put_varint(out, fields.minor_version);
  put_varint(out, fields.timestamp);
  out += pseudo_random_bytes(32, fields.seed * 2 + 1);
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((fields.nonce >> shift) & 0xFF));
  out += pseudo_random_bytes(32, fields.seed * 2 + 2);
  put_varint(out, fields.transactions);
  return out;
}

std::string hashing_blob_hex(const BlobFields& fields) { return to_hex(hashing_blob(fields)); }

std::string share_hash(std::uint32_t seed) {
  std::string hash = pseudo_random_bytes(31, seed + 0x5EED);
  hash.push_back('\0');
  return hash;
}

}  // namespace test_support
