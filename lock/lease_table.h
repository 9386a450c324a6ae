// LeaseTable: an in-process lease lock "server" with a TTL measured on an injected Clock.
// It models what a lease service such as Redis does (SET NX PX + INCR fence, compare-and-
// PEXPIRE, compare-and-DEL), so the Elector's TTL, renew, lost-renew and self-fence paths
// can be tested deterministically with a FakeClock. Clients are MemLeaseBackend objects
// (lock/mem_lease_backend.h) sharing one table.
//
// The fence counter only grows; it outlives every client. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "lock/lock_backend.h"

namespace halo::lock {

class LeaseTable {
 public:
  // REQUIRES: clock outlives the table.
  explicit LeaseTable(Clock* clock) : clock_(clock) {}
  LeaseTable(const LeaseTable&) = delete;
  LeaseTable& operator=(const LeaseTable&) = delete;

  // Takes the lease if free or expired: epoch = max(fence, min_epoch) + 1. kConflict if
  // another unexpired lease holds it.
  Result<Lease> Acquire(const AcquireRequest& req);
  // Extends the lease with `token` to now + ttl. kConflict if it is not the holder (expired,
  // released, or taken by another).
  Status Renew(const std::string& token, Duration ttl);
  // Deletes the lease if `token` holds it. OK either way.
  Status Release(const std::string& token);
  std::optional<Holder> Read();
  uint64_t fence();

  // Test hooks: forget the lease now (as after a lock-server failover that lost it), and
  // overwrite the fence counter (as after a restart without durable storage).
  void DropLeaseForTest();
  void SetFenceForTest(uint64_t fence);

 private:
  struct Entry {
    std::string token;
    std::string value;
    uint64_t epoch = 0;
    TimePoint expires{};
  };
  // Clears an expired entry. REQUIRES: mu_ held.
  void ExpireLocked();

  Clock* const clock_;
  std::mutex mu_;
  std::optional<Entry> entry_;  // GUARDED_BY(mu_)
  uint64_t fence_ = 0;          // GUARDED_BY(mu_)
};

// The process-wide table registered under `name`, created with `clock` on first use.
std::shared_ptr<LeaseTable> SharedLeaseTable(const std::string& name, Clock* clock);

}  // namespace halo::lock
