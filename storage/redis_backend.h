// RedisBackend: the storage Backend on a Redis server (7.0+), through hiredis on backend
// threads. Layout and atomic steps are the "halo" Function library (common/redis/
// halo_library.h): a value per key, one sorted set of every key for ordered List (ZRANGE
// BYLEX), and the fencing epoch, checked and raised inside the same function call that
// applies a commit group, so a fenced former active can never commit.
//
// Writes: one writer thread (GroupWriter) runs queued update functions against the master
// (their reads are round trips on the writer's connection), buffers their writes, and sends
// the whole group as one FCALL halo_commit (one round trip per group and epoch). With
// appendfsync always the server fsyncs before it replies, so OK means durable on the
// master; with min_replicas_acked > 0 a WAIT follows, and a group that too few replicas
// acknowledged gets kIoError (it is on the master; it may be lost with the master).
//
// Reads: Get/List on a pool of connections (to a replica when read_from_replicas, which
// may return data older than the last acknowledged write by the replication lag). They
// block for a round trip, so a node runs them off its event loop (RemoteReads()).
//
// Errors: kUnavailable (not sent: could not connect), kTimeout (sent, no reply within
// op_timeout: the outcome is unknown), kConflict (stale epoch), kIoError (error replies).
// Threading: every method is thread-safe, as the Backend contract says.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "common/redis/redis_conn.h"
#include "common/redis/sentinel_watch.h"
#include "storage/backend.h"
#include "storage/backend_txn.h"

namespace halo::storage {

class RedisBackend final : public Backend {
 public:
  // Connects, checks the server's persistence and loads the function library.
  static Result<std::unique_ptr<RedisBackend>> Open(const redis::RedisOptions& options);
  ~RedisBackend() override;

  std::string_view Name() const override { return "redis"; }
  Result<std::string> Get(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Update(uint64_t epoch, UpdateFn fn) override;
  void UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) override;
  Result<uint64_t> MaxEpoch() override;
  Status RecordEpoch(uint64_t epoch) override;
  std::optional<TimePoint> WriterBusySince() const override { return writer_->BusySince(); }
  bool RemoteReads() const override { return true; }

  // Commit round trips so far (tests: fewer than updates shows grouping).
  uint64_t CommitCount() const { return commits_.load(); }

 private:
  class MasterView;

  explicit RedisBackend(const redis::RedisOptions& options);
  void CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results);
  // One run of updates with the same epoch: [begin, end) of `group`.
  void CommitRun(std::vector<PendingUpdate>& group, size_t begin, size_t end,
                 std::vector<Status>* results);
  Result<redis::RedisReply> ReadCommand(const std::vector<std::string_view>& argv, bool replica);

  std::string DataKey(std::string_view key) const;

  const redis::RedisOptions options_;
  const std::string epoch_key_;
  const std::string index_key_;
  std::shared_ptr<std::atomic<uint64_t>> generation_;
  redis::RedisPool master_pool_;
  redis::RedisPool replica_pool_;
  redis::RedisConn writer_conn_;  // the writer thread's own
  std::atomic<uint64_t> commits_{0};
  std::unique_ptr<redis::SentinelWatch> watch_;  // with sentinels only
  std::unique_ptr<GroupWriter> writer_;
};

}  // namespace halo::storage
