// blacklist/wasm.cpp — the defensive Wasm reader, per-function profiles, primitive scores and the
// module fingerprint. Layout: Reader (bounds-checked bytes and LEB128), BodyDecoder (one function
// body), the section walker (read_module), then scoring and fingerprint().
#include "blacklist/wasm.hpp"

#include <algorithm>
#include <bit>
#include <bitset>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace blacklist::wasm {

namespace {

// ---------------------------------------------------------------------------------------------------
// Reader: a bounds-checked cursor over one span of the module. Every read either succeeds or records
// the first error (with the module byte offset) and returns false; nothing reads past `end_`.
class Reader {
 public:
  Reader(const std::uint8_t* module_begin, const std::uint8_t* begin, const std::uint8_t* end)
      : module_begin_(module_begin), position_(begin), end_(end) {}

  bool at_end() const { return position_ == end_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - position_); }
  std::size_t offset() const { return static_cast<std::size_t>(position_ - module_begin_); }
  const std::string& error() const { return error_; }
  // What is left, as bytes (for scanning a data segment).
  std::string_view rest() const { return {reinterpret_cast<const char*>(position_), remaining()}; }

  // Records `what` at the current offset (only the first error is kept) and returns false.
  bool fail(std::string_view what) {
    if (error_.empty()) error_ = fmt::format("byte {}: {}", offset(), what);
    return false;
  }

  bool byte(std::uint8_t& out) {
    if (position_ == end_) return fail("unexpected end of data");
    out = *position_++;
    return true;
  }

  bool skip(std::size_t count) {
    if (count > remaining()) return fail(fmt::format("{} bytes needed, {} remain", count, remaining()));
    position_ += count;
    return true;
  }

  // The next `size` bytes as their own Reader (sharing module offsets); this one moves past them.
  bool take(std::size_t size, Reader& out) {
    if (size > remaining()) return false;
    out = Reader(module_begin_, position_, position_ + size);
    position_ += size;
    return true;
  }

  bool u32(std::uint32_t& out) {
    std::uint64_t value = 0;
    if (!read_unsigned<32>(value)) return false;
    out = static_cast<std::uint32_t>(value);
    return true;
  }
  bool u64(std::uint64_t& out) { return read_unsigned<64>(out); }
  bool s32(std::int64_t& out) { return read_signed<32>(out); }
  bool s33(std::int64_t& out) { return read_signed<33>(out); }
  bool s64(std::int64_t& out) { return read_signed<64>(out); }

  // A name or other byte vector: length, then that many bytes (skipped).
  bool skip_vector() {
    std::uint32_t length = 0;
    return u32(length) && skip(length);
  }

 private:
  // LEB128, unsigned, at most ceil(kBits / 7) bytes; the last byte may not carry bits beyond kBits.
  template <int kBits>
  bool read_unsigned(std::uint64_t& out) {
    if (position_ != end_ && *position_ < 0x80) {  // the common one-byte case
      out = *position_++;
      return true;
    }
    constexpr int kMaxBytes = (kBits + 6) / 7;
    constexpr int kLastByteBits = kBits - 7 * (kMaxBytes - 1);
    std::uint64_t result = 0;
    for (int i = 0; i < kMaxBytes; ++i) {
      if (position_ == end_) return fail("LEB128 number runs past the end");
      const std::uint8_t byte = *position_++;
      result |= static_cast<std::uint64_t>(byte & 0x7F) << (7 * i);
      if (!(byte & 0x80)) {
        if (i == kMaxBytes - 1 && (byte >> kLastByteBits) != 0)
          return fail(fmt::format("LEB128 number overflows {} bits", kBits));
        out = result;
        return true;
      }
    }
    return fail(fmt::format("LEB128 number longer than {} bytes", kMaxBytes));
  }

  // LEB128, signed; the unused bits of a maximal-length encoding must all equal the sign bit.
  template <int kBits>
  bool read_signed(std::int64_t& out) {
    if (position_ != end_ && *position_ < 0x80) {
      const int byte = *position_++;
      out = (byte ^ 0x40) - 0x40;  // sign-extend bit 6
      return true;
    }
    constexpr int kMaxBytes = (kBits + 6) / 7;
    constexpr int kLastByteBits = kBits - 7 * (kMaxBytes - 1);
    std::uint64_t result = 0;
    int shift = 0;
    for (int i = 0; i < kMaxBytes; ++i) {
      if (position_ == end_) return fail("LEB128 number runs past the end");
      const std::uint8_t byte = *position_++;
      result |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      shift += 7;
      if (!(byte & 0x80)) {
        if (i == kMaxBytes - 1) {
          const int top = (byte & 0x7F) >> (kLastByteBits - 1);  // sign bit and the unused bits
          if (top != 0 && top != (0x7F >> (kLastByteBits - 1)))
            return fail(fmt::format("signed LEB128 number overflows {} bits", kBits));
        }
        if (shift < 64 && (byte & 0x40)) result |= ~std::uint64_t{0} << shift;
        out = static_cast<std::int64_t>(result);
        return true;
      }
    }
    return fail(fmt::format("LEB128 number longer than {} bytes", kMaxBytes));
  }

