// Lock configuration: parse an `ha_storage` block into LockOptions and open the backend.
//
//   "ha_storage": {"flock": {"path": "/var/lib/halo/halo.lock", "renew_interval": "1s"}}
//
// The node passes the block's type ("flock", "inmem") and its object. Every key is
// documented in lock/README.md; unknown keys are errors that name the key. When the lock is
// implied by the storage backend (`"storage": {"lmdb": {"path": DIR}}`) the node uses
// FlockOptionsForDataDir(DIR) instead.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/json_config.h"
#include "common/result.h"
#include "lock/elector_options.h"
#include "lock/lock_backend.h"
#include "lock/lock_options.h"

namespace halo::lock {

// The lock file name inside a data directory (LMDB): "<dir>/halo.lock".
inline constexpr const char* kLockFileName = "halo.lock";
std::string LockPathForDataDir(std::string_view dir);
// LockOptions for the flock lock implied by a data directory, with default timing.
LockOptions FlockOptionsForDataDir(std::string_view dir);

// Reads the timing keys (ttl, renew_interval, renew_deadline, retry_interval,
// retry_jitter, op_timeout, stepdown_backoff, max_wait) present in `obj` into `out`;
// absent keys keep their value. Does not call Finish() or Validate().
Status ParseElectorTiming(ConfigObject& obj, ElectorOptions* out);

// Parses the block of `type`. Applies per-type default timing (flock: renew_interval 1s),
// then the keys, rejects unknown keys, and validates the timing (with a placeholder value).
// kInvalidArgument naming the key on any error.
Result<LockOptions> ParseLockConfig(std::string_view type, ConfigObject& obj);

// Opens the backend described by `options` (flock: creates the lock file, checks the
// filesystem). `clock` drives TTL expiry of the inmem lease table.
Result<LockBackendPtr> OpenLockBackend(const LockOptions& options, Clock* clock = RealClock());

}  // namespace halo::lock
