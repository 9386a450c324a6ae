// PostgresLockBackend: the HA lock as OpenBao's lease row in PostgreSQL, plus two things
// OpenBao does not have: a fencing epoch and a session-level advisory lock.
//   <ha_table> (ha_key, ha_identity, ha_value, valid_until): OpenBao's layout; the row
//   "core/lock" names the holder (ha_identity = the lease token, ha_value = its value).
//   <ha_table>_halo_epoch (ha_key, epoch): raised by every acquisition, in the same
//   transaction that writes the lease row.
// The holder also holds pg_try_advisory_lock(k1, k2) on its own connection for as long as it
// holds the lease. PostgreSQL releases that lock the moment the session ends, so when the
// holder's process dies (the kernel closes its socket) a standby can take the lock at once
// instead of waiting out the TTL; ReadHolder reports the lock free as soon as no session
// holds it. A holder whose host vanished keeps its session until PostgreSQL's TCP
// keepalives (or the lease's TTL) end it; a lease whose TTL ran out while a session still
// holds the advisory lock (a SIGSTOPped holder) is taken over by terminating that session
// (pg_terminate_backend: the nodes' role needs to be the same as the holder's, or
// pg_signal_backend). Safety never depends on any of this: storage refuses a former
// holder's writes by the epoch.
//
// Timing is OpenBao's (TTL 15 s, renew 5 s, retry 1 s: the Elector's defaults); TryAcquire
// with a wait polls every 50 ms. Outcomes: kConflict (held by another / not ours any more),
// kTimeout (sent, no reply: unknown), kUnavailable (not sent, or interrupted), kIoError.
// Threading: TryAcquire, Renew and Release on one thread (the owner connection); ReadHolder
// on any thread (a second connection); Interrupt from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/postgresql/pg_conn.h"
#include "common/postgresql/pg_options.h"
#include "lock/lock_backend.h"
#include "lock/wait_gate.h"

namespace halo::lock {

class PostgresLockBackend final : public LockBackend {
 public:
  // Connects and creates the tables unless skip_create_table.
  static Result<std::unique_ptr<PostgresLockBackend>> Open(const pg::PgOptions& options);
  ~PostgresLockBackend() override;

  std::string_view Name() const override { return "postgresql"; }
  bool HasTtl() const override { return true; }
  bool CanWait() const override { return true; }
  Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) override;
  Status Renew(const Lease& lease, Duration ttl, Duration timeout) override;
  Status Release(const Lease& lease, Duration timeout) override;
  Result<std::optional<Holder>> ReadHolder(Duration timeout) override;
  void Interrupt() override;

 private:
  explicit PostgresLockBackend(const pg::PgOptions& options);
  Status CreateTables();
  // One attempt on the owner connection (owner_mu_ held).
  Result<Lease> AcquireOnce(const AcquireRequest& req);
  // The advisory lock on the owner connection: true if this session holds it now.
  Result<bool> TakeAdvisory();
  void DropAdvisory();
  // The lease ran out but a session still holds the advisory lock: end that session. True
  // if one was ended.
  bool EndExpiredHolder();

  const pg::PgOptions options_;
  const std::string table_, epoch_table_;
  const std::string k1_, k2_;  // the advisory lock's two int4 keys, as text
  std::mutex owner_mu_;
  pg::PgConn owner_;
  int advisory_pid_ = 0;  // guarded by owner_mu_: the session that holds the advisory lock
  std::mutex reader_mu_;
  pg::PgConn reader_;
  WaitGate gate_;
};

}  // namespace halo::lock