  const std::uint8_t* module_begin_;
  const std::uint8_t* position_;
  const std::uint8_t* end_;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------------
// Opcode tables for the one-byte opcodes: which immediates follow, and which Operation is counted.

enum class Immediate : std::uint8_t {
  invalid,
  none,
  index,
  two_indices,
  block_type,
  end,
  delegate,
  branch_table,
  select_types,
  try_table,
  memory_argument,
  i32_constant,
  i64_constant,
  f32_constant,
  f64_constant,
  heap_type,
  prefix_gc,
  prefix_misc,
  prefix_simd,
  prefix_atomic,
};

constexpr std::array<Immediate, 256> kImmediates = [] {
  std::array<Immediate, 256> table{};
  table.fill(Immediate::invalid);
  auto set = [&table](int first, int last, Immediate kind) {
    for (int opcode = first; opcode <= last; ++opcode) table[opcode] = kind;
  };
  set(0x00, 0x01, Immediate::none);        // unreachable, nop
  set(0x02, 0x04, Immediate::block_type);  // block, loop, if
  table[0x05] = Immediate::none;           // else
  table[0x06] = Immediate::block_type;     // try (legacy exceptions)
  set(0x07, 0x09, Immediate::index);       // catch tag, throw tag, rethrow depth
  table[0x0A] = Immediate::none;           // throw_ref
  table[0x0B] = Immediate::end;
  set(0x0C, 0x0D, Immediate::index);  // br, br_if
  table[0x0E] = Immediate::branch_table;
  table[0x0F] = Immediate::none;          // return
  table[0x10] = Immediate::index;         // call
  table[0x11] = Immediate::two_indices;   // call_indirect type table
  table[0x12] = Immediate::index;         // return_call
  table[0x13] = Immediate::two_indices;   // return_call_indirect
  set(0x14, 0x15, Immediate::index);      // call_ref, return_call_ref
  table[0x18] = Immediate::delegate;      // delegate depth (closes a try)
  table[0x19] = Immediate::none;          // catch_all
  set(0x1A, 0x1B, Immediate::none);       // drop, select
  table[0x1C] = Immediate::select_types;  // select t*
  table[0x1F] = Immediate::try_table;
  set(0x20, 0x26, Immediate::index);            // local.*, global.*, table.get/set
  set(0x28, 0x3E, Immediate::memory_argument);  // loads and stores
  set(0x3F, 0x40, Immediate::index);            // memory.size, memory.grow (memory index)
  table[0x41] = Immediate::i32_constant;
  table[0x42] = Immediate::i64_constant;
  table[0x43] = Immediate::f32_constant;
  table[0x44] = Immediate::f64_constant;
  set(0x45, 0xC4, Immediate::none);    // numeric operators, conversions, sign extension
  table[0xD0] = Immediate::heap_type;  // ref.null
  table[0xD1] = Immediate::none;       // ref.is_null
  table[0xD2] = Immediate::index;      // ref.func
  set(0xD3, 0xD4, Immediate::none);    // ref.eq, ref.as_non_null
  set(0xD5, 0xD6, Immediate::index);   // br_on_null, br_on_non_null
  table[0xFB] = Immediate::prefix_gc;
  table[0xFC] = Immediate::prefix_misc;
  table[0xFD] = Immediate::prefix_simd;
  table[0xFE] = Immediate::prefix_atomic;
  return table;
}();

constexpr std::uint8_t kNotCounted = 0xFF;

constexpr std::array<std::uint8_t, 256> kCountedOperation = [] {
  std::array<std::uint8_t, 256> table{};
  table.fill(kNotCounted);
  auto set = [&table](int first, int last, Operation operation) {
    for (int opcode = first; opcode <= last; ++opcode) table[opcode] = static_cast<std::uint8_t>(operation);
  };
  set(0x03, 0x03, Operation::loop);
  set(0x0D, 0x0D, Operation::br_if);
  set(0x10, 0x15, Operation::call);
  set(0x20, 0x20, Operation::local_get);
  set(0x21, 0x21, Operation::local_set);
  set(0x22, 0x22, Operation::local_tee);
  set(0x28, 0x28, Operation::i32_load);
  set(0x29, 0x29, Operation::i64_load);
  set(0x2A, 0x2B, Operation::float_load);
  set(0x2C, 0x35, Operation::narrow_load);
  set(0x36, 0x36, Operation::i32_store);
  set(0x37, 0x37, Operation::i64_store);
  set(0x38, 0x39, Operation::float_store);
  set(0x3A, 0x3E, Operation::narrow_store);
  set(0x41, 0x41, Operation::i32_const);
  set(0x42, 0x42, Operation::i64_const);
  set(0x67, 0x69, Operation::bit_count);
  set(0x6A, 0x6A, Operation::i32_add);
  set(0x6B, 0x6B, Operation::i32_sub);
  set(0x6C, 0x6C, Operation::i32_mul);
  set(0x71, 0x71, Operation::i32_and);
  set(0x72, 0x72, Operation::i32_or);
  set(0x73, 0x73, Operation::i32_xor);
  set(0x74, 0x74, Operation::i32_shl);
  set(0x75, 0x76, Operation::i32_shr);
  set(0x77, 0x77, Operation::i32_rotl);
  set(0x78, 0x78, Operation::i32_rotr);
  set(0x79, 0x7B, Operation::bit_count);
  set(0x7C, 0x7C, Operation::i64_add);
  set(0x7D, 0x7D, Operation::i64_sub);
  set(0x7E, 0x7E, Operation::i64_mul);
  set(0x83, 0x83, Operation::i64_and);
  set(0x84, 0x84, Operation::i64_or);
  set(0x85, 0x85, Operation::i64_xor);
  set(0x86, 0x86, Operation::i64_shl);
  set(0x87, 0x88, Operation::i64_shr);
  set(0x89, 0x89, Operation::i64_rotl);
  set(0x8A, 0x8A, Operation::i64_rotr);
  set(0x8B, 0xA6, Operation::float_arithmetic);
  return table;
}();

// An `and` mask that keeps one byte scaled by a table entry size of 1, 2, 4 or 8 bytes: what
// `T[(x >> 8k) & 0xFF]` compiles to once the index scaling is folded into the mask.
bool is_byte_mask(std::int64_t value) { return value == 0xFF || value == 0x1FE || value == 0x3FC || value == 0x7F8; }

// The SWAR bit-permutation masks (JH's SWAP1..SWAP16, also board flips); index k for SWAP(2^k).
constexpr std::array<std::pair<std::uint64_t, std::uint64_t>, 5> kSwapMasks = {{
    {0x5555555555555555ULL, 0xAAAAAAAAAAAAAAAAULL},
    {0x3333333333333333ULL, 0xCCCCCCCCCCCCCCCCULL},
    {0x0F0F0F0F0F0F0F0FULL, 0xF0F0F0F0F0F0F0F0ULL},
    {0x00FF00FF00FF00FFULL, 0xFF00FF00FF00FF00ULL},
    {0x0000FFFF0000FFFFULL, 0xFFFF0000FFFF0000ULL},
}};

// ---------------------------------------------------------------------------------------------------
// BodyDecoder: one function body (locals, then instructions up to the final `end`) into a profile.
class BodyDecoder {
 public:
  BodyDecoder(Reader body, FunctionProfile& profile) : reader_(std::move(body)), profile_(profile) {}

  // Fills the profile. On a problem the body is marked incomplete; counts so far are kept.
  void run() {
    if (decode_locals() && decode_instructions()) return;
    profile_.complete = false;
    profile_.problem = reader_.error().empty() ? std::string("body could not be decoded") : reader_.error();
  }

 private:
  enum class Constant : std::uint8_t { none, i32, i64 };

  bool decode_locals() {
    std::uint32_t groups = 0;
    if (!reader_.u32(groups)) return false;
    if (groups > kMaxLocals)
      return reader_.fail(fmt::format("{} local groups, over the limit of {}", groups, kMaxLocals));
    std::uint64_t locals = 0;
    for (std::uint32_t group = 0; group < groups; ++group) {
      std::uint32_t count = 0;
      if (!reader_.u32(count)) return false;
      locals += count;
      if (locals > kMaxLocals) return reader_.fail(fmt::format("over {} locals", kMaxLocals));
      if (!value_type()) return false;
    }
    return true;
  }

