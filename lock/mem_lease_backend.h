// MemLeaseBackend: a LockBackend client of an in-process LeaseTable (lock/lease_table.h).
// A lease backend (HasTtl() true, CanWait() false) whose expiry runs on the table's Clock,
// so the Elector's lease paths run under a FakeClock. Several clients sharing one table
// contend like nodes sharing one Redis. Calls never block. Thread-safe.
#pragma once

#include <memory>

#include "lock/lease_table.h"
#include "lock/lock_backend.h"

namespace halo::lock {

class MemLeaseBackend final : public LockBackend {
 public:
  explicit MemLeaseBackend(std::shared_ptr<LeaseTable> table) : table_(std::move(table)) {}

  // LockBackend
  std::string_view Name() const override { return "inmem"; }
  bool HasTtl() const override { return true; }
  bool CanWait() const override { return false; }
  Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) override;
  Status Renew(const Lease& lease, Duration ttl, Duration timeout) override;
  Status Release(const Lease& lease, Duration timeout) override;
  Result<std::optional<Holder>> ReadHolder(Duration timeout) override;

  LeaseTable* table() const { return table_.get(); }

 private:
  std::shared_ptr<LeaseTable> table_;
};

}  // namespace halo::lock
