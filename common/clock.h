// Clock: the source of time for everything that has a timeout, a TTL or a deadline.
//
// Injected (never read from std::chrono directly in logic) so that lock TTLs, renew deadlines
// and health-check timing can be tested with a fake clock. Now() is monotonic; WallMicros()
// is wall-clock time for timestamps shown to users. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace halo {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;
using std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time; never goes backwards.
  virtual TimePoint Now() const = 0;
  // Microseconds since the Unix epoch (wall clock; may jump).
  virtual int64_t WallMicros() const = 0;
  // Blocks the calling thread for `d` of this clock's time.
  virtual void SleepFor(Duration d) = 0;
};

// The process-wide real clock (steady_clock / system_clock). Never null, never freed.
Clock* RealClock();

inline int64_t ToMillis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace halo
