// EventTimerSource: the TimerSource of a libevent loop (evtimer events) on the real clock.
// Loop thread only (timers are created, armed and fired on the loop of `base`).
#pragma once

#include <event2/event.h>

#include "common/timer.h"

namespace halo {

class EventTimerSource final : public TimerSource {
 public:
  // REQUIRES: `base` outlives every timer made here.
  explicit EventTimerSource(event_base* base) : base_(base) {}
  std::unique_ptr<Timer> NewTimer(std::function<void()> fire) override;
  const Clock& clock() const override { return *RealClock(); }

 private:
  event_base* base_;
};

}  // namespace halo
