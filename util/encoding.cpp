// util/encoding.cpp — see encoding.hpp.
#include "util/encoding.hpp"

#include <array>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace util {

std::string decode_base64(std::string_view text) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
      t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    return t;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = table[static_cast<unsigned char>(c)];
    if (value < 0) break;  // '=' padding or garbage
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::uint64_t base64_decoded_size(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return text.size() * 3 / 4;
}

Sha256 sha256(std::string_view bytes) {
  // Fetched once: EVP_sha256() looks the algorithm up again on every call (4x slower per short key,
  // measured on crawl-list shard keys).
  static const std::unique_ptr<EVP_MD, void (*)(EVP_MD*)> algorithm(EVP_MD_fetch(nullptr, "SHA256", nullptr),
                                                                    &EVP_MD_free);
  Sha256 digest{};
  unsigned int length = 0;
  if (!algorithm || EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, algorithm.get(), nullptr) != 1 ||
      length != digest.size())
    throw std::runtime_error("OpenSSL cannot compute SHA-256");
  return digest;
}

std::string sha256_hex(std::string_view bytes) {
  const Sha256 digest = sha256(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (const unsigned char byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0x0F]);
  }
  return hex;
}

}  // namespace util