  bool value_type() {
    std::uint8_t type = 0;
    if (!reader_.byte(type)) return false;
    if (type == 0x63 || type == 0x64) return heap_type();  // (ref null? heaptype)
    return true;
  }

  bool heap_type() {
    std::int64_t type = 0;
    return reader_.s33(type);
  }

  // Empty (0x40), a value type, or a type index: all one s33, then a heap type after (ref null? ht).
  bool block_type() {
    std::int64_t type = 0;
    if (!reader_.s33(type)) return false;
    if (type == 0x63 - 0x80 || type == 0x64 - 0x80) return heap_type();
    return true;
  }

  // align (bit 6: a memory index follows, multi-memory), then the offset (64-bit for memory64).
  bool memory_argument() {
    std::uint32_t align = 0;
    std::uint32_t memory = 0;
    std::uint64_t offset = 0;
    if (!reader_.u32(align)) return false;
    if ((align & 0x40) && !reader_.u32(memory)) return false;
    return reader_.u64(offset);
  }

  bool indices(int count) {
    std::uint32_t index = 0;
    for (int i = 0; i < count; ++i)
      if (!reader_.u32(index)) return false;
    return true;
  }

  // A count read from the body can never exceed its remaining bytes (each entry takes at least one).
  bool bounded_count(std::uint32_t& count) {
    if (!reader_.u32(count)) return false;
    if (count > reader_.remaining())
      return reader_.fail(fmt::format("count {} exceeds the body's remaining bytes", count));
    return true;
  }

  void count(Operation operation, bool in_loop) {
    const auto slot = static_cast<std::size_t>(operation);
    ++profile_.operations[slot];
    if (in_loop) ++profile_.loop_operations[slot];
  }

  bool open_block(bool is_loop) {
    if (depth_ >= kMaxNestingDepth) return reader_.fail(fmt::format("blocks nested deeper than {}", kMaxNestingDepth));
    is_loop_[depth_++] = is_loop;
    if (is_loop) ++loop_depth_;
    return true;
  }

  // Closes the innermost block; returns true when that was the function's own block (body done).
  bool close_block() {
    if (depth_ == 0) return true;
    if (is_loop_[--depth_]) --loop_depth_;
    return false;
  }

  // Notes what compilers make of constant operands (the constant is the instruction just before).
  void note_constant_operand(std::uint8_t opcode, Constant constant) {
    if (constant == Constant::none) return;
    const std::int64_t value = constant_;
    switch (opcode) {
      case 0x71:
      case 0x83:  // i32.and, i64.and
        if (is_byte_mask(value)) ++profile_.byte_masks;
        if (is_scratchpad_mask(value) && profile_.scratchpad_masks++ == 0) profile_.scratchpad_mask = value;
        break;
      case 0x73:
        if (value == -1) ++profile_.nots32;
        break;  // i32.xor -1 = not
      case 0x85:
        if (value == -1) ++profile_.nots64;
        break;
      case 0x76: ++profile_.right_shifts32[value & 31]; break;             // i32.shr_u
      case 0x88: ++profile_.right_shifts64[value & 63]; break;             // i64.shr_u
      case 0x77: ++profile_.rotations32[value & 31]; break;                // i32.rotl
      case 0x78: ++profile_.rotations32[(32 - (value & 31)) & 31]; break;  // rotr k = rotl 32-k
      case 0x89: ++profile_.rotations64[value & 63]; break;
      case 0x8A: ++profile_.rotations64[(64 - (value & 63)) & 63]; break;
      default: break;
    }
  }

  void note_i64_constant(std::int64_t value) {
    const auto bits = static_cast<std::uint64_t>(value);
    for (std::size_t k = 0; k < kSwapMasks.size(); ++k)
      if (bits == kSwapMasks[k].first || bits == kSwapMasks[k].second) {
        ++profile_.swap_masks;
        profile_.swap_mask_kinds |= 1u << k;
      }
  }

  bool decode_instructions() {
    while (true) {
      std::uint8_t opcode = 0;
      if (!reader_.byte(opcode)) return reader_.fail("body ends before its final `end`");
      const bool in_loop = loop_depth_ > 0;
      ++profile_.instructions;
      if (in_loop) ++profile_.loop_instructions;
      if (kCountedOperation[opcode] != kNotCounted) count(static_cast<Operation>(kCountedOperation[opcode]), in_loop);
      const Constant previous = previous_constant_;
      previous_constant_ = Constant::none;

      switch (kImmediates[opcode]) {
        case Immediate::none: note_constant_operand(opcode, previous); break;
        case Immediate::index:
          if (!indices(1)) return false;
          break;
        case Immediate::two_indices:
          if (!indices(2)) return false;
          break;
        case Immediate::block_type:
          if (!block_type() || !open_block(opcode == 0x03)) return false;
          break;
        case Immediate::try_table:
          if (!block_type() || !catch_clauses() || !open_block(false)) return false;
          break;
        case Immediate::end:
          if (close_block()) {
            if (!reader_.at_end()) return reader_.fail("instructions after the function's final `end`");
            return true;
          }
          break;
        case Immediate::delegate:
          if (!indices(1)) return false;
          if (close_block()) return reader_.fail("`delegate` outside a `try`");
          break;
        case Immediate::branch_table: {
          std::uint32_t targets = 0;
          if (!bounded_count(targets) || !indices(1)) return false;
          for (std::uint32_t i = 0; i < targets; ++i)
            if (!indices(1)) return false;
          break;
        }
        case Immediate::select_types: {
          std::uint32_t types = 0;
          if (!bounded_count(types)) return false;
          for (std::uint32_t i = 0; i < types; ++i)
            if (!value_type()) return false;
          break;
        }
        case Immediate::memory_argument:
          if (!memory_argument()) return false;
          break;
        case Immediate::i32_constant:
          if (!reader_.s32(constant_)) return false;
          previous_constant_ = Constant::i32;
          wasm::note_i32_constant(static_cast<std::int32_t>(constant_), profile_.signatures);
          break;
        case Immediate::i64_constant:
          if (!reader_.s64(constant_)) return false;
          previous_constant_ = Constant::i64;
          note_i64_constant(constant_);
          wasm::note_i64_constant(constant_, profile_.signatures);
          break;
        case Immediate::f32_constant:
          if (!reader_.skip(4)) return false;
          break;
        case Immediate::f64_constant:
          if (!reader_.skip(8)) return false;
          break;
        case Immediate::heap_type:
          if (!heap_type()) return false;
          break;
        case Immediate::prefix_gc:
          if (!gc_instruction()) return false;
          break;
        case Immediate::prefix_misc:
          if (!misc_instruction(in_loop)) return false;
          break;
        case Immediate::prefix_simd:
          if (!simd_instruction(in_loop)) return false;
          break;
        case Immediate::prefix_atomic:
          if (!atomic_instruction(in_loop)) return false;
          break;
        case Immediate::invalid: return reader_.fail(fmt::format("unknown opcode 0x{:02x}", opcode));
      }
    }
  }

