// FakeClock: a Clock whose time moves only when a test says so. SleepFor advances the clock
// by the requested amount and returns at once, so code that sleeps runs instantly and
// deterministically. Thread-safe.
#pragma once

#include <atomic>

#include "common/clock.h"

namespace halo {

class FakeClock final : public Clock {
 public:
  FakeClock() : now_ns_(1'000'000'000'000), wall_us_(1'700'000'000'000'000) {}

  TimePoint Now() const override { return TimePoint(Duration(now_ns_.load())); }
  int64_t WallMicros() const override { return wall_us_.load(); }
  void SleepFor(Duration d) override { Advance(d); }

  void Advance(Duration d) {
    now_ns_ += d.count();
    wall_us_ += std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  }

 private:
  std::atomic<int64_t> now_ns_;
  std::atomic<int64_t> wall_us_;
};

}  // namespace halo
