#include "storage/file_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/hex.h"
#include "common/logging.h"

namespace halo::storage {

namespace {

constexpr char kCommitName[] = "COMMIT";
constexpr char kCommitMagic[] = "HALOFC01";  // 8 bytes, then the fields, then kCommitEnd
constexpr char kCommitEnd[] = "HALOEND!";
constexpr size_t kMagicLen = 8;
// Escaped segments longer than this are split over several path components.
constexpr size_t kMaxComponent = 200;
// Up to this many files or directories are fsync'd one by one; more take one syncfs().
constexpr size_t kSyncEachMax = 8;
// Readers retry at most this often when commits keep landing during their read.
constexpr int kReadAttempts = 100;

bool IsPlain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::string Escape(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (IsPlain(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(HexDigit(c >> 4, HexCase::kUpper));
      out.push_back(HexDigit(c, HexCase::kUpper));
    }
  }
  return out;
}

// Inverse of Escape; false for anything Escape cannot have produced.
bool Unescape(std::string_view in, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (IsPlain(c)) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (c != '%' || i + 2 >= in.size()) return false;
    const int hi = HexDigitValue(in[i + 1]);
    const int lo = HexDigitValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    // Only the upper-case spelling Escape writes: one file name per key.
    if (HexDigit(hi, HexCase::kUpper) != in[i + 1] || HexDigit(lo, HexCase::kUpper) != in[i + 2]) {
      return false;
    }
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// Appends the path components for one key segment: 'l'-prefixed continuation components for
// a long segment, then one component starting with `marker` ('d' directory, 'k' key file).
// The leading letter keeps every component from being empty, "." or "..".
void AppendSegment(std::string_view segment, char marker, std::string* path) {
  std::string escaped = Escape(segment);
  size_t pos = 0;
  while (escaped.size() - pos > kMaxComponent) {
    size_t len = kMaxComponent;
    // Never split an escape sequence.
    if (escaped[pos + len - 1] == '%') {
      len -= 1;
    } else if (escaped[pos + len - 2] == '%') {
      len -= 2;
    }
    path->push_back('l');
    path->append(escaped, pos, len);
    path->push_back('/');
    pos += len;
  }
  path->push_back(marker);
  path->append(escaped, pos, std::string::npos);
}

std::string Parent(std::string_view rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(rel.substr(0, slash));
}

const char* AtPath(const std::string& rel) { return rel.empty() ? "." : rel.c_str(); }

Result<std::string> ReadAll(int fd, const std::string& what) {
  std::string out;
  char buf[64 << 10];
  off_t off = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + what, errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A bounds-checked little-endian reader over a COMMIT file.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U8(uint8_t* v) {
    if (data_.size() < 1) return false;
    *v = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Fixed(4, &x)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Fixed(8, v); }
  bool Bytes(uint64_t n, std::string_view* v) {
    if (data_.size() < n) return false;
    *v = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool empty() const { return data_.empty(); }

 private:
  bool Fixed(int n, uint64_t* v) {
    if (data_.size() < static_cast<size_t>(n)) return false;
    *v = 0;
    for (int i = 0; i < n; ++i) *v |= uint64_t{static_cast<unsigned char>(data_[i])} << (8 * i);
    data_.remove_prefix(n);
    return true;
  }
  std::string_view data_;
};

}  // namespace

std::string FileBackend::KeyToPath(std::string_view key) {
  std::string path;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) {
      AppendSegment(key.substr(start), 'k', &path);
      return path;
    }
    AppendSegment(key.substr(start, slash - start), 'd', &path);
    path.push_back('/');
    start = slash + 1;
  }
}

std::string FileBackend::DirToPath(std::string_view dir_prefix) {
  std::string path;
  size_t start = 0;
  size_t slash;
  while ((slash = dir_prefix.find('/', start)) != std::string_view::npos) {
    if (!path.empty()) path.push_back('/');
    AppendSegment(dir_prefix.substr(start, slash - start), 'd', &path);
    start = slash + 1;
  }
  return path;
}

FileBackend::Commit::~Commit() {
  if (fd >= 0) ::close(fd);
}

// The key files alone, for update functions running under the writer lock.
class FileBackend::FileView final : public ReadView {
 public:
  explicit FileView(FileBackend* b) : b_(b) {}
  Result<std::string> Get(std::string_view key) override { return b_->ReadKeyFile(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return b_->ListKeyFiles(prefix);
  }

 private:
  FileBackend* b_;
};

Result<std::unique_ptr<FileBackend>> FileBackend::Open(const BackendOptions& options) {
  const std::string& path = options.path;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::IoError("create " + path + ": " + ec.message());
  int root = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return Status::FromErrno("open " + path, errno);
  int data = -1, tmp = -1, lock = -1;
  auto fail = [&](const std::string& what) {
    Status st = Status::FromErrno(what, errno);
    for (int fd : {root, data, tmp, lock}) {
      if (fd >= 0) ::close(fd);
    }
    return st;
  };
  for (const char* dir : {"data", "tmp"}) {
    if (::mkdirat(root, dir, 0755) != 0 && errno != EEXIST) return fail("mkdir " + path);
  }
  if ((data = ::openat(root, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    return fail("open " + path + "/data");
  }
  if ((tmp = ::openat(root, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    return fail("open " + path + "/tmp");
  }
  if ((lock = ::openat(root, "writer.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
    return fail("open " + path + "/writer.lock");
  }
  if (::fsync(root) != 0) return fail("fsync " + path);
  std::unique_ptr<FileBackend> backend(new FileBackend(options, root, data, tmp, lock));
  FileBackend* b = backend.get();
  size_t max_batch = options.group_commit ? static_cast<size_t>(options.max_batch) : 1;
  backend->writer_ = std::make_unique<GroupWriter>(
      [b](std::vector<PendingUpdate>& group, std::vector<Status>* results) {
        b->CommitGroup(group, results);
      },
      max_batch);
  return backend;
}

FileBackend::FileBackend(const BackendOptions& options, int root_fd, int data_fd, int tmp_fd,
                         int lock_fd)
    : options_(options), root_fd_(root_fd), data_fd_(data_fd), tmp_fd_(tmp_fd), lock_fd_(lock_fd) {}

FileBackend::~FileBackend() {
  writer_.reset();
  for (int fd : {root_fd_, data_fd_, tmp_fd_, lock_fd_}) ::close(fd);
}

// ---- reading ----

Result<FileBackend::CommitPtr> FileBackend::CurrentCommit() {
  struct stat st;
  if (::fstatat(root_fd_, kCommitName, &st, 0) != 0) {
    if (errno != ENOENT) return Status::FromErrno("stat " + options_.path + "/COMMIT", errno);
    static const CommitPtr kNone = std::make_shared<const Commit>();
    return kNone;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_ && cache_->ino == st.st_ino && cache_->dev == st.st_dev) return cache_;
  }
  int fd = ::openat(root_fd_, kCommitName, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + options_.path + "/COMMIT", errno);
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("stat " + options_.path + "/COMMIT", err);
  }
  ASSIGN_OR_RETURN(CommitPtr commit, ParseCommit(fd, st.st_dev, st.st_ino));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (!cache_ || cache_->seq <= commit->seq) cache_ = commit;
  return commit;
}

Result<bool> FileBackend::StillCurrent(const Commit& commit) {
  struct stat st;
  if (::fstatat(root_fd_, kCommitName, &st, 0) != 0) {
    if (errno == ENOENT) return commit.ino == 0;
    return Status::FromErrno("stat " + options_.path + "/COMMIT", errno);
  }
  return st.st_ino == commit.ino && st.st_dev == commit.dev;
}

// Takes ownership of `fd`.
Result<FileBackend::CommitPtr> FileBackend::ParseCommit(int fd, dev_t dev, ino_t ino) {
  auto commit = std::make_shared<Commit>();
  commit->fd = fd;
  commit->dev = dev;
  commit->ino = ino;
  std::string what = options_.path + "/COMMIT";
  ASSIGN_OR_RETURN(std::string raw, ReadAll(fd, what));
  auto bad = [&](const char* why) { return Status::Corruption(what + ": " + why); };
  Reader in(raw);
  std::string_view magic, end;
  uint32_t count = 0;
  if (!in.Bytes(kMagicLen, &magic) || magic != std::string_view(kCommitMagic, kMagicLen)) {
    return bad("bad magic");
  }
  if (!in.U64(&commit->seq) || !in.U64(&commit->max_epoch) || !in.U32(&count)) {
    return bad("truncated header");
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t op = 0;
    uint32_t key_len = 0;
    std::string_view key, value;
    if (!in.U8(&op) || op > 1 || !in.U32(&key_len) || !in.Bytes(key_len, &key) ||
        !ValidateKey(key).ok()) {
      return bad("bad entry");
    }
    if (op == 1) {
      uint64_t value_len = 0;
      if (!in.U64(&value_len) || !in.Bytes(value_len, &value)) return bad("bad value");
      commit->writes.insert_or_assign(std::string(key), std::string(value));
    } else {
      commit->writes.insert_or_assign(std::string(key), std::nullopt);
    }
  }
  if (!in.Bytes(kMagicLen, &end) || end != std::string_view(kCommitEnd, kMagicLen) || !in.empty()) {
    return bad("bad trailer");
  }
  return CommitPtr(std::move(commit));
}

Result<std::string> FileBackend::ReadKeyFile(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::string path = KeyToPath(key);
  int fd = ::openat(data_fd_, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(std::string(key));
    return Status::FromErrno("open key file", errno);
  }
  Result<std::string> value = ReadAll(fd, "key file");
  ::close(fd);
  return value;
}

Result<std::vector<std::string>> FileBackend::ListKeyFiles(std::string_view prefix) {
  size_t slash = prefix.rfind('/');
  std::string dir_prefix(slash == std::string_view::npos ? "" : prefix.substr(0, slash + 1));
  // (directory relative to data/, the key text its path spells so far)
  std::vector<std::pair<std::string, std::string>> todo = {{DirToPath(dir_prefix), dir_prefix}};
  std::vector<std::string> out;
  while (!todo.empty()) {
    auto [rel, acc] = std::move(todo.back());
    todo.pop_back();
    int fd = ::openat(data_fd_, AtPath(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // removed meanwhile, or no such dir
      return Status::FromErrno("open directory", errno);
    }
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("opendir", err);
    }
    while (dirent* e = ::readdir(dir)) {
      std::string_view name(e->d_name);
      if (name.empty() || (name[0] != 'd' && name[0] != 'l' && name[0] != 'k')) continue;
      std::string key = acc;
      if (!Unescape(name.substr(1), &key)) continue;  // not ours
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      std::string child = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
      if (name[0] == 'k') {
        if (type == DT_REG && HasPrefix(key, prefix)) out.push_back(std::move(key));
        continue;
      }
      if (type != DT_DIR) continue;
      if (name[0] == 'd') key.push_back('/');
      // Descend only where keys under `prefix` can be.
      if (HasPrefix(key, prefix) || HasPrefix(prefix, key)) {
        todo.emplace_back(std::move(child), std::move(key));
      }
    }
    ::closedir(dir);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> FileBackend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  Result<std::string> result = Status::NotFound(std::string(key));
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    ASSIGN_OR_RETURN(CommitPtr commit, CurrentCommit());
    auto it = commit->writes.find(key);
    if (it != commit->writes.end()) {
      if (!it->second) return Status::NotFound(std::string(key));
      return *it->second;
    }
    result = ReadKeyFile(key);
    if (!result.ok() && !result.status().IsNotFound()) return result;
    // Files of keys outside the installed COMMIT are final only while it stays installed.
    ASSIGN_OR_RETURN(bool current, StillCurrent(*commit));
    if (current) return result;
  }
  return result;  // a committed value, if maybe not the newest
}

Result<std::vector<std::string>> FileBackend::List(std::string_view prefix) {
  Result<std::vector<std::string>> result = std::vector<std::string>();
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    ASSIGN_OR_RETURN(CommitPtr commit, CurrentCommit());
    ASSIGN_OR_RETURN(std::vector<std::string> files, ListKeyFiles(prefix));
    result = MergeListing(std::move(files), commit->writes, prefix);
    ASSIGN_OR_RETURN(bool current, StillCurrent(*commit));
    if (current) break;
  }
  return result;
}

Result<uint64_t> FileBackend::MaxEpoch() {
  ASSIGN_OR_RETURN(CommitPtr commit, CurrentCommit());
  return commit->max_epoch;
}

// ---- writing ----

Status FileBackend::Update(uint64_t epoch, UpdateFn fn) {
  return writer_->SubmitAndWait(epoch, std::move(fn));
}

void FileBackend::UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) {
  writer_->Submit(PendingUpdate{epoch, std::move(fn), std::move(done)});
}

Status FileBackend::RecordEpoch(uint64_t epoch) {
  return Update(epoch, [](Txn&) { return Status::Ok(); });
}

std::string FileBackend::TempName() {
  return "t." + std::to_string(::getpid()) + "." + std::to_string(++temp_counter_);
}

void FileBackend::CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results) {
  results->assign(group.size(), Status::Ok());
  auto fail_all = [&](const Status& st) {
    for (auto& r : *results) {
      if (r.ok()) r = st;
    }
  };
  int rc;
  while ((rc = ::flock(lock_fd_, LOCK_EX)) != 0 && errno == EINTR) {
  }
  if (rc != 0) return fail_all(Status::FromErrno("flock " + options_.path, errno));
  struct Unlock {
    int fd;
    ~Unlock() { ::flock(fd, LOCK_UN); }
  } unlock{lock_fd_};

  Result<CommitPtr> current = CurrentCommit();
  if (!current.ok()) return fail_all(current.status());
  const Commit& prev = **current;
  // The previous writer may have died before applying its COMMIT: finish its work first.
  if (applied_ != std::make_pair(prev.dev, prev.ino)) {
    Status st = prev.ino != 0 ? Apply(prev) : Status::Ok();
    if (st.ok()) st = CleanTmp();
    if (!st.ok()) return fail_all(st.Annotate("recovering " + options_.path));
    applied_ = std::make_pair(prev.dev, prev.ino);
  }

  FileView files(this);
  OverlayTxn group_txn(&files);
  uint64_t max_epoch = prev.max_epoch;
  bool any_ok = false;
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i].epoch < max_epoch) {
      (*results)[i] = StaleEpoch(group[i].epoch, max_epoch);
      continue;
    }
    OverlayTxn txn(&group_txn);
    Status st = group[i].fn(txn);
    if (st.ok()) {
      txn.MergeInto(&group_txn);
      max_epoch = std::max(max_epoch, group[i].epoch);
      any_ok = true;
    }
    (*results)[i] = std::move(st);
  }
  if (!any_ok || (group_txn.empty() && max_epoch == prev.max_epoch)) return;

