// blacklist/wasm_signatures.hpp — the constants that hash specifications fix, found wherever a
// compiler puts them: Keccak's round constants, AES's S-box and T-tables, BLAKE-256's π words,
// Threefish's key-schedule parity (Skein), Groestl's T-tables, JH's constants, and CryptoNight's
// scratchpad masks. Instruction counts
// (wasm.hpp) change with every optimisation level — a Keccak round unrolled at -O3 is a loop over a
// table at -Oz — but these values do not: a table lands in a data segment, an unrolled round's
// constants in `i64.const`s, a scratchpad index mask in an `i32.const` before an `and`.
//
// Pure: values in, flags out. The data scan is a handful of substring searches per segment.
#pragma once

#include <cstdint>
#include <string_view>

namespace blacklist::wasm {

struct Signatures {
  std::uint32_t keccak_round_constants = 0;  // bit i: Keccak-f RC[i] seen as an i64 constant
  std::uint32_t blake_pi_words = 0;          // bit i: BLAKE-256's constant c_i seen as an i32 constant
  bool skein_parity = false;                 // Threefish's C240 = 0x1BD11BDAA9FC1A22 (constant or data)
  bool blowfish = false;                     // Blowfish's first S-box word: π words mean Blowfish then
  bool keccak_table = false;                 // data: the round-constant table (first four, 64-bit LE)
  bool aes_tables = false;                   // data: an AES T-table (any rotation, either byte order)
  bool aes_sbox = false;                     // data: the AES S-box (also Groestl's)
  bool blake_table = false;                  // data: BLAKE-256's first eight π words (32-bit LE)
  bool groestl_tables = false;               // data: a Groestl T-table (64-bit entries, or 32-bit halves)
  bool jh_table = false;                     // data: JH's C0, S-boxes or bit-sliced round constants
  std::uint32_t jh_words = 0;                // bit i: one of JH's distinctive 64-bit words as a constant

  void merge(const Signatures& other);
  int keccak_constants_seen() const;
  int blake_words_seen() const;
  int jh_words_seen() const;
};

void note_i32_constant(std::int32_t value, Signatures& out);
void note_i64_constant(std::int64_t value, Signatures& out);
// One data segment's bytes.
void scan_data(std::string_view bytes, Signatures& out);

// CryptoNight indexes its scratchpad with `& (bytes − 16)`: 16-byte blocks in a power-of-two pad.
// True for 2^k − 16 with 17 ≤ k ≤ 22 (128 KiB, as cn-pico/trtl masks its 256 KiB pad, up to 4 MiB).
bool is_scratchpad_mask(std::int64_t value);

}  // namespace blacklist::wasm
