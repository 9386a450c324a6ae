// Backend: the storage engine's persistence interface. One implementation per engine
// (lmdb, file, inmem, redis), created through OpenBackend() in backend_factory.h.
//
// Data model: a flat, ordered map from string keys to byte-string values. Keys are
// non-empty, at most 1 KiB (kMaxKeySize), and may contain '/'; values may hold any bytes.
//
// Writes happen through Update(): a function run inside one write transaction that sees
// committed data plus its own earlier writes, so read-modify-write (versions, check-and-set)
// is atomic. Every write carries the writer's fencing epoch; inside the same transaction the
// backend compares it with the highest epoch it has ever recorded and fails with kConflict
// when it is lower, so a paused or partitioned former active can never commit. When Update
// returns OK the transaction is durable (fsync'd). Implementations group concurrent updates
// into one commit (group commit) where they can.
//
// Threading: every method is thread-safe. Get/List never block behind writers. Update blocks
// the caller until durable; UpdateAsync never blocks and calls `done` exactly once, on a
// backend-owned thread (callers marshal back to their event loop themselves). Update
// functions and `done` callbacks run on that writer thread: they must not call Update (or
// wait for another update) on the same backend, which would deadlock; keep them short.
//
// Errors: kNotFound (Get of a missing key), kConflict (stale epoch), kInvalidArgument (bad
// key), kUnavailable (a networked engine could not be reached: the update was not applied
// and may be sent again), kTimeout (no answer in time: the outcome is unknown), kIoError /
// kCorruption from the medium; any Status returned by the update function
// aborts that update alone and is passed back unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace halo::storage {

inline constexpr size_t kMaxKeySize = 1024;

// The view an update function gets inside a write transaction.
class Txn {
 public:
  virtual ~Txn() = default;
  // Committed value, or this transaction's own uncommitted write. kNotFound if absent.
  virtual Result<std::string> Get(std::string_view key) = 0;
  // All keys starting with `prefix`, sorted ascending (full keys, not stripped).
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  // Deleting a missing key is OK.
  virtual Status Delete(std::string_view key) = 0;
};

// Runs inside the write transaction; a non-OK return rolls back this function's writes.
using UpdateFn = std::function<Status(Txn& txn)>;
using DoneFn = std::function<void(Status)>;

class Backend {
 public:
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // The engine's name as shown in the startup banner ("lmdb", "file", "inmem").
  virtual std::string_view Name() const = 0;

  // Latest committed value; kNotFound if absent.
  virtual Result<std::string> Get(std::string_view key) = 0;
  // Committed keys starting with `prefix`, sorted ascending.
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;

  // Runs `fn` in a write transaction fenced by `epoch` and makes it durable. See above.
  virtual Status Update(uint64_t epoch, UpdateFn fn) = 0;
  // Like Update, without blocking the caller; `done` runs on a backend thread.
  virtual void UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) = 0;

  // The highest fencing epoch any committed write (or RecordEpoch) has carried; 0 if none.
  virtual Result<uint64_t> MaxEpoch() = 0;
  // Durably raises the recorded epoch to `epoch` (a new active calls this before its first
  // write, so writes from older epochs are refused from then on). kConflict if lower.
  virtual Status RecordEpoch(uint64_t epoch) = 0;

  // While writes are pending: when the writer last made progress on them (see
  // GroupWriter::BusySince in storage/backend_txn.h); nullopt when idle or not tracked. The
  // node's liveness watchdog reads it to notice a stalled disk.
  virtual std::optional<TimePoint> WriterBusySince() const { return std::nullopt; }

  // True when Get/List are network round trips (redis): a caller on an event loop runs them
  // on another thread. Local engines answer from memory or the page cache.
  virtual bool RemoteReads() const { return false; }

  // Single-key conveniences over Update().
  Status Put(std::string_view key, std::string_view value, uint64_t epoch);
  Status Delete(std::string_view key, uint64_t epoch);

 protected:
  Backend() = default;
};

// Checks the key rules above; kInvalidArgument naming the problem.
Status ValidateKey(std::string_view key);

}  // namespace halo::storage
