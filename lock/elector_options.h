// ElectorOptions: the timing policy of the Elector (lock/elector.h) and the value it
// advertises. The field names match the config keys read by ParseElectorTiming
// (lock/lock_config.h); see lock/README.md for the meaning of each.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace halo::lock {

struct ElectorOptions {
  // Lease length asked of a TTL backend (config key "ttl").
  Duration ttl = seconds(15);
  // Renew period of a TTL backend, ttl/3 by default; for a backend without TTL (flock) the
  // period of the "is my lock file still the lock file" check ("renew_interval").
  Duration renew_every = seconds(5);
  // The holder self-fences (MayWrite turns false) at the send time of its last successful
  // renew (or of the acquire) + renew_deadline, if no later renew has succeeded by then
  // ("renew_deadline"). Not applied to backends without a TTL.
  Duration renew_deadline = seconds(10);
  // Pause between acquire attempts while standby, and between renew retries after an
  // unknown outcome ("retry_interval").
  Duration retry = seconds(1);
  // Each retry pause is retry + uniform(-jitter, +jitter) ("retry_jitter").
  Duration jitter = milliseconds(200);
  // Bound on each backend call ("op_timeout").
  Duration op_timeout = seconds(2);
  // After StepDown(), do not compete for the lock for this long ("stepdown_backoff").
  Duration stepdown_backoff = seconds(10);
  // For backends that CanWait(): the longest single blocking wait for the lock before the
  // worker loops round (it is woken at once by Stop() anyway).
  Duration max_wait = seconds(1);
  // The holder's serving loop and storage writer must show progress at least this often
  // ("liveness_timeout"): past it the elector ends the term itself (a hung loop), and on a
  // backend without TTL standbys displace a holder whose heartbeat stopped (a stopped
  // process). The heartbeat is written every liveness_timeout / 6.
  Duration liveness_timeout = seconds(3);
  // What this node advertises while it holds the lock (EncodeLockValue()). Required.
  std::string value;

  // kInvalidArgument naming the offending option unless:
  //   ttl > renew_deadline > 1.2 * renew_every,  ttl >= renew_deadline + 2 * op_timeout,
  //   op_timeout > 0, retry > 0, liveness_timeout >= 60ms, 0 <= jitter < retry, stepdown_backoff >=
  //   0, max_wait > 0, and value is a valid lock value (ValidateLockValue).
  Status Validate() const;
  // The same checks without `value`.
  Status ValidateTiming() const;
};

}  // namespace halo::lock
