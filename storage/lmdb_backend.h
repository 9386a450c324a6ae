// LmdbBackend: the embedded default. An LMDB environment in a directory that every node on
// the host opens; the on-disk layout is described in storage/FORMAT.md.
//
// Reads run in MDB_RDONLY transactions taken from a per-object pool of reset transactions
// (MDB_NOTLS), so they never block behind writers, in this process or another. Writes go
// through one writer thread per object: it drains the queue of pending updates, opens ONE
// write transaction (LMDB serialises writers across processes too), checks each update's
// epoch against the max epoch stored in the same environment, runs each update function in
// a nested transaction so a failing one rolls back only itself, and commits once: one fsync
// for the whole group. Callers are completed after the commit.
//
// Keys longer than LMDB's key limit are stored under a hashed form; see FORMAT.md.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/backend.h"
#include "storage/backend_factory.h"
#include "storage/backend_txn.h"

namespace halo::storage {

class LmdbBackend final : public Backend {
 public:
  // Opens (creating if needed) the environment in options.path. Uses map_size_bytes,
  // group_commit and max_batch.
  static Result<std::unique_ptr<LmdbBackend>> Open(const BackendOptions& options);
  // Completes every queued update, then closes the environment.
  ~LmdbBackend() override;

  std::string_view Name() const override { return "lmdb"; }
  Result<std::string> Get(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Update(uint64_t epoch, UpdateFn fn) override;
  void UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) override;
  Result<uint64_t> MaxEpoch() override;
  Status RecordEpoch(uint64_t epoch) override;
  std::optional<TimePoint> WriterBusySince() const override { return writer_->BusySince(); }

  // Number of write transactions committed by this object (for tests and benchmarks:
  // fewer commits than updates shows group commit at work).
  uint64_t CommitCount() const;

 private:
  class ReadTxn;
  class WriteView;

  LmdbBackend(const BackendOptions& options, MDB_env* env);
  Status OpenDatabases();
  // Begins a transaction, adopting a map grown by another process if needed.
  int BeginTxn(MDB_txn* parent, unsigned flags, MDB_txn** txn);
  void AdoptNewMapSize();
  // Runs one group in one write transaction; fills `results` (one per update).
  void CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results);
  Status MdbError(const char* what, int rc) const;

  const BackendOptions options_;
  MDB_env* env_;
  MDB_dbi data_dbi_ = 0;
  MDB_dbi meta_dbi_ = 0;

  // Held shared by every live transaction; exclusively only to adopt a new map size.
  std::shared_mutex env_mu_;

  std::mutex pool_mu_;
  std::vector<MDB_txn*> read_pool_;  // reset read-only transactions, guarded by pool_mu_

  std::atomic<uint64_t> commits_{0};
  std::unique_ptr<GroupWriter> writer_;  // reset first in the destructor
};

}  // namespace halo::storage
