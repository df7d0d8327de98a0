// blacklist/wasm.hpp — WebAssembly fingerprinting: does a module carry the hash primitives of a
// CryptoNight-family miner? A small, defensive reader of the binary format walks every function body
// and counts crypto-relevant instructions; each function is scored against Keccak, AES, BLAKE,
// Groestl, Skein and JH, and a module is a miner signal only when it shows mining-hash *structure*
// (several distinct primitives), as MineSweeper does (Konoth et al., CCS 2018). One hash alone —
// BLAKE2b in argon2, SHA-256 in a proof-of-work captcha — is what legitimate Wasm ships, and is not.
//
// Pure and deterministic: bytes in, values out, no I/O. A truncated or hostile module yields an error
// value, never a crash, an abort, an escaping exception or an allocation beyond the limits below.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "blacklist/wasm_signatures.hpp"

namespace blacklist::wasm {

// ---- Limits. A module beyond a module-level limit is an error (not fingerprinted); a function body
// ---- beyond a body-level limit is left partly decoded and counted, and the rest of the module goes on.
inline constexpr std::size_t kMaxModuleBytes = 32u << 20;  // larger modules are not fingerprinted
inline constexpr std::uint32_t kMaxFunctions = 1'000'000;  // V8's limit on defined functions
inline constexpr std::uint32_t kMaxImports = 100'000;      // V8's limit on imports
inline constexpr std::uint32_t kMaxBodyBytes = 7'654'321;  // V8's limit on one function body
inline constexpr std::uint32_t kMaxLocals = 50'000;        // V8's limit on locals per function (body-level)
inline constexpr std::uint32_t kMaxNestingDepth = 1024;    // open blocks/loops/ifs in one body (body-level)
inline constexpr std::size_t kMaxKeptFunctions = 4096;     // per-function profiles returned when asked
inline constexpr std::size_t kMaxHashFunctions = 256;      // hash functions named per module (the rest counted)

// ---- Decision thresholds (the why is at each use in wasm.cpp).
inline constexpr double kPrimitiveMatchScore = 0.75;      // a function "is" a primitive from this score on
inline constexpr int kMinerMinPrimitives = 3;             // MineSweeper asks for 3 of its 5 primitives
inline constexpr double kMinerMinCryptoDensity = 0.10;    // share of bitwise/shift/rotate instructions
inline constexpr double kCryptoDensitySaturation = 0.25;  // density at which its share of the score is full
inline constexpr int kMinKeccakConstants = 6;             // distinct round constants (of the 18 above 0xFFFF) in code
inline constexpr int kMinBlakeConstants = 8;              // distinct π words (of 16) in code
inline constexpr int kMinJhConstants = 2;                 // distinct JH words (of 10) in code

// Instruction classes counted per function. Names in to_string() follow the Wasm text format.
enum class Operation : std::uint8_t {
  i32_xor,
  i64_xor,
  i32_and,
  i64_and,
  i32_or,
  i64_or,
  i32_shl,
  i64_shl,
  i32_shr,
  i64_shr,  // shr_s and shr_u together
  i32_rotl,
  i64_rotl,
  i32_rotr,
  i64_rotr,
  i32_add,
  i64_add,
  i32_sub,
  i64_sub,
  i32_mul,
  i64_mul,
  i32_load,
  i64_load,
  narrow_load,  // narrow: the 8/16/32-bit loads into i32/i64
  i32_store,
  i64_store,
  narrow_store,
  float_load,
  float_store,  // f32/f64 loads and stores
  i32_const,
  i64_const,
  local_get,
  local_set,
  local_tee,
  loop,
  br_if,
  call,               // call: call, call_indirect, call_ref and their return_ forms
  bit_count,          // clz, ctz, popcnt
  float_arithmetic,   // every f32/f64 numeric operator
  simd,               // every 0xFD instruction, including those counted below
  simd_bitwise,       // v128.not/and/andnot/or/xor/bitselect
  simd_byte_shuffle,  // i8x16.shuffle/swizzle (table lookups in SIMD AES)
  atomic,             // 0xFE instructions
  bulk_memory,        // 0xFC memory/table instructions (not the saturating conversions)
};
inline constexpr std::size_t kOperationCount = static_cast<std::size_t>(Operation::bulk_memory) + 1;
std::string_view to_string(Operation operation);

// The CryptoNight-family primitives, as MineSweeper lists them (plus JH and Skein, CryptoNight's
// other final hashes).
enum class Primitive : std::uint8_t { keccak, aes, blake, groestl, skein, jh };
inline constexpr std::size_t kPrimitiveCount = 6;
std::string_view to_string(Primitive primitive);

// What one function body contains. Constant operands are read the way compilers emit them: the
// `iNN.const` immediately before the operator (`i64.const 13  i64.rotl`); computed amounts are not.
struct FunctionProfile {
  std::uint32_t index = 0;  // in the function index space (imported functions first)
  std::uint32_t body_bytes = 0;
  std::uint32_t begin = 0;              // module byte offset of the body (after its size), as V8's profiler reports it
  std::uint32_t instructions = 0;       // every opcode decoded, `end` included
  std::uint32_t loop_instructions = 0;  // those inside at least one `loop` (tight loops)
  bool complete = true;                 // false: decoding stopped early, counts cover a prefix
  std::string problem;                  // why, when not complete (with the module byte offset)
  std::array<std::uint32_t, kOperationCount> operations{};       // the histogram
  std::array<std::uint32_t, kOperationCount> loop_operations{};  // the same, inside loops only
  std::array<std::uint32_t, 32> rotations32{};  // i32 rotate left by k (rotr by k counts as rotl by 32-k)
  std::array<std::uint32_t, 64> rotations64{};
  std::array<std::uint32_t, 32> right_shifts32{};  // i32.shr_u by k
  std::array<std::uint32_t, 64> right_shifts64{};
  std::uint32_t byte_masks = 0;  // `and` with 0xFF << s, s ≤ 3: a byte scaled to a table index
  std::uint32_t nots32 = 0;      // xor with -1
  std::uint32_t nots64 = 0;
  std::uint32_t swap_masks = 0;       // i64 constants 0x5555…, 0xAAAA…, 0x3333…, … 0x0000FFFF0000FFFF, …
  std::uint32_t swap_mask_kinds = 0;  // bit k: a mask of the SWAP(2^k) pair seen, k < 5
  std::array<double, kPrimitiveCount> scores{};  // similarity to each Primitive, 0..1
  Signatures signatures;                         // specification constants among its i32/i64 constants
  std::uint32_t scratchpad_masks = 0;            // `and` with a CryptoNight scratchpad mask (is_scratchpad_mask)
  std::int64_t scratchpad_mask = 0;              // the first such mask
};

// Scores one profile against every primitive (the reader fills FunctionProfile::scores with this).
// Each score is the weakest of the primitive's structural features, as observed / expected, capped at 1.
std::array<double, kPrimitiveCount> score_function(const FunctionProfile& profile);

// A function whose body is hash code, located so a profiler's sample can be blamed on it. `what`
// says why, strongest reason first: "CryptoNight main loop", "<primitive> rounds", "<primitive>
// constants", or "bitwise-heavy (N%)".
struct HashFunction {
  std::uint32_t index = 0;
  std::uint32_t begin = 0;  // module byte offsets of the body: [begin, end)
  std::uint32_t end = 0;
  std::string what;
};
// Why a function is hash code, or empty when it is not (see HashFunction). A body whose instructions
// are mostly bitwise, shift and rotate work is hash-like, whatever it hashes: a CRC is as much as a
// Keccak round, which is why a *mining* verdict needs the module's structure as well.
std::string hash_function_kind(const FunctionProfile& profile);
inline constexpr double kHashFunctionMinDensity = 0.25;  // bitwise/shift/rotate share of a hash-like body
inline constexpr std::uint32_t kHashFunctionMinInstructions = 64;

struct PrimitiveMatch {
  double score = 0;            // the best function's score for this primitive
  std::uint32_t function = 0;  // that function's index
};

// A whole module, read once. The aggregate counts cover every body; per-function profiles are kept
// only when asked for, and then only the first kMaxKeptFunctions.
struct ModuleProfile {
  bool ok = false;
  std::string error;  // when !ok: what is malformed and at which byte offset
  std::uint32_t imported_functions = 0;
  std::uint32_t functions = 0;             // bodies in the code section
  std::uint32_t incomplete_functions = 0;  // bodies decoded only in part (unknown opcode, limits)
  std::string first_problem;               // the first such body's problem
  std::uint64_t instructions = 0;
  std::uint64_t loop_instructions = 0;
  std::array<std::uint64_t, kOperationCount> operations{};  // summed over all bodies
  std::array<PrimitiveMatch, kPrimitiveCount> best{};       // indexed by Primitive
  std::vector<FunctionProfile> kept;                        // only with keep_functions
  std::uint32_t functions_not_kept = 0;
  Signatures signatures;  // over every body's constants and every data segment
  // CryptoNight's memory-hard main loop: a function that masks scratchpad indexes, multiplies 64-bit
  // words and loops. The first such function and its mask.
  bool scratchpad_loop = false;
  std::uint32_t scratchpad_function = 0;
  std::int64_t scratchpad_mask = 0;
  std::uint32_t data_segments = 0;
  std::vector<HashFunction> hash_functions;  // the first kMaxHashFunctions, in index order
  std::uint32_t hash_functions_not_kept = 0;
};

// Reads `module_bytes` (a core Wasm module, version 1). Sections other than import, function and
// code are skipped after their bounds are checked. Inside the code section every instruction of the
// MVP and of the sign-extension, saturating-conversion, bulk-memory, reference-types, SIMD (incl.
// relaxed), threads, tail-call, exception-handling and GC proposals is decoded with its immediates.
// Policy: the module's framing (header, sections, counts, body sizes) must be sound or the module is
// an error; a problem *inside* one body (an opcode we do not know, too deep nesting, too many locals,
// a malformed immediate) only stops that body — its size is known, so the reader resumes at the next
// body and the profile stays usable, with the body counted in incomplete_functions. A hostile module
// thus cannot hide its hashing code by adding one odd function.
ModuleProfile read_module(std::string_view module_bytes, bool keep_functions = false);

struct Fingerprint {
  bool ok = false;  // false: not fingerprinted; `error` says why, miner is false
  std::string error;
  bool miner = false;                     // mining-hash structure (see fingerprint())
  bool cryptonight_core = false;          // Keccak, AES and the scratchpad loop (see fingerprint())
  std::uint32_t scratchpad_function = 0;  // with cryptonight_core: the main loop's function index
  int distinct_primitives = 0;            // primitives matched by at least one function
  std::vector<std::string> primitives;    // their names, in Primitive order
  double score = 0;                       // 0..1 similarity to CryptoNight-family hashing
  double crypto_density = 0;              // bitwise/shift/rotate instructions / all instructions
  std::uint64_t functions = 0;
  std::uint64_t instructions = 0;
  std::uint32_t incomplete_functions = 0;
  std::string summary;                       // one line, for the verdict's evidence
  std::vector<HashFunction> hash_functions;  // where the hash code is (ModuleProfile::hash_functions)
};

// A primitive is found when a function scores ≥ kPrimitiveMatchScore for it, or by its specification's
// constants (wasm_signatures.hpp). miner = cryptonight_core (Keccak and AES found, and a scratchpad
// loop) OR (at least kMinerMinPrimitives distinct primitives AND crypto_density ≥
// kMinerMinCryptoDensity). score = 0.8 × (mean of the three best
// primitive scores) + 0.2 × min(1, crypto_density / kCryptoDensitySaturation). Deterministic.
Fingerprint fingerprint(const ModuleProfile& profile);
Fingerprint fingerprint(std::string_view module_bytes);

}  // namespace blacklist::wasm
