// Timer and TimerSource: one-shot timers on an event loop, behind an interface so that code
// with deadlines (the HTTP server's header/body/idle/write timeouts, the router's failover
// hold) can be tested on a fake clock (test/fakes/fake_timer_source.h) without waiting.
//
// A Timer belongs to the loop thread it was created for: Arm, Cancel and the callback all run
// there. Arm() replaces any earlier deadline. Destroying a Timer cancels it; the callback may
// destroy the Timer (and its owner) as long as it touches nothing afterwards.
// TimerSource::clock() is the time base the deadlines are measured on (Now() of that clock
// plus the Arm() duration is when the callback runs).
#pragma once

#include <functional>
#include <memory>

#include "common/clock.h"

namespace halo {

class Timer {
 public:
  virtual ~Timer() = default;
  // Fires the callback once, `after` from now (negative: as soon as possible, from the loop).
  virtual void Arm(Duration after) = 0;
  virtual void Cancel() = 0;
  virtual bool armed() const = 0;
};

class TimerSource {
 public:
  virtual ~TimerSource() = default;
  virtual std::unique_ptr<Timer> NewTimer(std::function<void()> fire) = 0;
  virtual const Clock& clock() const = 0;
};

}  // namespace halo
