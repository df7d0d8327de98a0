// util/clock.hpp — the two clocks cjcrawl reads: the wall clock for what is stored and shown (Unix
// epoch milliseconds), and the steady clock for every deadline and interval.
#pragma once

#include <chrono>
#include <cstdint>

namespace util {

using SteadyClock = std::chrono::steady_clock;

// Now, in Unix epoch milliseconds (what the database and the JSON reports store).
inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Seconds from `from` to `to` (negative if `to` is earlier).
inline double seconds_between(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Whole milliseconds of a duration, for logs and limits.
template <class Rep, class Period>
constexpr std::int64_t to_ms(std::chrono::duration<Rep, Period> duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

}  // namespace util
