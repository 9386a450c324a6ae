// FakeTimerSource: timers on a FakeClock. Nothing fires by itself; Advance(d) moves the clock
// forward step by step and runs, in deadline order, every timer that falls due (a callback
// may arm, cancel or destroy timers, including itself). Single-threaded, like the loop
// thread it stands in for.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/timer.h"
#include "test/fakes/fake_clock.h"

namespace halo {

class FakeTimerSource final : public TimerSource {
 public:
  std::unique_ptr<Timer> NewTimer(std::function<void()> fire) override {
    return std::make_unique<FakeTimer>(this, std::move(fire));
  }
  const Clock& clock() const override { return clock_; }
  FakeClock& fake_clock() { return clock_; }

  // Moves time forward by `d`, firing what falls due on the way.
  void Advance(Duration d) {
    TimePoint end = clock_.Now() + d;
    for (;;) {
      FakeTimer* next = nullptr;
      for (FakeTimer* t : timers_) {
        if (t->armed_ && t->deadline_ <= end && (!next || t->deadline_ < next->deadline_)) {
          next = t;
        }
      }
      if (!next) break;
      if (next->deadline_ > clock_.Now()) clock_.Advance(next->deadline_ - clock_.Now());
      next->armed_ = false;
      next->fire_();  // may destroy `next`
    }
    if (end > clock_.Now()) clock_.Advance(end - clock_.Now());
  }
  size_t armed_count() const {
    return static_cast<size_t>(
        std::count_if(timers_.begin(), timers_.end(), [](FakeTimer* t) { return t->armed_; }));
  }

 private:
  class FakeTimer final : public Timer {
   public:
    FakeTimer(FakeTimerSource* src, std::function<void()> fire)
        : src_(src), fire_(std::move(fire)) {
      src_->timers_.push_back(this);
    }
    ~FakeTimer() override {
      auto& v = src_->timers_;
      v.erase(std::remove(v.begin(), v.end(), this), v.end());
    }
    void Arm(Duration after) override {
      armed_ = true;
      deadline_ = src_->clock_.Now() + std::max(after, Duration::zero());
    }
    void Cancel() override { armed_ = false; }
    bool armed() const override { return armed_; }

    FakeTimerSource* src_;
    std::function<void()> fire_;
    bool armed_ = false;
    TimePoint deadline_{};
  };

  FakeClock clock_;
  std::vector<FakeTimer*> timers_;
};

}  // namespace halo
