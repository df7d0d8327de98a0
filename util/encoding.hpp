// util/encoding.hpp — base64 and SHA-256, as CDP uses them (Wasm bytecode and binary frames come
// base64; script hashes are SHA-256 in lower-case hex).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace util {

// Decodes standard base64 (RFC 4648 §4). Stops at the first character outside the alphabet ('='
// padding included), keeping what was decoded before it.
std::string decode_base64(std::string_view text);
// The number of bytes `text` decodes to, without decoding it (padding allowed).
std::uint64_t base64_decoded_size(std::string_view text);
// SHA-256 of `bytes`. Throws std::runtime_error only when OpenSSL has no SHA-256 (a broken
// installation).
using Sha256 = std::array<unsigned char, 32>;
Sha256 sha256(std::string_view bytes);
// The same in lower-case hex (64 characters), as CDP writes script hashes.
std::string sha256_hex(std::string_view bytes);

}  // namespace util
