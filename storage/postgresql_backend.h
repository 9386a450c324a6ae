// PostgresBackend: the storage Backend on PostgreSQL (libpq), with OpenBao's table layout
// so that an operator's tools and backups see what they expect:
//   <table> (parent_path TEXT COLLATE "C" NOT NULL, path TEXT COLLATE "C",
//            key TEXT COLLATE "C", value BYTEA, PRIMARY KEY (path, key))
// where key "a/b/c" is stored as parent_path "/a/", path "/a/b/", key "c" (OpenBao's
// splitKey). Beside it, <table>_halo_epoch holds the fencing epoch (one row).
//
// Writes: one writer thread (GroupWriter) takes each group of queued updates into ONE
// transaction on its own connection: BEGIN; SELECT epoch ... FOR SHARE (the fence); the
// update functions run (their reads are statements in the same transaction, so they see
// the fence's snapshot plus their own writes); the buffered writes as INSERT ... ON CONFLICT
// / DELETE; COMMIT. RecordEpoch's UPDATE of the epoch row waits for every transaction that
// holds it FOR SHARE, and every later one reads the raised epoch: the check and the write
// are atomic (OpenBao checks the lock on another connection, then writes). With
// synchronous_commit on (PostgreSQL's default), an OK COMMIT is durable.
//
// Reads: Get/List on a pool of max_parallel connections. They block for a round trip, so a
// node runs them off its event loop (RemoteReads()).
//
// Errors: kUnavailable (not applied: could not connect, or a statement before COMMIT timed
// out or lost its connection), kTimeout (no answer to COMMIT: the outcome is unknown),
// kConflict (stale epoch), kIoError (error replies, with SQLSTATE).
// Threading: every method is thread-safe, as the Backend contract says.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/postgresql/pg_conn.h"
#include "common/postgresql/pg_options.h"
#include "storage/backend.h"
#include "storage/backend_txn.h"

namespace halo::storage {

class PostgresBackend final : public Backend {
 public:
  // Connects, creates the tables unless skip_create_table, checks that they are there.
  static Result<std::unique_ptr<PostgresBackend>> Open(const pg::PgOptions& options);
  ~PostgresBackend() override;

  std::string_view Name() const override { return "postgresql"; }
  Result<std::string> Get(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Update(uint64_t epoch, UpdateFn fn) override;
  void UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) override;
  Result<uint64_t> MaxEpoch() override;
  Status RecordEpoch(uint64_t epoch) override;
  // The writer's own progress, or, while commits keep timing out (a statement stalled behind
  // another session's lock), the start of the first that did: the node's liveness watchdog
  // then ends its term instead of holding it with writes that cannot commit.
  std::optional<TimePoint> WriterBusySince() const override;
  bool RemoteReads() const override { return true; }

  // Commit transactions so far (tests: fewer than updates shows grouping).
  uint64_t CommitCount() const { return commits_.load(); }

 private:
  class TxnView;

  explicit PostgresBackend(const pg::PgOptions& options);
  Status CreateTables();
  void CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results);
  // One run of updates with the same epoch, [begin, end) of `group`, in one transaction.
  void CommitRun(std::vector<PendingUpdate>& group, size_t begin, size_t end,
                 std::vector<Status>* results);
  Status ApplyWrites(const OverlayTxn::Writes& writes);
  Result<pg::PgResult> ListOn(pg::PgConn& conn, std::string_view prefix);

  const pg::PgOptions options_;
  const std::string table_;  // quoted
  const std::string epoch_table_;
  const std::string get_sql_, list_sql_, list_all_sql_, put_sql_, delete_sql_;
  pg::PgPool pool_;
  pg::PgConn writer_conn_;  // the writer thread's own
  std::atomic<uint64_t> commits_{0};
  std::atomic<int64_t> stalled_since_ns_{0};  // 0: the last commit did not time out
  bool saw_timeout_ = false;                  // writer thread: this group had a timeout
  std::unique_ptr<GroupWriter> writer_;
};

}  // namespace halo::storage
