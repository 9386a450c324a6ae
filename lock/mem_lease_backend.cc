#include "lock/mem_lease_backend.h"

namespace halo::lock {

Result<Lease> MemLeaseBackend::TryAcquire(const AcquireRequest& req, Duration /*timeout*/) {
  return table_->Acquire(req);
}

Status MemLeaseBackend::Renew(const Lease& lease, Duration ttl, Duration /*timeout*/) {
  return table_->Renew(lease.token, ttl);
}

Status MemLeaseBackend::Release(const Lease& lease, Duration /*timeout*/) {
  return table_->Release(lease.token);
}

Result<std::optional<Holder>> MemLeaseBackend::ReadHolder(Duration /*timeout*/) {
  return table_->Read();
}

}  // namespace halo::lock
