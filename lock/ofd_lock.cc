#include "lock/ofd_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace halo::lock {
namespace {

// Bounds one blocking fcntl: the wait re-checks its deadline and the interrupt flag at
// least this often, even if a wake signal raced with the start of the syscall.
constexpr Duration kTick = milliseconds(50);

int WakeSignal() { return SIGRTMIN + kWakeSignalOffset; }

void NoopHandler(int) {}

void InstallWakeHandlerOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = NoopHandler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the blocked fcntl must return EINTR
    sigaction(WakeSignal(), &sa, nullptr);
  });
}

struct flock Range(short type, off_t start, off_t len) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  fl.l_pid = 0;  // required for OFD locks
  return fl;
}

timespec ToTimespec(Duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return ts;
}

}  // namespace

Status OfdTryLock(int fd, off_t start, off_t len) {
  struct flock fl = Range(F_WRLCK, start, len);
  while (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return Status::Conflict("lock held by another");
    return Status::FromErrno("fcntl(F_OFD_SETLK)", errno);
  }
  return Status::Ok();
}

Status OfdUnlock(int fd, off_t start, off_t len) {
  struct flock fl = Range(F_UNLCK, start, len);
  while (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    if (errno == EINTR) continue;
    return Status::FromErrno("fcntl(F_OFD_SETLK, F_UNLCK)", errno);
  }
  return Status::Ok();
}

Result<bool> OfdIsLocked(int fd, off_t start, off_t len) {
  struct flock fl = Range(F_WRLCK, start, len);
  while (::fcntl(fd, F_OFD_GETLK, &fl) != 0) {
    if (errno == EINTR) continue;
    return Status::FromErrno("fcntl(F_OFD_GETLK)", errno);
  }
  return fl.l_type != F_UNLCK;
}

Status OfdLockWaiter::LockExclusive(int fd, off_t start, off_t len, Duration wait) {
  Status first = OfdTryLock(fd, start, len);
  if (!first.IsConflict() || wait <= Duration::zero()) return first;
  if (interrupted_.load()) return Status::Unavailable("lock wait interrupted");

  InstallWakeHandlerOnce();
  const int sig = WakeSignal();
  sigset_t set, old_mask;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, &old_mask);

  // A periodic timer aimed at this thread bounds each blocking fcntl.
  timer_t timer{};
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = sig;
  sev._sigev_un._tid = ::gettid();
  if (::timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) {
    Status s = Status::FromErrno("timer_create", errno);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    return s;
  }
  itimerspec its{};
  its.it_value = ToTimespec(std::min(wait, kTick));
  its.it_interval = ToTimespec(kTick);
  ::timer_settime(timer, 0, &its, nullptr);

  {
    std::lock_guard<std::mutex> l(mu_);
    waiting_ = true;
    thread_ = pthread_self();
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  Status result;
  while (true) {
    if (interrupted_.load()) {
      result = Status::Unavailable("lock wait interrupted");
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      result = Status::Conflict("lock held by another");
      break;
    }
    struct flock fl = Range(F_WRLCK, start, len);
    if (::fcntl(fd, F_OFD_SETLKW, &fl) == 0) {
      result = Status::Ok();
      break;
    }
    if (errno != EINTR) {
      result = Status::FromErrno("fcntl(F_OFD_SETLKW)", errno);
      break;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    waiting_ = false;
  }
  ::timer_delete(timer);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return result;
}

void OfdLockWaiter::Interrupt() {
  interrupted_.store(true);
  std::lock_guard<std::mutex> l(mu_);
  if (waiting_) pthread_kill(thread_, WakeSignal());
}

}  // namespace halo::lock