  // try_table's catch clauses: kind 0/1 (catch, catch_ref) carry a tag and a label, 2/3 a label.
  bool catch_clauses() {
    std::uint32_t clauses = 0;
    if (!bounded_count(clauses)) return false;
    for (std::uint32_t i = 0; i < clauses; ++i) {
      std::uint8_t kind = 0;
      if (!reader_.byte(kind)) return false;
      if (kind > 3) return reader_.fail(fmt::format("unknown catch clause kind {}", kind));
      if (!indices(kind <= 1 ? 2 : 1)) return false;
    }
    return true;
  }

  // 0xFB: the GC proposal's struct/array/i31/cast instructions.
  bool gc_instruction() {
    std::uint32_t subopcode = 0;
    if (!reader_.u32(subopcode)) return false;
    switch (subopcode) {
      case 0:
      case 1:
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
      case 14:
      case 16: return indices(1);
      case 2:
      case 3:
      case 4:
      case 5:
      case 8:
      case 9:
      case 10:
      case 17:
      case 18:
      case 19: return indices(2);
      case 15:
      case 26:
      case 27:
      case 28:
      case 29:
      case 30: return true;
      case 20:
      case 21:
      case 22:
      case 23: return heap_type();
      case 24:
      case 25: {  // br_on_cast(_fail): flags, label, two heap types
        std::uint8_t flags = 0;
        return reader_.byte(flags) && indices(1) && heap_type() && heap_type();
      }
      default: return reader_.fail(fmt::format("unknown opcode 0xfb {}", subopcode));
    }
  }

  // 0xFC: saturating float-to-int conversions (0-7), bulk memory and table instructions (8-17).
  bool misc_instruction(bool in_loop) {
    std::uint32_t subopcode = 0;
    if (!reader_.u32(subopcode)) return false;
    if (subopcode <= 7) return true;
    if (subopcode > 17) return reader_.fail(fmt::format("unknown opcode 0xfc {}", subopcode));
    count(Operation::bulk_memory, in_loop);
    switch (subopcode) {
      case 8:
      case 10:
      case 12:
      case 14:  // memory.init, memory.copy, table.init, table.copy
        return indices(2);
      default:  // data.drop, memory.fill, elem.drop, table.grow/size/fill
        return indices(1);
    }
  }

  // 0xFD: SIMD (and relaxed SIMD). Immediates: a memory argument for loads and stores, 16 bytes for
  // v128.const and i8x16.shuffle, a lane index for lane operations; the rest have none.
  bool simd_instruction(bool in_loop) {
    std::uint32_t subopcode = 0;
    if (!reader_.u32(subopcode)) return false;
    if (subopcode > 0x113) return reader_.fail(fmt::format("unknown opcode 0xfd {}", subopcode));
    count(Operation::simd, in_loop);
    if (subopcode >= 77 && subopcode <= 82) count(Operation::simd_bitwise, in_loop);
    if (subopcode == 13 || subopcode == 14 || subopcode == 0x100) count(Operation::simd_byte_shuffle, in_loop);
    std::uint8_t lane = 0;
    if (subopcode <= 11 || subopcode == 92 || subopcode == 93) return memory_argument();
    if (subopcode == 12 || subopcode == 13) return reader_.skip(16);
    if (subopcode >= 21 && subopcode <= 34) return reader_.byte(lane);
    if (subopcode >= 84 && subopcode <= 91) return memory_argument() && reader_.byte(lane);
    return true;
  }

  // 0xFE: threads' atomics — all take a memory argument except atomic.fence (one zero byte).
  bool atomic_instruction(bool in_loop) {
    std::uint32_t subopcode = 0;
    if (!reader_.u32(subopcode)) return false;
    if (subopcode == 0x03) {
      std::uint8_t reserved = 0;
      count(Operation::atomic, in_loop);
      return reader_.byte(reserved);
    }
    if (subopcode > 0x4E || (subopcode > 0x03 && subopcode < 0x10))
      return reader_.fail(fmt::format("unknown opcode 0xfe {}", subopcode));
    count(Operation::atomic, in_loop);
    return memory_argument();
  }

  Reader reader_;
  FunctionProfile& profile_;
  std::uint32_t depth_ = 0;       // open blocks inside the function's own block
  std::uint32_t loop_depth_ = 0;  // of those, loops
  std::bitset<kMaxNestingDepth> is_loop_;
  Constant previous_constant_ = Constant::none;
  std::int64_t constant_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// Sections.

constexpr std::uint8_t kCustomSection = 0;
constexpr std::uint8_t kImportSection = 2;
constexpr std::uint8_t kFunctionSection = 3;
constexpr std::uint8_t kCodeSection = 10;
constexpr std::uint8_t kDataSection = 11;
constexpr std::uint8_t kLastSectionId = 13;  // tag

// The order the spec requires for non-custom sections (tag sits between memory and global,
// data count between element and code); a section must rank above the previous one.
constexpr std::array<int, kLastSectionId + 1> kSectionRank = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};

constexpr std::array<std::string_view, kLastSectionId + 1> kSectionNames = {
    "custom", "type",  "import",  "function", "table", "memory",     "global",
    "export", "start", "element", "code",     "data",  "data count", "tag"};

bool read_limits(Reader& reader) {
  std::uint8_t flags = 0;
  if (!reader.byte(flags)) return false;
  if (flags > 0x0F) return reader.fail(fmt::format("unknown limits flags 0x{:02x}", flags));
  std::uint64_t bound = 0;
  const bool is_64_bit = flags & 0x04;
  const int bounds = (flags & 0x01) ? 2 : 1;
  for (int i = 0; i < bounds; ++i) {
    std::uint32_t bound32 = 0;
    if (!(is_64_bit ? reader.u64(bound) : reader.u32(bound32))) return false;
  }
  if (flags & 0x08) {  // custom page size (log2)
    std::uint32_t page_size = 0;
    if (!reader.u32(page_size)) return false;
  }
  return true;
}

bool read_value_type(Reader& reader) {
  std::uint8_t type = 0;
  if (!reader.byte(type)) return false;
  std::int64_t heap_type = 0;
  if (type == 0x63 || type == 0x64) return reader.s33(heap_type);
  return true;
}

// Counts imported functions (they come first in the function index space); the rest is skipped.
bool read_imports(Reader& section, ModuleProfile& module) {
  std::uint32_t count = 0;
  if (!section.u32(count)) return false;
  if (count > kMaxImports) return section.fail(fmt::format("{} imports, over the limit of {}", count, kMaxImports));
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t kind = 0;
    std::uint32_t index = 0;
    std::uint8_t mutability = 0;
    if (!section.skip_vector() || !section.skip_vector() || !section.byte(kind)) return false;
    switch (kind) {
      case 0x00:  // function: type index
        if (!section.u32(index)) return false;
        ++module.imported_functions;
        break;
      case 0x01:  // table: reference type, limits
        if (!read_value_type(section) || !read_limits(section)) return false;
        break;
      case 0x02:  // memory: limits
        if (!read_limits(section)) return false;
        break;
      case 0x03:  // global: value type, mutability
        if (!read_value_type(section) || !section.byte(mutability)) return false;
        break;
      case 0x04:  // tag: attribute, type index
        if (!section.byte(mutability) || !section.u32(index)) return false;
        break;
      default: return section.fail(fmt::format("unknown import kind 0x{:02x}", kind));
    }
  }
  if (!section.at_end()) return section.fail("bytes left over after the last import");
  return true;
}

