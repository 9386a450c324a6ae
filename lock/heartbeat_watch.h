// HeartbeatWatch: a standby's judgement of whether the lock holder is making progress.
//
// The holder of generation g rewrites its heartbeat (lock/lock_file_record.h) with a new
// sequence number every beat while its serving loop and storage writer make progress. A
// standby feeds what it reads; the holder counts as stalled once the same heartbeat has
// been seen, unchanged, for `stale_after` of the standby's own clock. No clocks are compared
// across processes. A holder that has written no heartbeat for its generation (an older
// binary, or one between locking and publishing) is never judged stalled.
//
// Pure decision (no I/O); one per backend object, used by its worker thread only.
#pragma once

#include <optional>

#include "common/clock.h"
#include "lock/lock_file_record.h"

namespace halo::lock {

class HeartbeatWatch {
 public:
  // `hb` as read at `now` for the holder of `generation`. True if that holder is stalled.
  bool Observe(uint64_t generation, const std::optional<HeartbeatRecord>& hb, TimePoint now,
               Duration stale_after);
  // How long the current heartbeat has been seen unchanged (zero if none is tracked).
  Duration Unchanged(TimePoint now) const;

 private:
  std::optional<HeartbeatRecord> last_;
  TimePoint since_{};
};

}  // namespace halo::lock
