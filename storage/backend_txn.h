// Building blocks shared by the Backend implementations (not part of the public interface).
//
// GroupWriter: the writer thread with group commit (lmdb, file). TaskThread: a plain ordered
// background thread (inmem's UpdateAsync).
//
// OverlayTxn: a Txn that buffers its writes in memory on top of a base view (committed data,
// or a parent OverlayTxn for nested transactions). Reads see the base plus the buffered
// writes; nothing reaches the base until the owner applies writes() itself (or MergeInto()
// a parent). The inmem and file backends use it; lmdb uses LMDB's own nested transactions.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "storage/backend.h"

namespace halo::storage {

// The kConflict status for a write whose epoch is below the recorded one.
Status StaleEpoch(uint64_t epoch, uint64_t recorded);

// True when `key` begins with `prefix`.
inline bool HasPrefix(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

// A read-only view of committed data, as a base for OverlayTxn.
class ReadView {
 public:
  virtual ~ReadView() = default;
  virtual Result<std::string> Get(std::string_view key) = 0;
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;
};

class OverlayTxn final : public Txn, public ReadView {
 public:
  // A nullopt value marks a deletion.
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;

  // REQUIRES: `base` outlives this object.
  explicit OverlayTxn(ReadView* base) : base_(base) {}

  Result<std::string> Get(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;

  const Writes& writes() const { return writes_; }
  bool empty() const { return writes_.empty(); }
  // Replays this transaction's writes into `parent` (a nested transaction committing).
  void MergeInto(OverlayTxn* parent) const;

 private:
  ReadView* base_;
  Writes writes_;
};

// Applies buffered writes to a sorted listing of committed keys: the keys of `base` (sorted,
// all starting with `prefix`) plus the puts in `writes` under `prefix`, minus its deletes.
std::vector<std::string> MergeListing(std::vector<std::string> base,
                                      const OverlayTxn::Writes& writes, std::string_view prefix);

// An update waiting for the writer thread.
struct PendingUpdate {
  uint64_t epoch;
  UpdateFn fn;
  DoneFn done;
};

// Calls `run(begin, end)` for each maximal stretch of `group` whose updates carry the same
// epoch, in order (a networked engine commits each stretch as one fenced transaction).
void ForEachEpochRun(const std::vector<PendingUpdate>& group,
                     const std::function<void(size_t begin, size_t end)>& run);

// The write path shared by the lmdb and file backends: one thread drains a queue of pending
// updates in groups of up to `max_batch` and hands each group to `commit`, which must fill
// one Status per update; then it calls every `done`. The destructor finishes what is queued.
class GroupWriter {
 public:
  using CommitFn =
      std::function<void(std::vector<PendingUpdate>& group, std::vector<Status>* results)>;
  GroupWriter(CommitFn commit, size_t max_batch);
  ~GroupWriter();
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  void Submit(PendingUpdate update);
  // Submits and blocks until the update's group is done.
  Status SubmitAndWait(uint64_t epoch, UpdateFn fn);
  // Groups handed to `commit` so far.
  uint64_t groups() const;
  // While updates are queued or committing: the later of when that work arrived at an idle
  // writer and when the writer last finished a group. nullopt when idle. A time far in the
  // past means a stalled writer (a hung disk).
  std::optional<TimePoint> BusySince() const;

 private:
  void Run();

  const CommitFn commit_;
  const size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingUpdate> queue_;  // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  uint64_t groups_ = 0;              // guarded by mu_
  bool committing_ = false;          // guarded by mu_
  TimePoint progress_{};             // guarded by mu_; see BusySince()
  std::thread thread_;
};

// One background thread running queued tasks in order; the destructor runs what is queued,
// then joins. Backends without a group-commit writer use it for UpdateAsync.
class TaskThread {
 public:
  TaskThread();
  ~TaskThread();
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  void Post(std::function<void()> task);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace halo::storage