void add_to_module(const FunctionProfile& profile, ModuleProfile& module, bool keep_functions) {
  ++module.functions;
  module.instructions += profile.instructions;
  module.loop_instructions += profile.loop_instructions;
  for (std::size_t i = 0; i < kOperationCount; ++i) module.operations[i] += profile.operations[i];
  for (std::size_t p = 0; p < kPrimitiveCount; ++p)
    if (profile.scores[p] > module.best[p].score)  // strictly: the first function wins ties
      module.best[p] = {profile.scores[p], profile.index};
  module.signatures.merge(profile.signatures);
  const bool main_loop = profile.scratchpad_masks > 0 &&
                         profile.operations[static_cast<std::size_t>(Operation::i64_mul)] > 0 &&
                         profile.operations[static_cast<std::size_t>(Operation::loop)] > 0;
  if (main_loop && !module.scratchpad_loop) {
    module.scratchpad_loop = true;
    module.scratchpad_function = profile.index;
    module.scratchpad_mask = profile.scratchpad_mask;
  }
  if (auto what = hash_function_kind(profile); !what.empty()) {
    if (module.hash_functions.size() < kMaxHashFunctions)
      module.hash_functions.push_back(
          {profile.index, profile.begin, profile.begin + profile.body_bytes, std::move(what)});
    else ++module.hash_functions_not_kept;
  }
  if (!profile.complete) {
    if (module.incomplete_functions++ == 0)
      module.first_problem = fmt::format("function {}: {}", profile.index, profile.problem);
  }
  if (!keep_functions) return;
  if (module.kept.size() < kMaxKeptFunctions) module.kept.push_back(profile);
  else ++module.functions_not_kept;
}

// The code section: every body's size is checked against the section before it is decoded, so a
// problem inside one body never desynchronises the walk over the next ones.
bool read_code(Reader& section, ModuleProfile& module, bool keep_functions) {
  std::uint32_t count = 0;
  if (!section.u32(count)) return false;
  if (count > kMaxFunctions)
    return section.fail(fmt::format("{} function bodies, over the limit of {}", count, kMaxFunctions));
  if (count > section.remaining())
    return section.fail(fmt::format("{} function bodies cannot fit in {} bytes", count, section.remaining()));
  FunctionProfile profile;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t size = 0;
    if (!section.u32(size)) return false;
    Reader body(nullptr, nullptr, nullptr);
    const std::size_t body_offset = section.offset();
    if (!section.take(size, body))
      return section.fail(
          fmt::format("function body {} claims {} bytes, only {} remain", i, size, section.remaining()));
    profile = FunctionProfile{};
    profile.index = module.imported_functions + i;
    profile.body_bytes = size;
    profile.begin = static_cast<std::uint32_t>(body_offset);
    if (size > kMaxBodyBytes) {
      profile.complete = false;
      profile.problem =
          fmt::format("byte {}: body of {} bytes, over the limit of {}; skipped", body_offset, size, kMaxBodyBytes);
    } else {
      BodyDecoder(std::move(body), profile).run();
    }
    profile.scores = score_function(profile);
    add_to_module(profile, module, keep_functions);
  }
  if (!section.at_end()) return section.fail("bytes left over after the last function body");
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Scoring helpers.

double saturation(double observed, double expected) { return std::min(1.0, observed / expected); }

double weakest(std::initializer_list<double> features) { return std::min(features); }

template <std::size_t N>
std::uint32_t count_at(const std::array<std::uint32_t, N>& counts, std::initializer_list<int> amounts) {
  std::uint32_t total = 0;
  for (int amount : amounts) total += counts[amount];
  return total;
}

template <std::size_t N>
int distinct_at(const std::array<std::uint32_t, N>& counts, std::initializer_list<int> amounts) {
  int distinct = 0;
  for (int amount : amounts) distinct += counts[amount] > 0;
  return distinct;
}

template <std::size_t N>
std::uint32_t total_of(const std::array<std::uint32_t, N>& counts) {
  std::uint32_t total = 0;
  for (std::uint32_t count : counts) total += count;
  return total;
}

struct ByteLanes {
  std::uint32_t shifts = 0;  // right shifts that bring some byte k ≥ 1 down to an index
  int distinct = 0;          // how many different bytes k
};

// `(x >> 8k) & 0xFF` scaled by a 2^s-byte table entry compiles to a shift by 8k - s (s ≤ 3).
template <std::size_t N>
ByteLanes byte_lanes(const std::array<std::uint32_t, N>& right_shifts) {
  ByteLanes lanes;
  for (std::size_t k = 1; k < N / 8; ++k) {
    const std::uint32_t shifts =
        right_shifts[8 * k] + right_shifts[8 * k - 1] + right_shifts[8 * k - 2] + right_shifts[8 * k - 3];
    lanes.shifts += shifts;
    lanes.distinct += shifts > 0;
  }
  return lanes;
}

std::uint32_t operations(const FunctionProfile& profile, Operation operation) {
  return profile.operations[static_cast<std::size_t>(operation)];
}

// Each primitive is described by the few features its round function cannot do without, each
// expected at about half of what one unrolled round shows, so a faithful implementation saturates
// while a loop-rolled or partial one still scores in proportion. Rotation amounts are the strongest
// tell; compilers fold them into `const` + rotl/rotr, normalised here to rotate-left.

// Keccak-f: theta's five rotations by 1, ~100 xors a round, chi's 25 (not, and) pairs. The
// rho rotations may be computed from a table in rolled builds, so they are not required.
double keccak_score(const FunctionProfile& profile) {
  return weakest({saturation(operations(profile, Operation::i64_xor), 50),
                  saturation(operations(profile, Operation::i64_and) + operations(profile, Operation::i64_or), 20),
                  saturation(profile.nots64, 10), saturation(profile.rotations64[1], 5)});
}

