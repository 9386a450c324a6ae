// WaitGate: an interruptible pause for lock backends that poll while TryAcquire waits (the
// networked leases: redis_lock_backend.h, postgresql_lock_backend.h). Pause() sleeps up to
// `d` and reports whether Interrupt() was called (now or before); once interrupted, every
// later Pause returns false at once. PollAcquire is the loop around it.
//
// Thread-safe: Interrupt from any thread while another pauses.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

#include "common/clock.h"
#include "common/result.h"
#include "lock/lock_backend.h"

namespace halo::lock {

class WaitGate {
 public:
  // False if interrupted (before or during the pause).
  bool Pause(Duration d);
  void Interrupt();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;  // guarded by mu_
};

// Calls `once` until it returns anything but kConflict, or `wait` has passed (then its last
// kConflict), pausing `every` between calls; kUnavailable once `gate` is interrupted.
Result<Lease> PollAcquire(const std::function<Result<Lease>()>& once, Duration wait, Duration every,
                          WaitGate& gate);

}  // namespace halo::lock
