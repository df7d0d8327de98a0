// blacklist/wasm_signatures.cpp — see wasm_signatures.hpp. Every constant below is from the
// algorithm's specification: FIPS 202 (Keccak-f round constants), FIPS 197 (the AES S-box and the
// T-tables derived from it), the BLAKE submission (c_0..c_15, the fractional digits of π, which
// Blowfish's P-array and S-boxes continue), the Skein 1.3 paper (C240).
#include "blacklist/wasm_signatures.hpp"

#include <array>
#include <bit>
#include <string>

namespace blacklist::wasm {
namespace {

constexpr std::array<std::uint64_t, 24> kKeccakRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL, 0x000000000000808BULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008AULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000AULL, 0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

constexpr std::array<std::uint32_t, 16> kBlakePi = {
    0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344, 0xA4093822, 0x299F31D0, 0x082EFA98, 0xEC4E6C89,
    0x452821E6, 0x38D01377, 0xBE5466CF, 0x34E90C6C, 0xC0AC29B7, 0xC97C50DD, 0x3F84D5B5, 0xB5470917};
constexpr std::uint32_t kBlowfishFirstSboxWord = 0xD1310BA6;
constexpr std::uint64_t kThreefishParity = 0x1BD11BDAA9FC1A22ULL;

constexpr std::array<std::uint8_t, 16> kAesSbox = {0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5,
                                                   0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76};
// Te0[0..1] = 0xc66363a5, 0xf87c7c84 (FIPS 197's MixColumns of S-box entries); Te1..Te3 are byte
// rotations of Te0. Each as it sits in memory, little- and big-endian.
constexpr std::array<std::array<std::uint8_t, 8>, 8> kAesTablePrefixes = {{
    {0xa5, 0x63, 0x63, 0xc6, 0x84, 0x7c, 0x7c, 0xf8},
    {0xc6, 0x63, 0x63, 0xa5, 0xf8, 0x7c, 0x7c, 0x84},
    {0x63, 0x63, 0xa5, 0xc6, 0x7c, 0x7c, 0x84, 0xf8},
    {0xc6, 0xa5, 0x63, 0x63, 0xf8, 0x84, 0x7c, 0x7c},
    {0x63, 0xa5, 0xc6, 0x63, 0x7c, 0x84, 0xf8, 0x7c},
    {0x63, 0xc6, 0xa5, 0x63, 0x7c, 0xf8, 0x84, 0x7c},
    {0xa5, 0xc6, 0x63, 0x63, 0x84, 0xf8, 0x7c, 0x7c},
    {0x63, 0x63, 0xc6, 0xa5, 0x7c, 0x7c, 0xf8, 0x84},
}};

template <typename Word>
std::string little_endian(std::initializer_list<Word> words) {
  std::string out;
  for (Word word : words)
    for (std::size_t i = 0; i < sizeof(Word); ++i) out.push_back(static_cast<char>((word >> (8 * i)) & 0xFF));
  return out;
}

template <std::size_t N>
std::string_view view(const std::array<std::uint8_t, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

void Signatures::merge(const Signatures& other) {
  keccak_round_constants |= other.keccak_round_constants;
  blake_pi_words |= other.blake_pi_words;
  skein_parity = skein_parity || other.skein_parity;
  blowfish = blowfish || other.blowfish;
  keccak_table = keccak_table || other.keccak_table;
  aes_tables = aes_tables || other.aes_tables;
  aes_sbox = aes_sbox || other.aes_sbox;
  blake_table = blake_table || other.blake_table;
}

int Signatures::keccak_constants_seen() const { return std::popcount(keccak_round_constants); }
int Signatures::blake_words_seen() const { return std::popcount(blake_pi_words); }

void note_i32_constant(std::int32_t value, Signatures& out) {
  const auto bits = static_cast<std::uint32_t>(value);
  for (std::size_t i = 0; i < kBlakePi.size(); ++i)
    if (bits == kBlakePi[i]) out.blake_pi_words |= 1u << i;
  if (bits == kBlowfishFirstSboxWord) out.blowfish = true;
}

void note_i64_constant(std::int64_t value, Signatures& out) {
  const auto bits = static_cast<std::uint64_t>(value);
  // RC[0] = 1 and RC[9] = 0x88 are everyday numbers: only the distinctive ones count.
  for (std::size_t i = 0; i < kKeccakRoundConstants.size(); ++i)
    if (bits == kKeccakRoundConstants[i] && bits > 0xFFFF) out.keccak_round_constants |= 1u << i;
  if (bits == kThreefishParity) out.skein_parity = true;
}

void scan_data(std::string_view bytes, Signatures& out) {
  static const std::string keccak_table = little_endian<std::uint64_t>(
      {kKeccakRoundConstants[0], kKeccakRoundConstants[1], kKeccakRoundConstants[2], kKeccakRoundConstants[3]});
  static const std::string blake_words = little_endian<std::uint32_t>(
      {kBlakePi[0], kBlakePi[1], kBlakePi[2], kBlakePi[3], kBlakePi[4], kBlakePi[5], kBlakePi[6], kBlakePi[7]});
  static const std::string blowfish_word = little_endian<std::uint32_t>({kBlowfishFirstSboxWord});
  static const std::string threefish_parity = little_endian<std::uint64_t>({kThreefishParity});
  if (contains(bytes, keccak_table)) out.keccak_table = true;
  if (contains(bytes, view(kAesSbox))) out.aes_sbox = true;
  for (const auto& prefix : kAesTablePrefixes)
    if (contains(bytes, view(prefix))) out.aes_tables = true;
  if (contains(bytes, blake_words)) out.blake_table = true;
  if (contains(bytes, blowfish_word)) out.blowfish = true;
  if (contains(bytes, threefish_parity)) out.skein_parity = true;
}

bool is_scratchpad_mask(std::int64_t value) {
  for (int k = 17; k <= 22; ++k)
    if (value == (std::int64_t{1} << k) - 16) return true;
  return false;
}

}  // namespace blacklist::wasm
