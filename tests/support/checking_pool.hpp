// tests/support/checking_pool.hpp — the honest half of a fake mining pool: it hands out jobs shaped
// like a real pool's (a CryptoNote hashing blob with the nonce left at zero, a compact 32-bit
// target) and checks every share with real CryptoNight (cn-pico/trtl, the kernels of
// tests/fixtures/wasm/builds/src compiled natively): a share is accepted only when the hash of the
// job's blob with the share's nonce equals the submitted result and meets the target. A fixture
// miner therefore has to really hash; the fixture server counts what it accepted.
//
// Thread-compatible (one pool per server thread); jobs are remembered up to kMaxJobs, oldest first
// forgotten.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace testsupport {

class CheckingPool {
 public:
  static constexpr std::size_t kMaxJobs = 64;
  // Difficulty 256: the hash's top 32 bits (little-endian, last four bytes) below 0x00FFFFFF...
  // as a compact target; a cn-pico miner in Chromium finds a share every second or two.
  static constexpr std::uint32_t kTarget = 0x00FFFFFF;
  static constexpr int kAlgorithm = 5;  // cn-pico/trtl (cn.h CN_ALGO_PICO_TRTL)

  struct Job {
    std::uint32_t id = 0;
    std::string blob;  // 76 bytes, nonce (bytes 39..42) zero
  };
  enum class Check { accepted, unknown_job, wrong_hash, above_target, malformed };

  explicit CheckingPool(std::uint32_t target = kTarget) : target_(target) {}
  std::uint32_t target() const { return target_; }

  Job next_job();
  // `result` must be 32 bytes; `nonce` as the miner wrote it into the blob (little-endian).
  Check check(std::uint32_t job_id, std::uint32_t nonce, std::string_view result);

  std::uint64_t jobs_sent() const { return jobs_sent_; }
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t rejected() const { return rejected_; }

  // CryptoNight-pico of `blob` (exposed for the pool's own test).
  static std::string hash(std::string_view blob);

 private:
  std::uint32_t target_;
  std::deque<Job> jobs_;
  std::uint32_t next_id_ = 1;
  std::uint64_t jobs_sent_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_ = 0;
};

}  // namespace testsupport
