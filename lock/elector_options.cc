#include "lock/elector_options.h"

#include <string>

#include "lock/lock_backend.h"

namespace halo::lock {
namespace {

std::string Ms(Duration d) { return std::to_string(ToMillis(d)) + "ms"; }

}  // namespace

Status ElectorOptions::ValidateTiming() const {
  if (op_timeout <= Duration::zero()) return Status::InvalidArgument("op_timeout must be > 0");
  if (retry <= Duration::zero()) return Status::InvalidArgument("retry_interval must be > 0");
  if (max_wait <= Duration::zero()) return Status::InvalidArgument("max_wait must be > 0");
  if (liveness_timeout < milliseconds(60)) {
    return Status::InvalidArgument("liveness_timeout (" + Ms(liveness_timeout) +
                                   ") must be at least 60ms");
  }
  if (jitter < Duration::zero() || jitter >= retry) {
    return Status::InvalidArgument("retry_jitter (" + Ms(jitter) +
                                   ") must be >= 0 and < retry_interval (" + Ms(retry) + ")");
  }
  if (stepdown_backoff < Duration::zero()) {
    return Status::InvalidArgument("stepdown_backoff must be >= 0");
  }
  if (renew_every <= Duration::zero()) {
    return Status::InvalidArgument("renew_interval must be > 0");
  }
  if (!(ttl > renew_deadline)) {
    return Status::InvalidArgument("renew_deadline (" + Ms(renew_deadline) +
                                   ") must be less than ttl (" + Ms(ttl) + ")");
  }
  // renew_deadline > 1.2 * renew_every, in integer arithmetic: 5 * rd > 6 * re.
  if (!(5 * renew_deadline.count() > 6 * renew_every.count())) {
    return Status::InvalidArgument("renew_deadline (" + Ms(renew_deadline) +
                                   ") must be more than 1.2 x renew_interval (" + Ms(renew_every) +
                                   ")");
  }
  if (ttl < renew_deadline + 2 * op_timeout) {
    return Status::InvalidArgument("ttl (" + Ms(ttl) + ") must be at least renew_deadline (" +
                                   Ms(renew_deadline) + ") + 2 x op_timeout (" + Ms(op_timeout) +
                                   ")");
  }
  return Status::Ok();
}

Status ElectorOptions::Validate() const {
  RETURN_IF_ERROR(ValidateTiming());
  if (value.empty()) return Status::InvalidArgument("elector value (lock value) is empty");
  Status s = ValidateLockValue(value);
  if (!s.ok()) return s.Annotate("elector value");
  return Status::Ok();
}

}  // namespace halo::lock
