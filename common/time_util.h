// Small time conversions shared by both daemons and the tests: the monotonic "now" as a
// plain integer (for latency figures and millisecond deadlines kept in int64_t fields), and
// a libevent `timeval` from milliseconds or a Duration. Logic that must be testable with a
// fake clock takes a Clock* (common/clock.h) instead; these read std::chrono::steady_clock.
// Pure, header-only, thread-safe.
#pragma once

#include <sys/time.h>

#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace halo {

// steady_clock time since its (arbitrary) epoch; only differences mean anything.
inline int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t MonotonicMillis() { return MonotonicMicros() / 1000; }

// Milliseconds since `start` (a steady_clock time point), e.g. for test timings.
inline int64_t MillisSince(TimePoint start) {
  return ToMillis(std::chrono::steady_clock::now() - start);
}

// A timeval for evtimer_add / event_add. Negative durations become zero ("fire at once").
inline timeval TimevalFromMillis(int64_t ms) {
  if (ms < 0) ms = 0;
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}
inline timeval TimevalFrom(Duration d) {
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us < 0) us = 0;
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

}  // namespace halo
