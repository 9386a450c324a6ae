// FlockBackend: the single-host HA lock. An OFD lock (lock/ofd_lock.h) on a lock file that
// sits beside the data (e.g. <lmdb dir>/halo.lock). The kernel drops the lock the moment
// the holder dies, so a standby blocked in TryAcquire(wait > 0) takes over at once. There
// is no TTL (HasTtl() is false): the kernel lock is the lease.
//
// Generations, for a holder that is alive but stuck (SIGSTOP, a hung loop or disk): the
// kernel keeps its lock forever, so the election lock is not one fixed byte but the byte of
// the current generation g (g = 0: byte 0; g >= 1: byte 64 + 2(g-1)), g being kept in the
// lock file's liveness page. The holder rewrites its heartbeat (lock/lock_file_record.h)
// every beat (Heartbeat(), driven by the elector while the node makes progress). A waiting
// standby whose AcquireRequest has stale_after > 0 reads the heartbeat between slices of its
// wait; once it has not changed for stale_after (lock/heartbeat_watch.h), the standby takes
// the takeover byte (2), raises g to g+1 (fsync'd) and locks the new generation's byte. The
// stuck holder, if it ever runs again, sees the new generation at its next Renew()
// (kConflict: the term ends) and its writes carry an epoch storage already refuses.
//
// Holding generation g's byte, the holder writes its first heartbeat, epoch+1 and its value
// into the file (lock/lock_file_record.h), fsyncs, and locks the next byte ("published"), so a
// reader never reports the previous holder's value for a new term. The epoch counter lives
// in the file and survives restarts; the file is never deleted or truncated.
//
// Guards (the classic file-lock pitfalls): the fd is O_CLOEXEC and is closed in children forked
// without exec (pthread_atfork), so no child keeps the lock alive; OFD locks are not dropped when
// some other fd of the file is closed; Renew() checks that the path still names the locked
// inode and reports kConflict (after dropping the lock) if the file was replaced or
// removed; NFS/CIFS/SMB are refused unless allowed.
//
// Threading: as LockBackend. Local file operations ignore `timeout`.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "lock/heartbeat_watch.h"
#include "lock/lock_backend.h"
#include "lock/lock_options.h"
#include "lock/ofd_lock.h"

namespace halo::lock {

class FlockBackend final : public LockBackend {
 public:
  // Opens (creating if missing, mode 0600) the lock file. kInvalidArgument: empty path,
  // not a regular file, or a network filesystem. kCorruption: the file is not a halo lock
  // file. kIoError (errno text) otherwise.
  // `clock` (not owned, outlives the backend) times stale_after.
  static Result<std::unique_ptr<FlockBackend>> Open(const FlockOptions& options,
                                                    Clock* clock = RealClock());
  ~FlockBackend() override;

  // LockBackend
  std::string_view Name() const override { return "flock"; }
  bool HasTtl() const override { return false; }
  bool CanWait() const override { return true; }
  Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) override;
  Status Renew(const Lease& lease, Duration ttl, Duration timeout) override;
  Status Release(const Lease& lease, Duration timeout) override;
  Result<std::optional<Holder>> ReadHolder(Duration timeout) override;
  Status Heartbeat() override;
  void Interrupt() override { waiter_.Interrupt(); }

  const std::string& path() const { return options_.path; }

 private:
  FlockBackend(FlockOptions options, int fd, Clock* clock);
  // OK if `path` still names the file open as fd_; kConflict if replaced or removed.
  Status CheckSameFile() const;
  // Reopens the path if it no longer names fd_'s file. REQUIRES: not holding the lock.
  Status ReopenIfReplaced();
  // With generation g's byte locked: writes the first heartbeat, bumps the epoch, fsyncs,
  // locks the published byte.
  Result<Lease> Publish(const AcquireRequest& req, uint64_t generation);
  Result<uint64_t> ReadGeneration() const;
  std::optional<HeartbeatRecord> ReadHeartbeat(uint64_t generation) const;
  // Raises the generation past `stale` if it is still current (under the takeover byte).
  Status TakeOver(uint64_t stale, Duration stale_after);
  void SetFd(int fd);

  const FlockOptions options_;
  Clock* const clock_;
  int fd_ = -1;
  std::optional<Lease> held_;
  uint64_t held_generation_ = 0;  // valid while held_
  HeartbeatWatch watch_;          // worker thread only
  OfdLockWaiter waiter_;
  // Heartbeat() runs on another thread than TryAcquire/Renew/Release: it reads these.
  std::mutex beat_mu_;
  std::optional<uint64_t> beat_generation_;  // GUARDED_BY(beat_mu_); set while held
  uint64_t beat_seq_ = 0;                    // GUARDED_BY(beat_mu_)
};

}  // namespace halo::lock
