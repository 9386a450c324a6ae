#include "lock/flock_backend.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <mutex>

#include "common/logging.h"
#include "common/time_util.h"
#include "lock/lock_file_record.h"

namespace halo::lock {
namespace {

constexpr off_t kTakeoverByte = 2;
constexpr size_t kFileBytes = 2 * kLockFileSlotSize;

// The election byte of generation g; the published byte follows it.
off_t ElectionByte(uint64_t g) { return g == 0 ? 0 : static_cast<off_t>(64 + 2 * (g - 1)); }
off_t PublishedByte(uint64_t g) { return ElectionByte(g) + 1; }

// The longest slice of a wait before a standby looks at the holder's heartbeat again.
Duration WatchSlice(Duration stale_after) {
  return std::clamp<Duration>(stale_after / 4, milliseconds(10), milliseconds(250));
}

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

Result<std::string> ReadAt(int fd, size_t off, size_t len, const std::string& path) {
  std::string buf(len, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(off + got));
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

Result<std::string> ReadAll(int fd, const std::string& path) {
  return ReadAt(fd, 0, kFileBytes, path);
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

Result<std::unique_ptr<FlockBackend>> FlockBackend::Open(const FlockOptions& options,
                                                         Clock* clock) {
  if (options.path.empty()) return Status::InvalidArgument("flock: lock file path is empty");
  ASSIGN_OR_RETURN(int fd, OpenLockFile(options));
  std::unique_ptr<FlockBackend> b(new FlockBackend(options, fd, clock));
  // Refuse a file that is not ours before anyone relies on its epoch.
  ASSIGN_OR_RETURN(std::string contents, ReadAll(fd, options.path));
  Result<LockFileState> state = DecodeLockFile(contents);
  if (!state.ok()) return state.status().Annotate("lock file " + options.path);
  Result<uint64_t> gen = b->ReadGeneration();
  if (!gen.ok()) return gen.status();
  return b;
}

FlockBackend::FlockBackend(FlockOptions options, int fd, Clock* clock)
    : options_(std::move(options)), clock_(clock) {
  SetFd(fd);
}

FlockBackend::~FlockBackend() {
  if (held_) OfdUnlock(fd_, ElectionByte(held_generation_), 2).ok();
  SetFd(-1);
}

Result<uint64_t> FlockBackend::ReadGeneration() const {
  ASSIGN_OR_RETURN(std::string rec, ReadAt(fd_, kLivenessOffset, kLivenessRecordSize, path()));
  Result<uint64_t> g = DecodeGenerationRecord(rec);
  if (!g.ok()) return g.status().Annotate("lock file " + path());
  return g;
}

std::optional<HeartbeatRecord> FlockBackend::ReadHeartbeat(uint64_t generation) const {
  Result<std::string> rec = ReadAt(fd_, HeartbeatOffset(generation), kLivenessRecordSize, path());
  if (!rec.ok()) return std::nullopt;
  return DecodeHeartbeatRecord(*rec);
}

Status FlockBackend::TakeOver(uint64_t stale, Duration stale_after) {
  Status t = OfdTryLock(fd_, kTakeoverByte, 1);
  if (IsNotHeld(t)) return Status::Ok();  // another standby is at it; look again
  RETURN_IF_ERROR(t);
  struct Unlock {
    int fd;
    ~Unlock() { OfdUnlock(fd, kTakeoverByte, 1).ok(); }
  } unlock{fd_};
  ASSIGN_OR_RETURN(uint64_t now_gen, ReadGeneration());
  if (now_gen != stale) return Status::Ok();  // someone else took over already
  // Re-read under the takeover byte: the holder may have come back since.
  if (!watch_.Observe(stale, ReadHeartbeat(stale), clock_->Now(), stale_after)) {
    return Status::Ok();
  }
  RETURN_IF_ERROR(WriteAll(fd_, EncodeGenerationRecord(stale + 1),
                           static_cast<off_t>(kLivenessOffset), path()));
  if (::fdatasync(fd_) != 0) return Status::FromErrno("fdatasync " + path(), errno);
  LOG_WARN("flock: the holder of %s (generation %" PRIu64
           ") has made no progress for %lld ms; taking over as generation %" PRIu64,
           path().c_str(), stale, static_cast<long long>(ToMillis(watch_.Unchanged(clock_->Now()))),
           stale + 1);
  return Status::Ok();
}

Status FlockBackend::Heartbeat() {
  std::lock_guard<std::mutex> l(beat_mu_);
  if (!beat_generation_) return Status::Ok();
  std::string rec = EncodeHeartbeatRecord({*beat_generation_, ++beat_seq_});
  return WriteAll(fd_, rec, static_cast<off_t>(HeartbeatOffset(*beat_generation_)), path());
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
  const TimePoint end = clock_->Now() + req.wait;
  while (true) {
    ASSIGN_OR_RETURN(uint64_t g, ReadGeneration());
    Duration left = std::max(Duration::zero(), end - clock_->Now());
    Duration slice =
        req.stale_after > Duration::zero() ? std::min(left, WatchSlice(req.stale_after)) : left;
    Status st = waiter_.LockExclusive(fd_, ElectionByte(g), 1, slice);
    if (st.ok()) {
      // The file may have been replaced, or the generation raised, while we waited: a lock
      // on a byte or file nobody else contends for any more proves nothing.
      Status same = CheckSameFile();
      Result<uint64_t> g_now = same.ok() ? ReadGeneration() : Result<uint64_t>(g);
      if (!same.ok() || !g_now.ok() || *g_now != g) {
        OfdUnlock(fd_, ElectionByte(g), 1).ok();
        if (!same.ok() && !IsNotHeld(same)) return same;
        if (!g_now.ok()) return g_now.status();
        RETURN_IF_ERROR(ReopenIfReplaced());
        continue;
      }
      Result<Lease> lease = Publish(req, g);
      if (!lease.ok()) OfdUnlock(fd_, ElectionByte(g), 2).ok();
      return lease;
    }
    if (!IsNotHeld(st)) return st;
    if (req.stale_after > Duration::zero() &&
        watch_.Observe(g, ReadHeartbeat(g), clock_->Now(), req.stale_after)) {
      RETURN_IF_ERROR(TakeOver(g, req.stale_after));
      continue;
    }
    if (clock_->Now() >= end) return st;
  }
}

Result<Lease> FlockBackend::Publish(const AcquireRequest& req, uint64_t generation) {
  ASSIGN_OR_RETURN(std::string contents, ReadAll(fd_, path()));
  Result<LockFileState> state = DecodeLockFile(contents);
  if (!state.ok()) return state.status().Annotate("lock file " + path());
  uint64_t last = state->current ? state->current->epoch : 0;
  Lease lease;
  lease.epoch = std::max(last, req.min_epoch) + 1;
  lease.token = req.token;
  RETURN_IF_ERROR(WriteAll(fd_, EncodeHeartbeatRecord({generation, 0}),
                           static_cast<off_t>(HeartbeatOffset(generation)), path()));
  std::string slot = EncodeLockFileSlot({lease.epoch, req.value});
  RETURN_IF_ERROR(
      WriteAll(fd_, slot, static_cast<off_t>(state->next_slot * kLockFileSlotSize), path()));
  if (::fdatasync(fd_) != 0) return Status::FromErrno("fdatasync " + path(), errno);
  Status pub = OfdTryLock(fd_, PublishedByte(generation), 1);
  if (!pub.ok()) return pub.Annotate("lock file " + path() + ": publish");
  held_ = lease;
  held_generation_ = generation;
  std::lock_guard<std::mutex> l(beat_mu_);
  beat_generation_ = generation;
  beat_seq_ = 0;
  return lease;
}

Status FlockBackend::Renew(const Lease& lease, Duration /*ttl*/, Duration /*timeout*/) {
  if (!held_ || held_->token != lease.token) return Status::Conflict("lock not held");
  Status same = CheckSameFile();
  if (same.ok()) {
    Result<uint64_t> g = ReadGeneration();
    if (!g.ok()) return g.status();
    if (*g != held_generation_) {
      same = Status::Conflict("lock file " + path() + ": taken over (generation " +
                              std::to_string(*g) + ") while this holder made no progress");
    }
  }
  if (IsNotHeld(same)) {
    // Our lock is on a file or generation nobody else contends for: drop it and stop
    // claiming leadership.
    Release(lease, Duration::zero()).ok();
  }
  return same;
}

Status FlockBackend::Release(const Lease& lease, Duration /*timeout*/) {
  if (!held_ || held_->token != lease.token) return Status::Ok();
  {
    std::lock_guard<std::mutex> l(beat_mu_);
    beat_generation_.reset();
  }
  held_.reset();
  return OfdUnlock(fd_, ElectionByte(held_generation_), 2);
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
  ASSIGN_OR_RETURN(std::string gen_rec, ReadAt(fd, kLivenessOffset, kLivenessRecordSize, path()));
  Result<uint64_t> gen = DecodeGenerationRecord(gen_rec);
  if (!gen.ok()) return gen.status().Annotate("lock file " + path());
  const uint64_t g = *gen;
  ASSIGN_OR_RETURN(bool held, OfdIsLocked(fd, ElectionByte(g), 1));
  if (!held) return std::optional<Holder>();
  // Read until two reads agree (a new holder may be writing), while published.
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(bool published, OfdIsLocked(fd, PublishedByte(g), 1));
    if (!published) return std::optional<Holder>();
    ASSIGN_OR_RETURN(std::string a, ReadAll(fd, path()));
    ASSIGN_OR_RETURN(std::string b, ReadAll(fd, path()));
    ASSIGN_OR_RETURN(published, OfdIsLocked(fd, PublishedByte(g), 1));
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