// AES with T-tables: each round extracts bytes 1, 2 and 3 of 32-bit words by shifting (and byte 0
// by masking), loads 16 table words and xors them with the round key.
double aes_score(const FunctionProfile& profile) {
  const ByteLanes lanes = byte_lanes(profile.right_shifts32);
  return weakest({saturation(lanes.shifts, 12), saturation(lanes.distinct, 3), saturation(profile.byte_masks, 12),
                  saturation(operations(profile, Operation::i32_load), 16),
                  saturation(operations(profile, Operation::i32_xor), 16)});
}

// BLAKE's G: add, xor, rotate with a fixed set of four amounts — BLAKE-256/BLAKE2s rotate right by
// 16, 12, 8, 7; BLAKE2b by 32, 24, 16, 63; BLAKE-512 by 32, 25, 16, 11. "Purity" (the share of
// constant rotations that use the set) keeps SHA-2, whose rotations are many and different, out.
template <std::size_t N>
double blake_variant(const std::array<std::uint32_t, N>& rotations, std::uint32_t adds, std::uint32_t xors,
                     std::initializer_list<int> amounts) {
  const std::uint32_t in_set = count_at(rotations, amounts);
  const std::uint32_t all = total_of(rotations);
  const double purity = all == 0 ? 0.0 : static_cast<double>(in_set) / all;
  return weakest({saturation(adds, 24), saturation(xors, 16), saturation(in_set, 16),
                  saturation(distinct_at(rotations, amounts), 4), saturation(purity, 0.75)});
}

double blake_score(const FunctionProfile& profile) {
  const std::uint32_t add32 = operations(profile, Operation::i32_add), xor32 = operations(profile, Operation::i32_xor);
  const std::uint32_t add64 = operations(profile, Operation::i64_add), xor64 = operations(profile, Operation::i64_xor);
  return std::max({blake_variant(profile.rotations32, add32, xor32, {16, 20, 24, 25}),    // rotr 16 12 8 7
                   blake_variant(profile.rotations64, add64, xor64, {32, 40, 48, 1}),     // rotr 32 24 16 63
                   blake_variant(profile.rotations64, add64, xor64, {32, 39, 48, 53})});  // rotr 32 25 16 11
}

// Threefish MIX: add, rotate by a round-specific constant, xor. Skein-512 uses 27 distinct
// rotation amounts over its 8-round cycle, Skein-256 14; no other ARX design uses that many.
double skein_score(const FunctionProfile& profile) {
  const auto& rotations = profile.rotations64;
  const std::initializer_list<int> skein512 = {46, 36, 19, 37, 33, 27, 14, 42, 17, 49, 39, 44, 9, 54,
                                               56, 30, 34, 24, 13, 50, 10, 25, 29, 43, 8,  35, 22};
  const std::initializer_list<int> skein256 = {14, 16, 52, 57, 23, 40, 5, 37, 25, 33, 46, 12, 58, 22, 32};
  auto amounts_of = [&rotations](std::initializer_list<int> set) {
    return weakest({saturation(count_at(rotations, set), 24), saturation(distinct_at(rotations, set), 12)});
  };
  const double amounts = std::max(amounts_of(skein512), amounts_of(skein256));
  return weakest({saturation(operations(profile, Operation::i64_add), 32),
                  saturation(operations(profile, Operation::i64_xor), 32), amounts});
}

// Groestl with 64-bit T-tables: every output column is eight byte lookups from 64-bit words, so
// bytes above the low one are shifted out of i64 values; loads and xors are 64-bit.
double groestl_score(const FunctionProfile& profile) {
  const ByteLanes lanes = byte_lanes(profile.right_shifts64);
  return weakest({saturation(lanes.shifts, 16), saturation(lanes.distinct, 3), saturation(profile.byte_masks, 32),
                  saturation(operations(profile, Operation::i64_load), 32),
                  saturation(operations(profile, Operation::i64_xor), 32)});
}

// JH, bit-sliced: S-boxes of and/or/xor/not on 64-bit words and the SWAP permutations with their
// 0x5555…/0x3333…/0x0F0F… masks. Board flips in chess engines share the masks but not the S-box mass.
double jh_score(const FunctionProfile& profile) {
  return weakest({saturation(operations(profile, Operation::i64_xor), 64),
                  saturation(operations(profile, Operation::i64_and), 32),
                  saturation(operations(profile, Operation::i64_or), 8), saturation(profile.nots64, 16),
                  saturation(std::popcount(profile.swap_mask_kinds), 3)});
}

// Bitwise, shift and rotate instructions: what hashing is made of, and ordinary code has little of.
template <typename Count>
std::uint64_t crypto_operations(const std::array<Count, kOperationCount>& counts) {
  std::uint64_t total = 0;
  for (Operation operation :
       {Operation::i32_xor, Operation::i64_xor, Operation::i32_and, Operation::i64_and, Operation::i32_or,
        Operation::i64_or, Operation::i32_shl, Operation::i64_shl, Operation::i32_shr, Operation::i64_shr,
        Operation::i32_rotl, Operation::i64_rotl, Operation::i32_rotr, Operation::i64_rotr, Operation::simd_bitwise})
    total += counts[static_cast<std::size_t>(operation)];
  return total;
}

