// blacklist/wasm_signatures.cpp — see wasm_signatures.hpp. Every constant below is from the
// algorithm's specification: FIPS 202 (Keccak-f round constants), FIPS 197 (the AES S-box and the
// T-tables derived from it), the BLAKE submission (c_0..c_15, the fractional digits of π, which
// Blowfish's P-array and S-boxes continue), the Skein 1.3 paper (C240), the Grøstl submission (the
// S-box is AES's; MixBytes multiplies by the circulant row 02 02 03 04 05 03 05 07) and "The Hash
// Function JH" (Wu, 2011: the S-boxes S0 and S1, C0 = the first 256 fractional bits of √2, and the
// bit-slice implementation's round constants; its first is checked against the reference table
// E8_bitslice_roundconstant of the JH package, as found with the search tool).
#include "blacklist/wasm_signatures.hpp"

#include <array>
#include <bit>
#include <string>
#include <vector>

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

// JH: C0 (√2's fractional bits: 6a09e667 f3bcc908 are also SHA-512's and BLAKE-512's first IV word,
// so only the following 64 bits are distinctive), C0 as the reference code's 4-bit elements, S0 as
// 16 bytes, and the bit-slice form's first round constant.
constexpr std::array<std::uint8_t, 16> kJhC0 = {0x6a, 0x09, 0xe6, 0x67, 0xf3, 0xbc, 0xc9, 0x08,
                                                0xb2, 0xfb, 0x13, 0x66, 0xea, 0x95, 0x7d, 0x3e};
constexpr std::array<std::uint8_t, 16> kJhC0Nibbles = {0x6, 0xa, 0x0, 0x9, 0xe, 0x6, 0x6, 0x7,
                                                       0xf, 0x3, 0xb, 0xc, 0xc, 0x9, 0x0, 0x8};
constexpr std::array<std::uint8_t, 16> kJhSbox0 = {9, 0, 4, 11, 13, 12, 3, 15, 1, 10, 2, 6, 7, 5, 8, 14};
constexpr std::array<std::uint8_t, 16> kJhBitsliceFirstConstant = {0x72, 0xd5, 0xde, 0xa2, 0xdf, 0x15, 0xf8, 0x67,
                                                                   0x7b, 0x84, 0x15, 0x0a, 0xb7, 0x23, 0x15, 0x57};
// The same values as 64-bit constants in code: C0's three distinctive words in either byte order,
// and the bit-slice constant's four words as little-endian loads.
constexpr std::array<std::uint64_t, 10> kJhWords = {
    0xb2fb1366ea957d3eULL, 0x3adec17512775099ULL, 0xda2f590b0667322aULL,  // C0 words 2-4, big-endian
    0x3e7d95ea6613fbb2ULL, 0x9950771275c1de3aULL, 0x2a3267060b592fdaULL,  //   and little-endian
    0x67f815dfa2ded572ULL, 0x571523b70a15847bULL, 0xf6875a4d90d6ab81ULL, 0x402bd1c3c54f9f4eULL};

std::uint8_t gf_multiply(std::uint8_t a, std::uint8_t b) {  // GF(2^8) modulo x^8 + x^4 + x^3 + x + 1
  std::uint8_t product = 0;
  for (; b != 0; b >>= 1) {
    if (b & 1) product ^= a;
    a = static_cast<std::uint8_t>((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
  }
  return product;
}

// Groestl's T-table entries for S(0) and S(1), each as eight bytes S(x)·c for the circulant row read
// from any starting point, forwards or backwards (every table layout and byte order in use):
// sixteen 16-byte needles for 64-bit tables and sixteen 8-byte needles for tables split into 32-bit
// halves. None contains AES's coefficient 01, so an AES T-table never matches.
std::vector<std::string> groestl_needles() {
  constexpr std::array<std::uint8_t, 8> row = {2, 2, 3, 4, 5, 3, 5, 7};
  std::vector<std::string> needles;
  for (int start = 0; start < 8; ++start)
    for (const int step : {1, 7}) {
      std::string entries[2];
      for (int x = 0; x < 2; ++x)
        for (int i = 0; i < 8; ++i)
          entries[x].push_back(static_cast<char>(gf_multiply(kAesSbox[x], row[(start + step * i) % 8])));
      needles.push_back(entries[0] + entries[1]);
      needles.push_back(entries[0].substr(0, 4) + entries[1].substr(0, 4));
    }
  return needles;
}

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
  groestl_tables = groestl_tables || other.groestl_tables;
  jh_table = jh_table || other.jh_table;
  jh_words |= other.jh_words;
}

int Signatures::keccak_constants_seen() const { return std::popcount(keccak_round_constants); }
int Signatures::blake_words_seen() const { return std::popcount(blake_pi_words); }
int Signatures::jh_words_seen() const { return std::popcount(jh_words); }

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
  for (std::size_t i = 0; i < kJhWords.size(); ++i)
    if (bits == kJhWords[i]) out.jh_words |= 1u << i;
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
  static const std::vector<std::string> groestl = groestl_needles();
  for (const auto& needle : groestl)
    if (contains(bytes, needle)) out.groestl_tables = true;
  for (const auto* jh : {&kJhC0, &kJhC0Nibbles, &kJhSbox0, &kJhBitsliceFirstConstant})
    if (contains(bytes, view(*jh))) out.jh_table = true;
}

bool is_scratchpad_mask(std::int64_t value) {
  for (int k = 17; k <= 22; ++k)
    if (value == (std::int64_t{1} << k) - 16) return true;
  return false;
}

}  // namespace blacklist::wasm
