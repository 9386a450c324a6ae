// LockBackend: the primitive operations of one HA lock service (flock, an in-memory lease;
// Redis later). A backend only performs atomic steps; all timing policy (when to retry,
// renew, give up, self-fence) lives in the Elector (lock/elector.h).
//
// One lock per backend object. The lock's state is: free, or held by one acquisition that
// carries a caller-chosen `value` (the holder's advertisement, see lock/lock_value.h), a
// unique `token`, and an `epoch` (fencing token) that is strictly larger than the epoch of
// every earlier acquisition of the same lock, across process restarts.
//
// Outcomes use Status codes:
//   OK           the operation took effect;
//   kConflict    definitely not: the lock is held by another (acquire) or is no longer ours
//                (renew); see IsNotHeld();
//   kTimeout     the outcome is unknown (a request may have taken effect without a reply);
//   kUnavailable the backend could not be reached, or a wait was interrupted;
//   kIoError / kCorruption / kInvalidArgument as usual.
// Every call returns within its `timeout` (plus `wait` for TryAcquire).
//
// Threading: TryAcquire, Renew and Release are called by one thread at a time (the
// elector's worker). ReadHolder, Heartbeat and Interrupt may be called from any thread,
// concurrently with each other and with a TryAcquire that is blocked waiting.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace halo::lock {

// The result of a successful acquisition.
struct Lease {
  uint64_t epoch = 0;  // fencing token; strictly increasing per acquisition
  std::string token;   // unique per acquisition (chosen by the caller, see AcquireRequest)
};

// Who holds the lock now (as seen by anyone, e.g. a standby looking for the active).
struct Holder {
  std::string value;  // the holder's advertisement (lock/lock_value.h)
  uint64_t epoch = 0;
  bool operator==(const Holder&) const = default;
};

struct AcquireRequest {
  std::string token;  // unique per attempt: 32 hex chars (NewLockToken())
  std::string value;  // one line, at most kMaxLockValueSize bytes
  Duration ttl{};     // lease length; ignored by backends without a TTL
  // If > 0 and the backend CanWait(), block up to this long for the holder to let go and
  // take the lock the moment it is free. 0 = try once.
  Duration wait{};
  // The granted epoch is > max(min_epoch, every epoch granted before). Lets the caller carry
  // the highest epoch storage has recorded into a backend that lost its counter.
  uint64_t min_epoch = 0;
  // If > 0, a backend without TTL (flock) may displace a holder whose heartbeat (see
  // Heartbeat()) has not advanced for this long: a stopped or hung holder. 0 = never.
  Duration stale_after{};
};

inline constexpr size_t kMaxLockValueSize = 2048;

class LockBackend {
 public:
  virtual ~LockBackend() = default;
  LockBackend(const LockBackend&) = delete;
  LockBackend& operator=(const LockBackend&) = delete;

  // "flock", "inmem", "redis".
  virtual std::string_view Name() const = 0;
  // True for a lease that expires unless renewed within its TTL. False when the lock is
  // held until released or until the holder dies (a kernel file lock): then Renew only
  // checks that the lock is still valid, and the elector applies no self-fence deadline.
  virtual bool HasTtl() const = 0;
  // True if TryAcquire honours AcquireRequest::wait (it can wake the moment the lock frees).
  virtual bool CanWait() const = 0;

  // Takes the lock if free (or once free, within req.wait). OK: the new Lease (token =
  // req.token). kConflict: held by another. kTimeout: unknown (the elector then releases
  // req.token, best effort). kUnavailable: interrupted (Interrupt()) or unreachable.
  // kInvalidArgument: bad value or token.
  virtual Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) = 0;

  // Lease backends: extends `lease` to `ttl` from now, if it is still the holder. Backends
  // without a TTL: checks that `lease` still holds the lock (e.g. the lock file was not
  // replaced). OK: held. kConflict: definitely not held any more. Other: unknown; the caller
  // must not assume the lease was extended.
  virtual Status Renew(const Lease& lease, Duration ttl, Duration timeout) = 0;

  // Releases the lock if `lease` (matched by token) still holds it; the epoch counter is
  // kept. OK also when it was not held. Errors: the outcome is unknown (a lease then expires
  // by itself after its TTL).
  virtual Status Release(const Lease& lease, Duration timeout) = 0;

  // The current holder, or nullopt if the lock is free (or a new holder has taken it but
  // not yet published its value). Cheap enough to poll every ~100 ms.
  virtual Result<std::optional<Holder>> ReadHolder(Duration timeout) = 0;

  // The holder proves that it is making progress (the elector calls this every beat while
  // the node's serving loop and storage writer keep up). Backends without a TTL publish it
  // for standbys (AcquireRequest::stale_after); lease backends need nothing (the TTL is the
  // proof) and return OK. Thread-safe: may run concurrently with Renew and ReadHolder.
  virtual Status Heartbeat() { return Status::Ok(); }

  // Makes any TryAcquire that is waiting, and every later one, stop waiting and return
  // kUnavailable at once (a try-once still happens). For shutdown; cannot be undone.
  virtual void Interrupt() {}

 protected:
  LockBackend() = default;
};

using LockBackendPtr = std::unique_ptr<LockBackend>;

// True for the outcome "definitely not held" (kConflict).
inline bool IsNotHeld(const Status& s) { return s.IsConflict(); }

// Checks a lock value: at most kMaxLockValueSize bytes, no '\n', '\r' or NUL.
Status ValidateLockValue(std::string_view value);

// 128 random bits as 32 lowercase hex characters.
std::string NewLockToken();

}  // namespace halo::lock
