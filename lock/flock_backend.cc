#include "lock/flock_backend.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>

#include "common/logging.h"
#include "lock/lock_file_record.h"

namespace halo::lock {
namespace {

constexpr off_t kElectionByte = 0;
constexpr off_t kPublishedByte = 1;
constexpr size_t kFileBytes = 2 * kLockFileSlotSize;

// Lock-file fds of this process, closed in children forked without exec so that a child
// never keeps the lock alive after the parent dies (the lock belongs to the open file
// description, which a fork shares).
constexpr size_t kMaxTrackedFds = 64;
// Each slot holds fd + 1 (0 = free), so the array needs no initialiser.
std::array<std::atomic<int>, kMaxTrackedFds> g_fds;

void CloseTrackedFdsInChild() {
  for (auto& f : g_fds) {
    int v = f.load();
    if (v > 0) {
      ::close(v - 1);
      f.store(0);
    }
  }
}

void TrackFd(int fd) {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, CloseTrackedFdsInChild); });
  for (auto& f : g_fds) {
    int expected = 0;
    if (f.compare_exchange_strong(expected, fd + 1)) return;
  }
  LOG_WARN("flock: more than %zu lock files open; fd %d not closed in forked children",
           kMaxTrackedFds, fd);
}

void UntrackFd(int fd) {
  for (auto& f : g_fds) {
    int expected = fd + 1;
    if (f.compare_exchange_strong(expected, 0)) return;
  }
}

bool IsNetworkFs(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0x6969:      // NFS_SUPER_MAGIC
    case 0x517B:      // SMB_SUPER_MAGIC
    case 0xFF534D42:  // CIFS_MAGIC_NUMBER
    case 0xFE534D42:  // SMB2_MAGIC_NUMBER
      return true;
    default:
      return false;
  }
}

