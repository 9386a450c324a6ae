// RedisLockBackend: the HA lock as a lease in Redis (7.0+), through the "halo" Function
// library (common/redis/halo_library.h): a hash at key_prefix "lock" (token, value, epoch,
// holder's client id) with a TTL, and an epoch counter at key_prefix "lock-epoch" raised by
// every acquisition. All timing policy (renew, retry, self-fence) is the Elector's.
//
// Fast takeover: the holder's lock connection's CLIENT ID is part of the lock. A standby
// that finds the lock held asks the server (CLIENT LIST ID) whether that connection still
// exists; when it does not (the holder's process died, so the kernel closed its socket), it
// takes the lock at once instead of waiting out the TTL, with a compare on the holder's
// token. A holder whose host vanished without closing its connection, or a SIGSTOPped one,
// still has its connection: the TTL applies, and the elector's self-fence stops its writes.
// Safety never depends on this: the epoch fence in storage refuses a former holder's writes.
//
// Outcomes: kConflict (held by another / not ours any more), kTimeout (no reply: unknown),
// kUnavailable (not sent, or interrupted), kIoError (an error reply).
// Threading: TryAcquire, Renew and Release on one thread (their own connection); ReadHolder
// on any thread (a second connection); Interrupt from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "common/redis/redis_conn.h"
#include "common/redis/sentinel_watch.h"
#include "lock/lock_backend.h"
#include "lock/wait_gate.h"

namespace halo::lock {

class RedisLockBackend final : public LockBackend {
 public:
  // Connects, checks persistence and loads the function library.
  static Result<std::unique_ptr<RedisLockBackend>> Open(const redis::RedisOptions& options);
  ~RedisLockBackend() override;

  std::string_view Name() const override { return "redis"; }
  bool HasTtl() const override { return true; }
  bool CanWait() const override { return true; }
  Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) override;
  Status Renew(const Lease& lease, Duration ttl, Duration timeout) override;
  Status Release(const Lease& lease, Duration timeout) override;
  Result<std::optional<Holder>> ReadHolder(Duration timeout) override;
  void Interrupt() override;

 private:
  explicit RedisLockBackend(const redis::RedisOptions& options);
  // One acquire attempt, with the takeover of a holder whose connection is gone.
  Result<Lease> AcquireOnce(const AcquireRequest& req);
  Result<Lease> CallAcquire(const AcquireRequest& req, const std::string& dead_token,
                            std::string* holder_token);
  // True if the holder with `token` still has a connection (or we cannot tell).
  bool HolderConnected(const std::string& token);

  const redis::RedisOptions options_;
  const std::string lock_key_;
  const std::string counter_key_;
  std::shared_ptr<std::atomic<uint64_t>> generation_;
  std::mutex owner_mu_;  // the holder-side connection
  redis::RedisConn owner_;
  std::mutex reader_mu_;
  redis::RedisConn reader_;
  WaitGate gate_;
  bool warned_client_list_ = false;
  std::unique_ptr<redis::SentinelWatch> watch_;
};

}  // namespace halo::lock
