#include "common/event_timer_source.h"

#include "common/check.h"

namespace halo {
namespace {

timeval ToTimeval(Duration d) {
  if (d < Duration::zero()) d = Duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

class EventTimer final : public Timer {
 public:
  EventTimer(event_base* base, std::function<void()> fire) : fire_(std::move(fire)) {
    ev_ = evtimer_new(base, &EventTimer::OnFire, this);
    HALO_CHECK(ev_ != nullptr, "evtimer_new failed (out of memory)");
  }
  ~EventTimer() override { event_free(ev_); }

  void Arm(Duration after) override {
    timeval tv = ToTimeval(after);
    evtimer_add(ev_, &tv);
  }
  void Cancel() override { evtimer_del(ev_); }
  bool armed() const override { return evtimer_pending(ev_, nullptr) != 0; }

 private:
  static void OnFire(evutil_socket_t, short, void* arg) {
    static_cast<EventTimer*>(arg)->fire_();  // may delete *this
  }

  event* ev_;
  std::function<void()> fire_;
};

}  // namespace

std::unique_ptr<Timer> EventTimerSource::NewTimer(std::function<void()> fire) {
  return std::make_unique<EventTimer>(base_, std::move(fire));
}

}  // namespace halo