  Result<CommitPtr> next = WriteCommit(prev.seq + 1, max_epoch, group_txn.writes());
  if (!next.ok()) return fail_all(next.status());
  commits_.fetch_add(1);
  // Committed: a failure from here on is repaired by the next write transaction, and readers
  // already see the new values through COMMIT.
  Status st = Apply(**next);
  if (st.ok()) {
    applied_ = std::make_pair((*next)->dev, (*next)->ino);
  } else {
    LOG_ERROR("file store %s: applying commit %llu: %s", options_.path.c_str(),
              static_cast<unsigned long long>((*next)->seq), st.ToString().c_str());
  }
}

Result<FileBackend::CommitPtr> FileBackend::WriteCommit(uint64_t seq, uint64_t max_epoch,
                                                        const OverlayTxn::Writes& writes) {
  std::string buf(kCommitMagic, kMagicLen);
  PutU64(&buf, seq);
  PutU64(&buf, max_epoch);
  PutU32(&buf, static_cast<uint32_t>(writes.size()));
  for (const auto& [key, value] : writes) {
    buf.push_back(value ? 1 : 0);
    PutU32(&buf, static_cast<uint32_t>(key.size()));
    buf.append(key);
    if (value) {
      PutU64(&buf, value->size());
      buf.append(*value);
    }
  }
  buf.append(kCommitEnd, kMagicLen);

  std::string what = options_.path + "/COMMIT";
  std::string tmp = TempName();
  int fd = ::openat(tmp_fd_, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create temp for " + what, errno);
  auto commit = std::make_shared<Commit>();
  commit->fd = fd;  // closed with `commit`
  commit->seq = seq;
  commit->max_epoch = max_epoch;
  RETURN_IF_ERROR(WriteAll(fd, buf, what));
  struct stat st;
  if (::fsync(fd) != 0) return Status::FromErrno("fsync " + what, errno);
  if (::fstat(fd, &st) != 0) return Status::FromErrno("stat " + what, errno);
  if (::renameat(tmp_fd_, tmp.c_str(), root_fd_, kCommitName) != 0) {
    return Status::FromErrno("rename " + what, errno);
  }
  if (::fsync(root_fd_) != 0) return Status::FromErrno("fsync " + options_.path, errno);
  commit->dev = st.st_dev;
  commit->ino = st.st_ino;
  commit->writes = writes;
  CommitPtr ptr = std::move(commit);
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_ = ptr;
  return ptr;
}

Status FileBackend::Apply(const Commit& commit) {
  // Stage every put in tmp/, make the temp files durable (one fsync each, or one syncfs of
  // the file system when there are many), rename them into place, then do the deletes and
  // make the touched directories durable the same way.
  size_t puts = 0;
  for (const auto& entry : commit.writes) puts += entry.second ? 1 : 0;
  const bool bulk = puts > kSyncEachMax;
  std::vector<std::pair<std::string, std::string>> staged;  // (temp name, key path)
  std::set<std::string> dirs;
  Status st;
  for (const auto& [key, value] : commit.writes) {
    if (!value) continue;
    std::string tmp;
    st = StageKeyFile(key, *value, !bulk, &tmp, &dirs);
    if (!st.ok()) break;
    staged.emplace_back(std::move(tmp), KeyToPath(key));
  }
  if (st.ok() && bulk && ::syncfs(tmp_fd_) != 0) st = Status::FromErrno("syncfs", errno);
  for (const auto& [tmp, path] : staged) {
    if (st.ok() && ::renameat(tmp_fd_, tmp.c_str(), data_fd_, path.c_str()) != 0) {
      st = Status::FromErrno("rename key file", errno);
    }
    if (!st.ok()) {
      ::unlinkat(tmp_fd_, tmp.c_str(), 0);
      continue;
    }
    dirs.insert(Parent(path));
  }
  RETURN_IF_ERROR(st);
  for (const auto& [key, value] : commit.writes) {
    if (!value) RETURN_IF_ERROR(RemoveKeyFile(key, &dirs));
  }
  if (dirs.size() > kSyncEachMax) {
    if (::syncfs(data_fd_) != 0) return Status::FromErrno("syncfs", errno);
    return Status::Ok();
  }
  for (const std::string& rel : dirs) {
    int fd = ::openat(data_fd_, AtPath(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // removed as empty
      return Status::FromErrno("open directory", errno);
    }
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("fsync directory", err);
  }
  return Status::Ok();
}

Status FileBackend::StageKeyFile(std::string_view key, std::string_view value, bool sync,
                                 std::string* tmp, std::set<std::string>* dirs_to_sync) {
  std::string path = KeyToPath(key);
  for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    std::string dir = path.substr(0, pos);
    if (::mkdirat(data_fd_, dir.c_str(), 0755) == 0) {
      dirs_to_sync->insert(Parent(dir));
    } else if (errno != EEXIST) {
      return Status::FromErrno("mkdir in " + options_.path, errno);
    }
  }
  *tmp = TempName();
  int fd = ::openat(tmp_fd_, tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create temp in " + options_.path, errno);
  Status st = WriteAll(fd, value, "temp file");
  if (st.ok() && sync && ::fsync(fd) != 0) st = Status::FromErrno("fsync temp file", errno);
  ::close(fd);
  if (!st.ok()) ::unlinkat(tmp_fd_, tmp->c_str(), 0);
  return st;
}

Status FileBackend::RemoveKeyFile(std::string_view key, std::set<std::string>* dirs_to_sync) {
  std::string path = KeyToPath(key);
  if (::unlinkat(data_fd_, path.c_str(), 0) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return Status::FromErrno("remove key file", errno);
  }
  // Remove directories left empty (failing, as it should, at the first non-empty one).
  std::string dir = Parent(path);
  dirs_to_sync->insert(dir);
  while (!dir.empty() && ::unlinkat(data_fd_, dir.c_str(), AT_REMOVEDIR) == 0) {
    dirs_to_sync->erase(dir);
    dir = Parent(dir);
    dirs_to_sync->insert(dir);
  }
  return Status::Ok();
}

Status FileBackend::CleanTmp() {
  int fd = ::openat(tmp_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + options_.path + "/tmp", errno);
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("opendir " + options_.path + "/tmp", err);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  for (const auto& name : names) ::unlinkat(tmp_fd_, name.c_str(), 0);
  return Status::Ok();
}

}  // namespace halo::storage
