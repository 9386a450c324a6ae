// FlockBackend: the single-host HA lock. An OFD lock (lock/ofd_lock.h) on a lock file that
// sits beside the data (e.g. <lmdb dir>/halo.lock). The kernel drops the lock the moment
// the holder dies, so a standby blocked in TryAcquire(wait > 0) takes over at once. There
// is no TTL and no clock (HasTtl() is false): a stopped (SIGSTOP) holder keeps the lock.
//
// Byte 0 of the file is the election lock. The holder then writes epoch+1 and its value
// into the file (lock/lock_file_record.h), fsyncs, and locks byte 1 ("published"), so a
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
#include <optional>
#include <string>

#include "lock/lock_backend.h"
#include "lock/lock_options.h"
#include "lock/ofd_lock.h"

namespace halo::lock {

class FlockBackend final : public LockBackend {
 public:
  // Opens (creating if missing, mode 0600) the lock file. kInvalidArgument: empty path,
  // not a regular file, or a network filesystem. kCorruption: the file is not a halo lock
  // file. kIoError (errno text) otherwise.
  static Result<std::unique_ptr<FlockBackend>> Open(const FlockOptions& options);
  ~FlockBackend() override;

  // LockBackend
  std::string_view Name() const override { return "flock"; }
  bool HasTtl() const override { return false; }
  bool CanWait() const override { return true; }
  Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) override;
  Status Renew(const Lease& lease, Duration ttl, Duration timeout) override;
  Status Release(const Lease& lease, Duration timeout) override;
  Result<std::optional<Holder>> ReadHolder(Duration timeout) override;
  void Interrupt() override { waiter_.Interrupt(); }

  const std::string& path() const { return options_.path; }

 private:
  FlockBackend(FlockOptions options, int fd);
  // OK if `path` still names the file open as fd_; kConflict if replaced or removed.
  Status CheckSameFile() const;
  // Reopens the path if it no longer names fd_'s file. REQUIRES: not holding the lock.
  Status ReopenIfReplaced();
  // With byte 0 locked: bumps the epoch in the file, fsyncs, locks byte 1.
  Result<Lease> Publish(const AcquireRequest& req);
  void SetFd(int fd);

  const FlockOptions options_;
  int fd_ = -1;
  std::optional<Lease> held_;
  OfdLockWaiter waiter_;
};

}  // namespace halo::lock
