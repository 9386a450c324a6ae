// FileBackend: one file per key under a directory, as OpenBao's filesystem backend. The
// layout and formats are described in storage/FORMAT.md; in short:
//
//   <path>/writer.lock   flock'ed (exclusive) by whichever process is writing
//   <path>/COMMIT        the last committed transaction (its writes and the max epoch)
//   <path>/data/...      the key files, one escaped path component per key segment
//   <path>/tmp/          temp files, renamed into place
//
// A write transaction, under the flock: re-apply the previous COMMIT if this object did not
// apply it itself (its writer may have died half-way), run the update functions over the
// key files, write the new COMMIT (temp, fsync, rename, fsync dir: the commit point), then
// apply its writes to the key files (temp, fsync, rename, fsync dir; one syncfs instead of
// many fsyncs for big transactions). Updates queued
// together share one COMMIT (group commit).
//
// Readers take no lock: they read the key files overlaid with the COMMIT's writes, and retry
// if a new COMMIT was installed meanwhile, so a multi-key update is seen whole or not at all,
// in this process or another.
//
// The file backend provides no HA lock (it needs ha_storage).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/backend.h"
#include "storage/backend_factory.h"
#include "storage/backend_txn.h"

namespace halo::storage {

class FileBackend final : public Backend {
 public:
  // Opens (creating if needed) the store in options.path.
  static Result<std::unique_ptr<FileBackend>> Open(const BackendOptions& options);
  // Completes every queued update, then closes.
  ~FileBackend() override;

  std::string_view Name() const override { return "file"; }
  Result<std::string> Get(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Update(uint64_t epoch, UpdateFn fn) override;
  void UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) override;
  Result<uint64_t> MaxEpoch() override;
  Status RecordEpoch(uint64_t epoch) override;
  std::optional<TimePoint> WriterBusySince() const override { return writer_->BusySince(); }

  // The key file's path relative to <path>/data (see FORMAT.md). REQUIRES: a valid key.
  static std::string KeyToPath(std::string_view key);
  // The directory holding the keys under `dir_prefix`, which is "" or ends in '/'.
  static std::string DirToPath(std::string_view dir_prefix);

  // Write transactions committed by this object (tests, benchmarks).
  uint64_t CommitCount() const { return commits_.load(); }

 private:
  // A parsed COMMIT file, identified by its inode (kept open so the inode is not reused).
  struct Commit {
    uint64_t seq = 0;
    uint64_t max_epoch = 0;
    OverlayTxn::Writes writes;
    dev_t dev = 0;
    ino_t ino = 0;  // 0: no COMMIT file yet
    int fd = -1;
    ~Commit();
  };
  using CommitPtr = std::shared_ptr<const Commit>;
  class FileView;

  FileBackend(const BackendOptions& options, int root_fd, int data_fd, int tmp_fd, int lock_fd);

  // The COMMIT now installed (cached while its inode stays the same).
  Result<CommitPtr> CurrentCommit();
  // Whether `commit` is still the installed one.
  Result<bool> StillCurrent(const Commit& commit);
  Result<CommitPtr> ParseCommit(int fd, dev_t dev, ino_t ino);

  // The key files alone (what the writer sees under the lock once COMMIT is applied).
  Result<std::string> ReadKeyFile(std::string_view key);
  Result<std::vector<std::string>> ListKeyFiles(std::string_view prefix);

  void CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results);
  Result<CommitPtr> WriteCommit(uint64_t seq, uint64_t max_epoch, const OverlayTxn::Writes& writes);
  Status Apply(const Commit& commit);
  // Creates the key's directories and writes its value to a new temp file (fsync'd when
  // `sync`), named in *tmp; renaming it into place is the caller's.
  Status StageKeyFile(std::string_view key, std::string_view value, bool sync, std::string* tmp,
                      std::set<std::string>* dirs_to_sync);
  Status RemoveKeyFile(std::string_view key, std::set<std::string>* dirs_to_sync);
  Status CleanTmp();
  std::string TempName();

  const BackendOptions options_;
  const int root_fd_;
  const int data_fd_;
  const int tmp_fd_;
  const int lock_fd_;

  std::mutex cache_mu_;
  CommitPtr cache_;  // guarded by cache_mu_

  // Writer thread only: the COMMIT (dev, ino) this object has fully applied.
  std::optional<std::pair<dev_t, ino_t>> applied_;
  uint64_t temp_counter_ = 0;  // writer thread only
  std::atomic<uint64_t> commits_{0};
  std::unique_ptr<GroupWriter> writer_;  // reset first in the destructor
};

}  // namespace halo::storage