Fingerprint not_fingerprinted(std::string error) {
  Fingerprint result;
  result.error = std::move(error);
  result.summary = fmt::format("Wasm not fingerprinted: {}", result.error);
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

std::string_view to_string(Operation operation) {
  static constexpr std::array<std::string_view, kOperationCount> kNames = {"i32.xor",
                                                                           "i64.xor",
                                                                           "i32.and",
                                                                           "i64.and",
                                                                           "i32.or",
                                                                           "i64.or",
                                                                           "i32.shl",
                                                                           "i64.shl",
                                                                           "i32.shr",
                                                                           "i64.shr",
                                                                           "i32.rotl",
                                                                           "i64.rotl",
                                                                           "i32.rotr",
                                                                           "i64.rotr",
                                                                           "i32.add",
                                                                           "i64.add",
                                                                           "i32.sub",
                                                                           "i64.sub",
                                                                           "i32.mul",
                                                                           "i64.mul",
                                                                           "i32.load",
                                                                           "i64.load",
                                                                           "narrow load",
                                                                           "i32.store",
                                                                           "i64.store",
                                                                           "narrow store",
                                                                           "float load",
                                                                           "float store",
                                                                           "i32.const",
                                                                           "i64.const",
                                                                           "local.get",
                                                                           "local.set",
                                                                           "local.tee",
                                                                           "loop",
                                                                           "br_if",
                                                                           "call",
                                                                           "bit count",
                                                                           "float arithmetic",
                                                                           "simd",
                                                                           "simd bitwise",
                                                                           "simd byte shuffle",
                                                                           "atomic",
                                                                           "bulk memory"};
  return kNames[static_cast<std::size_t>(operation)];
}

std::string_view to_string(Primitive primitive) {
  static constexpr std::array<std::string_view, kPrimitiveCount> kNames = {"keccak",  "aes",   "blake",
                                                                           "groestl", "skein", "jh"};
  return kNames[static_cast<std::size_t>(primitive)];
}

std::array<double, kPrimitiveCount> score_function(const FunctionProfile& profile) {
  return {keccak_score(profile),  aes_score(profile),   blake_score(profile),
          groestl_score(profile), skein_score(profile), jh_score(profile)};
}

// The data section: each segment's bytes are scanned for specification tables. Offsets are skipped
// (a constant expression up to its `end`); a malformed segment is an error like any framing fault.
bool read_data(Reader& section, ModuleProfile& module) {
  std::uint32_t count = 0;
  if (!section.u32(count)) return false;
  if (count > section.remaining())
    return section.fail(fmt::format("{} data segments cannot fit in {} bytes", count, section.remaining()));
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t flags = 0;
    if (!section.u32(flags)) return false;
    if (flags > 2) return section.fail(fmt::format("data segment {} has unknown flags {}", i, flags));
    if (flags == 2) {
      std::uint32_t memory = 0;
      if (!section.u32(memory)) return false;
    }
    if (flags != 1) {  // active: an offset expression, read up to its `end`
      for (std::uint8_t byte = 0; byte != 0x0B;) {
        if (!section.byte(byte)) return false;
        if (byte == 0x41 || byte == 0x42) {  // i32.const / i64.const: skip the LEB128 immediate
          std::int64_t ignored = 0;
          if (!(byte == 0x41 ? section.s32(ignored) : section.s64(ignored))) return false;
        } else if (byte == 0x23) {  // global.get
          std::uint32_t ignored = 0;
          if (!section.u32(ignored)) return false;
        }
      }
    }
    std::uint32_t size = 0;
    if (!section.u32(size)) return false;
    Reader bytes(nullptr, nullptr, nullptr);
    if (!section.take(size, bytes))
      return section.fail(fmt::format("data segment {} claims {} bytes, only {} remain", i, size, section.remaining()));
    scan_data(bytes.rest(), module.signatures);
    ++module.data_segments;
  }
  return section.at_end() || section.fail("bytes left over after the last data segment");
}

ModuleProfile read_module(std::string_view module_bytes, bool keep_functions) {
  ModuleProfile module;
  auto fail = [&module](std::string error) {
    module.ok = false;
    module.error = std::move(error);
    return std::move(module);
  };
  if (module_bytes.size() > kMaxModuleBytes)
    return fail(fmt::format("module of {} bytes, over the limit of {}", module_bytes.size(), kMaxModuleBytes));
  if (module_bytes.size() < 8)
    return fail(fmt::format("{} bytes: shorter than the 8-byte Wasm header", module_bytes.size()));
  if (module_bytes.substr(0, 4) != std::string_view("\0asm", 4)) return fail("no \\0asm magic: not a Wasm module");
  const auto* begin = reinterpret_cast<const std::uint8_t*>(module_bytes.data());
  const std::uint32_t version = begin[4] | begin[5] << 8 | begin[6] << 16 | static_cast<std::uint32_t>(begin[7]) << 24;
  if (version != 1) return fail(fmt::format("version 0x{:08x}: only core modules of version 1 are read", version));

  Reader reader(begin, begin + 8, begin + module_bytes.size());
  int last_rank = 0;
  std::uint32_t declared_functions = 0;
  bool code_seen = false;
  while (!reader.at_end()) {
    std::uint8_t id = 0;
    std::uint32_t size = 0;
    const std::size_t section_offset = reader.offset();
    if (!reader.byte(id) || !reader.u32(size)) return fail(reader.error());
    if (id > kLastSectionId) return fail(fmt::format("byte {}: unknown section id {}", section_offset, id));
    Reader section(nullptr, nullptr, nullptr);
    if (!reader.take(size, section))
      return fail(fmt::format("byte {}: {} section claims {} bytes, only {} remain (truncated module?)", section_offset,
                              kSectionNames[id], size, reader.remaining()));
    if (id != kCustomSection) {
      if (kSectionRank[id] <= last_rank)
        return fail(fmt::format("byte {}: {} section out of order or repeated", section_offset, kSectionNames[id]));
      last_rank = kSectionRank[id];
    }
    switch (id) {
      case kImportSection:
        if (!read_imports(section, module)) return fail(section.error());
        break;
      case kFunctionSection:
        if (!section.u32(declared_functions)) return fail(section.error());
        if (declared_functions > kMaxFunctions)
          return fail(fmt::format("byte {}: {} functions declared, over the limit of {}", section_offset,
                                  declared_functions, kMaxFunctions));
        break;
      case kCodeSection:
        code_seen = true;
        if (!read_code(section, module, keep_functions)) return fail(section.error());
        break;
      case kDataSection:
        if (!read_data(section, module)) return fail(section.error());
        break;
      default: break;  // skipped: its bounds were checked above
    }
  }
  if (module.functions != declared_functions)
    return fail(fmt::format("function section declares {} functions, code section has {} bodies{}", declared_functions,
                            module.functions, code_seen ? "" : " (no code section)"));
  module.ok = true;
  return module;
}

