// HeartbeatWatch: when a standby may judge the flock holder stalled (lock/heartbeat_watch.h).
#include "lock/heartbeat_watch.h"

#include <doctest/doctest.h>

#include <optional>

namespace halo::lock {
namespace {

TEST_CASE("heartbeat watch: stalled only after the same heartbeat for stale_after") {
  const Duration stale = seconds(3);
  const TimePoint t0{seconds(100)};
  struct Row {
    const char* what;
    uint64_t generation;
    std::optional<HeartbeatRecord> hb;
    Duration at;  // after t0
    bool stalled;
  };
  // One watch fed in order, as a standby reads between slices of its wait.
  const Row rows[] = {
      {"first sight is never stale", 1, HeartbeatRecord{1, 5}, seconds(0), false},
      {"unchanged, not yet stale_after", 1, HeartbeatRecord{1, 5}, milliseconds(2999), false},
      {"unchanged for stale_after", 1, HeartbeatRecord{1, 5}, seconds(3), true},
      {"it beats again: fresh", 1, HeartbeatRecord{1, 6}, seconds(4), false},
      {"unchanged since the new beat, not long", 1, HeartbeatRecord{1, 6}, seconds(6), false},
      {"unchanged 3 s since the new beat", 1, HeartbeatRecord{1, 6}, seconds(7), true},
      {"no heartbeat at all: never stale", 1, std::nullopt, seconds(20), false},
      {"heartbeat of another generation: never stale", 2, HeartbeatRecord{1, 6}, seconds(30),
       false},
      {"the new generation's first heartbeat", 2, HeartbeatRecord{2, 0}, seconds(31), false},
      {"and it stops", 2, HeartbeatRecord{2, 0}, seconds(34), true},
  };
  HeartbeatWatch w;
  for (const Row& r : rows) {
    INFO(r.what);
    CHECK(w.Observe(r.generation, r.hb, t0 + r.at, stale) == r.stalled);
  }
}

TEST_CASE("heartbeat watch: stale_after 0 never judges stalled") {
  HeartbeatWatch w;
  const TimePoint t0{seconds(1)};
  CHECK_FALSE(w.Observe(1, HeartbeatRecord{1, 1}, t0, Duration::zero()));
  CHECK_FALSE(w.Observe(1, HeartbeatRecord{1, 1}, t0 + seconds(3600), Duration::zero()));
  CHECK(w.Unchanged(t0 + seconds(10)) == seconds(10));
}

}  // namespace
}  // namespace halo::lock
