// tests/unit/test_run_queue.cpp — ThreadWaitReader against this very process's threads: it finds
// threads as they start and end, keeps its files within budget (reading the rest the slow way), sees
// run-queue wait when there are more busy threads than cores, and closes everything it kept.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "crawler/run_queue.hpp"

namespace {

using crawler::ThreadWaitReader;
using namespace std::chrono_literals;

std::int64_t own_pid() { return static_cast<std::int64_t>(::getpid()); }

double total(const std::map<std::int64_t, double>& waits) {
  double sum = 0;
  for (const auto& [tid, wait] : waits) sum += wait;
  return sum;
}

}  // namespace

TEST_CASE("thread waits: threads are found as they start and dropped as they end", "[run_queue]") {
  ThreadWaitReader reader;
  const auto before = reader.read(own_pid());
  REQUIRE_FALSE(before.empty());
  CHECK(before.contains(own_pid()));                // the main thread
  CHECK(reader.open_files() == before.size() + 1);  // each schedstat, and stat

  std::atomic<bool> stop{false};
  std::thread sleeper([&] {
    while (!stop) std::this_thread::sleep_for(1ms);
  });
  const auto during = reader.read(own_pid());
  CHECK(during.size() == before.size() + 1);
  stop = true;
  sleeper.join();
  // The count changed again: the list is read anew and the ended thread's file closed.
  const auto after = reader.read(own_pid());
  CHECK(after.size() == before.size());
  CHECK(reader.open_files() == after.size() + 1);
  reader.forget(own_pid());
  CHECK(reader.open_files() == 0);
  CHECK(reader.read(999'999'999).empty());  // no such process
  CHECK(reader.open_files() == 0);
}

TEST_CASE("thread waits: more threads than the file budget are all read, within the budget", "[run_queue]") {
  ThreadWaitReader reader;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ThreadWaitReader::kMaxOpenFiles + 16; ++i)
    threads.emplace_back([&] {
      while (!stop) std::this_thread::sleep_for(1ms);
    });
  const auto waits = reader.read(own_pid());
  CHECK(waits.size() >= ThreadWaitReader::kMaxOpenFiles + 17);
  CHECK(reader.open_files() == ThreadWaitReader::kMaxOpenFiles);
  CHECK(reader.read(own_pid()).size() == waits.size());
  stop = true;
  for (auto& thread : threads) thread.join();
}

TEST_CASE("thread waits: busy threads beyond the cores wait, and the reader sees it", "[run_queue]") {
  ThreadWaitReader reader;
  const auto baseline = total(reader.read(own_pid()));
  const unsigned busy = 3 * std::max(1u, std::thread::hardware_concurrency());
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < busy; ++i)
    threads.emplace_back([&] {
      while (!stop) {
      }
    });
  std::this_thread::sleep_for(300ms);
  const auto loaded = total(reader.read(own_pid()));
  stop = true;
  for (auto& thread : threads) thread.join();
  // Three busy threads per core: each waits about two thirds of the time.
  CHECK(loaded - baseline > 0.1);
}