namespace {

// Per primitive, how it was found ("" when it was not).
std::array<std::string, kPrimitiveCount> find_primitives(const ModuleProfile& profile) {
  std::array<std::string, kPrimitiveCount> how;
  for (std::size_t p = 0; p < kPrimitiveCount; ++p)
    if (profile.best[p].score >= kPrimitiveMatchScore)
      how[p] = fmt::format("{:.2f} in function {}", profile.best[p].score, profile.best[p].function);
  const Signatures& constants = profile.signatures;
  auto add = [&how](Primitive primitive, bool seen, std::string why) {
    auto& slot = how[static_cast<std::size_t>(primitive)];
    if (seen && slot.empty()) slot = std::move(why);
  };
  add(Primitive::keccak, constants.keccak_table, "round constants in data");
  add(Primitive::keccak, constants.keccak_constants_seen() >= kMinKeccakConstants,
      fmt::format("{} round constants in code", constants.keccak_constants_seen()));
  add(Primitive::aes, constants.aes_tables, "T-tables in data");
  add(Primitive::aes, constants.aes_sbox, "S-box in data");
  // π words with Blowfish's S-box are Blowfish (bcrypt), whose P-array starts with the same digits.
  add(Primitive::blake, !constants.blowfish && constants.blake_table, "constants in data");
  add(Primitive::blake, !constants.blowfish && constants.blake_words_seen() >= kMinBlakeConstants,
      fmt::format("{} constants in code", constants.blake_words_seen()));
  add(Primitive::skein, constants.skein_parity, "Threefish parity constant");
  add(Primitive::groestl, constants.groestl_tables, "T-tables in data");
  add(Primitive::jh, constants.jh_table, "constants in data");
  add(Primitive::jh, constants.jh_words_seen() >= kMinJhConstants,
      fmt::format("{} constants in code", constants.jh_words_seen()));
  return how;
}

// The one line the verdict's evidence shows.
std::string summarize(const Fingerprint& result, const ModuleProfile& profile, const std::string& matched) {
  std::string summary = fmt::format(
      "{}: {} distinct hash primitive{}{}; crypto density {:.0f}%; score {:.2f}; {} functions, {} instructions",
      result.cryptonight_core ? "mining-hash structure (CryptoNight core)"
      : result.miner          ? "mining-hash structure"
                              : "no mining-hash structure",
      result.distinct_primitives, result.distinct_primitives == 1 ? "" : "s",
      matched.empty() ? "" : " (" + matched + ")", 100 * result.crypto_density, result.score, result.functions,
      result.instructions);
  if (profile.incomplete_functions > 0)
    summary += fmt::format("; {} function{} only partly decoded (first: {})", profile.incomplete_functions,
                           profile.incomplete_functions == 1 ? "" : "s", profile.first_problem);
  return summary;
}

}  // namespace

Fingerprint fingerprint(const ModuleProfile& profile) {
  if (!profile.ok) return not_fingerprinted(profile.error);
  Fingerprint result;
  result.ok = true;
  result.functions = profile.functions;
  result.instructions = profile.instructions;
  result.incomplete_functions = profile.incomplete_functions;
  const std::uint64_t crypto = crypto_operations(profile.operations);
  result.crypto_density =
      profile.instructions == 0 ? 0.0 : static_cast<double>(crypto) / static_cast<double>(profile.instructions);

  // A primitive is found by the shape of a function's instructions, or by the constants its
  // specification fixes (tables in data, round constants in code): the second holds at every
  // optimisation level, where rounds turn from unrolled code into loops over tables.
  const auto found = find_primitives(profile);
  std::string matched;
  std::array<double, kPrimitiveCount> scores{};
  for (std::size_t p = 0; p < kPrimitiveCount; ++p) {
    scores[p] = found[p].empty() ? profile.best[p].score : 1.0;
    if (found[p].empty()) continue;
    ++result.distinct_primitives;
    result.primitives.emplace_back(to_string(static_cast<Primitive>(p)));
    matched += fmt::format("{}{} ({})", matched.empty() ? "" : ", ", to_string(static_cast<Primitive>(p)), found[p]);
  }

  // Score: the three best primitive scores carry the weight (three distinct primitives is the
  // structure we look for), the density of bitwise work the rest.
  std::sort(scores.begin(), scores.end(), std::greater<>());
  const double top_three = (scores[0] + scores[1] + scores[2]) / 3;
  result.score = 0.8 * top_three + 0.2 * std::min(1.0, result.crypto_density / kCryptoDensitySaturation);

  // The decision, either of two structures:
  // - CryptoNight's core: Keccak (the state), AES (the scratchpad fill and the main loop's rounds)
  //   and the memory-hard main loop itself (scratchpad indexes masked to a power-of-two pad, 64-bit
  //   multiplies, a loop). Every CryptoNight variant has all three; a crypto library with AES and
  //   SHA-3 has no scratchpad loop, a password hasher (Argon2, scrypt) neither AES nor Keccak.
  // - MineSweeper's rule: three distinct primitives (CryptoNight needs Keccak, AES and one of four
  //   final hashes, while legitimate Wasm ships one hash or two), with a density floor that keeps
  //   out big applications merely linking a crypto library.
  const bool keccak = !found[static_cast<std::size_t>(Primitive::keccak)].empty();
  const bool aes = !found[static_cast<std::size_t>(Primitive::aes)].empty();
  result.cryptonight_core = keccak && aes && profile.scratchpad_loop;
  result.miner = result.cryptonight_core ||
                 (result.distinct_primitives >= kMinerMinPrimitives && result.crypto_density >= kMinerMinCryptoDensity);
  if (profile.scratchpad_loop)
    matched += fmt::format("{}scratchpad loop (mask 0x{:X}: a {} KiB pad) in function {}", matched.empty() ? "" : "; ",
                           profile.scratchpad_mask, (profile.scratchpad_mask + 16) / 1024, profile.scratchpad_function);
  if (result.cryptonight_core) result.scratchpad_function = profile.scratchpad_function;
  result.hash_functions = profile.hash_functions;

  result.summary = summarize(result, profile, matched);
  return result;
}

Fingerprint fingerprint(std::string_view module_bytes) { return fingerprint(read_module(module_bytes)); }

std::string hash_function_kind(const FunctionProfile& profile) {
  const auto count = [&](Operation operation) { return profile.operations[static_cast<std::size_t>(operation)]; };
  if (profile.scratchpad_masks > 0 && count(Operation::i64_mul) > 0 && count(Operation::loop) > 0)
    return fmt::format("CryptoNight main loop (scratchpad mask 0x{:X})", profile.scratchpad_mask);
  std::size_t best = 0;
  for (std::size_t p = 1; p < kPrimitiveCount; ++p)
    if (profile.scores[p] > profile.scores[best]) best = p;
  if (profile.scores[best] >= kPrimitiveMatchScore)
    return fmt::format("{} rounds ({:.2f})", to_string(static_cast<Primitive>(best)), profile.scores[best]);
  const Signatures& constants = profile.signatures;
  if (constants.keccak_constants_seen() >= kMinKeccakConstants) return "Keccak round constants";
  if (!constants.blowfish && constants.blake_words_seen() >= kMinBlakeConstants) return "BLAKE constants";
  if (constants.skein_parity) return "Skein constants";
  if (constants.jh_words_seen() >= kMinJhConstants) return "JH constants";
  const std::uint64_t crypto = crypto_operations(profile.operations);
  const double density =
      profile.instructions == 0 ? 0.0 : static_cast<double>(crypto) / static_cast<double>(profile.instructions);
  if (profile.instructions >= kHashFunctionMinInstructions && density >= kHashFunctionMinDensity)
    return fmt::format("bitwise-heavy ({:.0f}%)", 100 * density);
  return {};
}

}  // namespace blacklist::wasm
