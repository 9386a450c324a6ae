// Open-file-description (OFD) byte-range locks: fcntl F_OFD_SETLK / F_OFD_SETLKW /
// F_OFD_GETLK. Unlike classic POSIX record locks they belong to the open file description,
// not the process: closing some other fd of the same file does not drop them, and two
// descriptions in one process conflict like two processes do. The kernel drops them when
// the last fd of the description closes (e.g. the holder dies).
//
// OfdLockWaiter blocks in F_OFD_SETLKW so that a waiter gets the lock the moment the holder
// lets go, yet stays interruptible: the wait is bounded, and Interrupt() from another thread
// ends it within milliseconds (a directed real-time signal, kWakeSignalOffset past SIGRTMIN,
// with a no-op handler installed once per process without SA_RESTART).
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <mutex>

#include "common/clock.h"
#include "common/result.h"

namespace halo::lock {

// OK, or kConflict if another description holds a conflicting lock.
Status OfdTryLock(int fd, off_t start, off_t len);
Status OfdUnlock(int fd, off_t start, off_t len);
// True if another open file description holds a lock on part of the range.
Result<bool> OfdIsLocked(int fd, off_t start, off_t len);

inline constexpr int kWakeSignalOffset = 3;  // the signal is SIGRTMIN + 3

class OfdLockWaiter {
 public:
  OfdLockWaiter() = default;
  OfdLockWaiter(const OfdLockWaiter&) = delete;
  OfdLockWaiter& operator=(const OfdLockWaiter&) = delete;

  // Locks [start, start+len) of `fd` exclusively, waiting up to `wait` (real time) for a
  // holder to let go. OK; kConflict if still held when `wait` ends; kUnavailable if
  // interrupted (a try-once still happens first); other errors from fcntl.
  // REQUIRES: one caller at a time.
  Status LockExclusive(int fd, off_t start, off_t len, Duration wait);
  // Ends the current wait and makes every later one return after its try-once. Sticky.
  // Thread-safe.
  void Interrupt();
  bool interrupted() const { return interrupted_.load(); }

 private:
  std::atomic<bool> interrupted_{false};
  std::mutex mu_;
  bool waiting_ = false;  // GUARDED_BY(mu_)
  pthread_t thread_{};    // GUARDED_BY(mu_); valid while waiting_
};

}  // namespace halo::lock
