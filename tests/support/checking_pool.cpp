// tests/support/checking_pool.cpp — see checking_pool.hpp.
#include "tests/support/checking_pool.hpp"

#include <algorithm>
#include <cstring>

#include "tests/support/pool_messages.hpp"

extern "C" {
#include "cn.h"
}

namespace testsupport {

CheckingPool::Job CheckingPool::next_job() {
  test_support::BlobFields fields;
  fields.seed = next_id_;
  Job job{next_id_++, test_support::hashing_blob(fields)};
  jobs_.push_back(job);
  if (jobs_.size() > kMaxJobs) jobs_.pop_front();
  ++jobs_sent_;
  return job;
}

std::string CheckingPool::hash(std::string_view blob) {
  std::string out(32, '\0');
  cn_hash(reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size(), reinterpret_cast<std::uint8_t*>(out.data()),
          kAlgorithm, 0);
  return out;
}

CheckingPool::Check CheckingPool::check(std::uint32_t job_id, std::uint32_t nonce, std::string_view result) {
  auto verdict = [this](Check check) {
    (check == Check::accepted ? accepted_ : rejected_) += 1;
    return check;
  };
  if (result.size() != 32) return verdict(Check::malformed);
  const auto job = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.id == job_id; });
  if (job == jobs_.end()) return verdict(Check::unknown_job);
  std::string blob = job->blob;
  for (int i = 0; i < 4; ++i) blob[39 + static_cast<std::size_t>(i)] = static_cast<char>((nonce >> (8 * i)) & 0xFF);
  if (hash(blob) != result) return verdict(Check::wrong_hash);
  std::uint32_t top = 0;
  std::memcpy(&top, result.data() + 28, 4);  // little-endian hosts only (x86-64 here)
  return verdict(top < target_ ? Check::accepted : Check::above_target);
}

}  // namespace testsupport
