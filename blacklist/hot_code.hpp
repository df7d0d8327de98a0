// blacklist/hot_code.hpp — what the code that burns the CPU is: a mining hash, another hash, or not a
// hash at all.
//
// CPU is measured per renderer process, and a page's workers share it, so "the page is busy" says
// nothing about *what* is busy. A short V8 profile (crawler/code_profiler) names the hot functions;
// this module judges each one from what the visit already read:
//   * a Wasm function, by where it sits in its module (the fingerprint located every hash function:
//     wasm.hpp HashFunction) and whether the module has mining structure;
//   * a JavaScript function, by its own text: hashing is bitwise, shift and rotate work, which
//     ordinary code (a physics step, a search, a renderer) has little of.
// Hot hash code inside a module with mining structure is mining however throttled the miner is;
// hot code that is plainly not a hash weakens a CPU-only case (CMTracker and MinerRay reason alike).
//
// Pure: records and text in, judgements out. A JavaScript function's text is read at most
// kMaxJsFunctionBytes from its start, so a hostile script costs a bounded scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "blacklist/evidence.hpp"

namespace blacklist {

enum class CodeKind { mining_hash, hash, not_hash, unknown };
std::string_view to_string(CodeKind kind);  // "mining hash", "hash", "not a hash", "unknown"
CodeKind code_kind_from_string(std::string_view text);

struct CodeJudgement {
  CodeKind kind = CodeKind::unknown;
  std::string why;
};

// A Wasm function at module byte `offset` of `module` (a record with source_state "fetched"; any
// other record's findings are unknown).
CodeJudgement judge_wasm_code(const ScriptRecord& module, std::uint32_t offset);

inline constexpr std::size_t kMaxJsFunctionBytes = 64u << 10;
inline constexpr std::uint32_t kJsHashMinBitwise = 24;  // bitwise operators in a hash-like function
inline constexpr double kJsHashMinShare = 0.30;         // of its operators

// The operators of one JavaScript function, read from `source` at V8's 0-based (line, column) to its
// closing brace (or kMaxJsFunctionBytes).
struct JsFunctionShape {
  bool found = false;           // (line, column) is inside the source
  bool complete = false;        // the closing brace was reached within the bound
  std::size_t bytes = 0;        // text read
  std::uint32_t operators = 0;  // every operator token, brackets and separators excepted
  std::uint32_t bitwise = 0;    // ^ & | ~ << >> >>> and their assignments; asm.js's `|0` excepted
};
JsFunctionShape measure_js_function(std::string_view source, int line, int column);
CodeJudgement judge_js_code(const JsFunctionShape& shape);

// The hot-code facts of one visit, as the detector weighs them.
inline constexpr double kHotMinShare = 0.08;  // of the samples: code below this is not "hot"
// Shares are summed within a profiling round and the round with the most mining code is taken.
struct HotCodeSummary {
  double mining_share = 0;    // mining-hash functions
  double hash_share = 0;      // hash code outside mining structure (same round)
  double not_hash_share = 0;  // code that is plainly not a hash (same round)
  const HotCodeRecord* hottest_mining = nullptr;
  bool mining() const { return mining_share >= kHotMinShare; }
  // Busy code was profiled and none of it is a hash.
  bool plainly_not_hash() const {
    return not_hash_share >= kHotMinShare && hash_share < kHotMinShare && mining_share < kHotMinShare;
  }
};
HotCodeSummary summarize_hot_code(const std::vector<HotCodeRecord>& hot_code);

}  // namespace blacklist
