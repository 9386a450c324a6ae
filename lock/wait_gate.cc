#include "lock/wait_gate.h"

#include <chrono>

namespace halo::lock {

bool WaitGate::Pause(Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  if (interrupted_) return false;
  cv_.wait_for(lock, d, [this] { return interrupted_; });
  return !interrupted_;
}

void WaitGate::Interrupt() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

Result<Lease> PollAcquire(const std::function<Result<Lease>()>& once, Duration wait, Duration every,
                          WaitGate& gate) {
  auto until = std::chrono::steady_clock::now() + wait;
  for (;;) {
    Result<Lease> got = once();
    if (got.ok() || !got.status().IsConflict()) return got;
    if (std::chrono::steady_clock::now() >= until) {
      if (!gate.Pause(Duration::zero())) return Status::Unavailable("interrupted");
      return got;
    }
    if (!gate.Pause(every)) return Status::Unavailable("interrupted");
  }
}

}  // namespace halo::lock
