#include "lock/lease_table.h"

#include <algorithm>
#include <map>

namespace halo::lock {

void LeaseTable::ExpireLocked() {
  if (entry_ && clock_->Now() >= entry_->expires) entry_.reset();
}

Result<Lease> LeaseTable::Acquire(const AcquireRequest& req) {
  RETURN_IF_ERROR(ValidateLockValue(req.value));
  if (req.token.empty()) return Status::InvalidArgument("lock token is empty");
  if (req.ttl <= Duration::zero()) return Status::InvalidArgument("lease ttl must be > 0");
  std::lock_guard<std::mutex> l(mu_);
  ExpireLocked();
  if (entry_) return Status::Conflict("lock held by another");
  fence_ = std::max(fence_, req.min_epoch) + 1;
  entry_ = Entry{req.token, req.value, fence_, clock_->Now() + req.ttl};
  return Lease{fence_, req.token};
}

Status LeaseTable::Renew(const std::string& token, Duration ttl) {
  std::lock_guard<std::mutex> l(mu_);
  ExpireLocked();
  if (!entry_ || entry_->token != token) return Status::Conflict("lease not held");
  entry_->expires = clock_->Now() + ttl;
  return Status::Ok();
}

Status LeaseTable::Release(const std::string& token) {
  std::lock_guard<std::mutex> l(mu_);
  ExpireLocked();
  if (entry_ && entry_->token == token) entry_.reset();
  return Status::Ok();
}

std::optional<Holder> LeaseTable::Read() {
  std::lock_guard<std::mutex> l(mu_);
  ExpireLocked();
  if (!entry_) return std::nullopt;
  return Holder{entry_->value, entry_->epoch};
}

uint64_t LeaseTable::fence() {
  std::lock_guard<std::mutex> l(mu_);
  return fence_;
}

void LeaseTable::DropLeaseForTest() {
  std::lock_guard<std::mutex> l(mu_);
  entry_.reset();
}

void LeaseTable::SetFenceForTest(uint64_t fence) {
  std::lock_guard<std::mutex> l(mu_);
  fence_ = fence;
}

std::shared_ptr<LeaseTable> SharedLeaseTable(const std::string& name, Clock* clock) {
  static std::mutex mu;
  static auto* tables = new std::map<std::string, std::shared_ptr<LeaseTable>>();
  std::lock_guard<std::mutex> l(mu);
  auto& t = (*tables)[name];
  if (!t) t = std::make_shared<LeaseTable>(clock);
  return t;
}

}  // namespace halo::lock