Result<std::string> ReadAll(int fd, const std::string& path) {
  std::string buf(kFileBytes, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + path, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return buf;
}

Status WriteAll(int fd, std::string_view data, off_t off, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, off + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void FsyncDir(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  ::fsync(dfd);
  ::close(dfd);
}

// Opens (creating durably if missing) the lock file and checks it is usable.
Result<int> OpenLockFile(const FlockOptions& options) {
  const std::string& path = options.path;
  bool created = true;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return Status::FromErrno("open lock file " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("lock file " + path + " is not a regular file");
  }
  struct statfs fs {};
  if (::fstatfs(fd, &fs) == 0 && IsNetworkFs(fs.f_type) && !options.allow_network_fs) {
    ::close(fd);
    return Status::InvalidArgument("lock file " + path +
                                   " is on a network filesystem (NFS/CIFS/SMB), where file "
                                   "locks are not kernel-local; set allow_network_fs to force");
  }
  if (created) FsyncDir(DirOf(path));
  return fd;
}

}  // namespace

Result<std::unique_ptr<FlockBackend>> FlockBackend::Open(const FlockOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("flock: lock file path is empty");
  ASSIGN_OR_RETURN(int fd, OpenLockFile(options));
  std::unique_ptr<FlockBackend> b(new FlockBackend(options, fd));
  // Refuse a file that is not ours before anyone relies on its epoch.
  ASSIGN_OR_RETURN(std::string contents, ReadAll(fd, options.path));
  Result<LockFileState> state = DecodeLockFile(contents);
  if (!state.ok()) return state.status().Annotate("lock file " + options.path);
  return b;
}

FlockBackend::FlockBackend(FlockOptions options, int fd) : options_(std::move(options)) {
  SetFd(fd);
}

FlockBackend::~FlockBackend() {
  if (held_) OfdUnlock(fd_, kElectionByte, 2).ok();
  SetFd(-1);
}

void FlockBackend::SetFd(int fd) {
  if (fd_ >= 0) {
    UntrackFd(fd_);
    ::close(fd_);
  }
  fd_ = fd;
  if (fd_ >= 0) TrackFd(fd_);
}

Status FlockBackend::CheckSameFile() const {
  struct stat mine {
  }, named{};
  if (::fstat(fd_, &mine) != 0) return Status::FromErrno("fstat " + path(), errno);
  if (::stat(path().c_str(), &named) != 0) {
    if (errno == ENOENT) return Status::Conflict("lock file " + path() + " was removed");
    return Status::FromErrno("stat " + path(), errno);
  }
  if (mine.st_nlink == 0 || mine.st_dev != named.st_dev || mine.st_ino != named.st_ino) {
    return Status::Conflict("lock file " + path() + " was replaced");
  }
  return Status::Ok();
}

Status FlockBackend::ReopenIfReplaced() {
  Status same = CheckSameFile();
  if (same.ok() || !IsNotHeld(same)) return same;
  LOG_WARN("flock: %s; reopening", same.message().c_str());
  ASSIGN_OR_RETURN(int fd, OpenLockFile(options_));
  SetFd(fd);
  return Status::Ok();
}

Result<Lease> FlockBackend::TryAcquire(const AcquireRequest& req, Duration /*timeout*/) {
  if (held_) return Status::Conflict("lock already held by this backend");
  RETURN_IF_ERROR(ValidateLockValue(req.value));
  RETURN_IF_ERROR(ReopenIfReplaced());
  RETURN_IF_ERROR(waiter_.LockExclusive(fd_, kElectionByte, 1, req.wait));
  // The file may have been replaced while we waited on (or just before locking) the old
  // one: locking a file nobody else can open any more proves nothing.
  Status same = CheckSameFile();
  if (!same.ok()) {
    OfdUnlock(fd_, kElectionByte, 1).ok();
    if (!IsNotHeld(same)) return same;
    RETURN_IF_ERROR(ReopenIfReplaced());
    RETURN_IF_ERROR(OfdTryLock(fd_, kElectionByte, 1));
  }
  Result<Lease> lease = Publish(req);
  if (!lease.ok()) OfdUnlock(fd_, kElectionByte, 2).ok();
  return lease;
}

Result<Lease> FlockBackend::Publish(const AcquireRequest& req) {
  ASSIGN_OR_RETURN(std::string contents, ReadAll(fd_, path()));
  Result<LockFileState> state = DecodeLockFile(contents);
  if (!state.ok()) return state.status().Annotate("lock file " + path());
  uint64_t last = state->current ? state->current->epoch : 0;
  Lease lease;
  lease.epoch = std::max(last, req.min_epoch) + 1;
  lease.token = req.token;
  std::string slot = EncodeLockFileSlot({lease.epoch, req.value});
  RETURN_IF_ERROR(
      WriteAll(fd_, slot, static_cast<off_t>(state->next_slot * kLockFileSlotSize), path()));
  if (::fdatasync(fd_) != 0) return Status::FromErrno("fdatasync " + path(), errno);
  Status pub = OfdTryLock(fd_, kPublishedByte, 1);
  if (!pub.ok()) return pub.Annotate("lock file " + path() + ": publish");
  held_ = lease;
  return lease;
}

Status FlockBackend::Renew(const Lease& lease, Duration /*ttl*/, Duration /*timeout*/) {
  if (!held_ || held_->token != lease.token) return Status::Conflict("lock not held");
  Status same = CheckSameFile();
  if (IsNotHeld(same)) {
    // Our lock is on a file nobody else can see: drop it and stop claiming leadership.
    OfdUnlock(fd_, kElectionByte, 2).ok();
    held_.reset();
  }
  return same;
}

Status FlockBackend::Release(const Lease& lease, Duration /*timeout*/) {
  if (!held_ || held_->token != lease.token) return Status::Ok();
  held_.reset();
  return OfdUnlock(fd_, kElectionByte, 2);
}

Result<std::optional<Holder>> FlockBackend::ReadHolder(Duration /*timeout*/) {
  int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Holder>();
    return Status::FromErrno("open lock file " + path(), errno);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  ASSIGN_OR_RETURN(bool held, OfdIsLocked(fd, kElectionByte, 1));
  if (!held) return std::optional<Holder>();
  // Read until two reads agree (a new holder may be writing), while published.
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(bool published, OfdIsLocked(fd, kPublishedByte, 1));
    if (!published) return std::optional<Holder>();
    ASSIGN_OR_RETURN(std::string a, ReadAll(fd, path()));
    ASSIGN_OR_RETURN(std::string b, ReadAll(fd, path()));
    ASSIGN_OR_RETURN(published, OfdIsLocked(fd, kPublishedByte, 1));
    if (!published) return std::optional<Holder>();
    if (a != b) continue;
    Result<LockFileState> state = DecodeLockFile(a);
    if (!state.ok()) return state.status().Annotate("lock file " + path());
    if (!state->current) return std::optional<Holder>();
    return std::optional<Holder>(Holder{state->current->value, state->current->epoch});
  }
  return Status::Unavailable("lock file " + path() + " keeps changing");
}

}  // namespace halo::lock
