#include "lock/heartbeat_watch.h"

namespace halo::lock {

bool HeartbeatWatch::Observe(uint64_t generation, const std::optional<HeartbeatRecord>& hb,
                             TimePoint now, Duration stale_after) {
  if (!hb || hb->generation != generation) {
    last_.reset();
    return false;
  }
  if (last_ != hb) {
    last_ = hb;
    since_ = now;
    return false;
  }
  return stale_after > Duration::zero() && now - since_ >= stale_after;
}

Duration HeartbeatWatch::Unchanged(TimePoint now) const {
  return last_ ? now - since_ : Duration::zero();
}

}  // namespace halo::lock
