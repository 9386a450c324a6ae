// Elector: decides when this node is the active one, over any LockBackend.
//
// Policy (the backend holds the primitive, the elector all timing; see lock/README.md):
//  - standby: try to acquire about every `retry` (+/- jitter); on a backend that CanWait()
//    (flock) instead block in the backend, waking the moment the holder lets go or dies;
//  - active on a TTL backend: renew every `renew_every`; the term ends (self-fence) at
//    send-time-of-last-successful-renew + renew_deadline, even while a renew call hangs;
//    a renew whose outcome is unknown never extends that deadline; kConflict (not held)
//    ends the term at once;
//  - active on a backend without TTL (flock): every `renew_every` Renew() checks the lock
//    is still valid (lock file not replaced); no time-based fence;
//  - liveness (any backend): while active, every liveness_timeout / 6 the watchdog checks
//    callbacks.last_progress(); older than liveness_timeout ends the term (kStalled),
//    otherwise it calls backend->Heartbeat(), which lets standbys displace a holder that
//    stopped beating (flock); a stalled node does not compete for the lock;
//  - StepDown(): end the term, release at once, do not compete for `stepdown_backoff`;
//  - every acquisition has an epoch strictly larger than any seen before by this elector
//    (and than callbacks.epoch_floor(), if given); storage writes carry it.
//
// Threads: Start() runs a worker thread (all backend I/O) and a watchdog thread (the
// self-fence deadline and the callbacks). Callbacks run on the watchdog thread, in order
// (on_active(e) then exactly one on_standby for that term); they must not block for long
// and must not call Stop(). MayWrite/ActiveEpoch/IsActive are lock-free; every public method
// is thread-safe. An Elector runs once: Start() at most once, Stop() is final.
//
// Clock: all timing reads `clock`. With the process RealClock() the threads sleep until
// their deadlines; with any other clock (a FakeClock in tests) they re-read the clock every
// millisecond of real time, so a test moves time with FakeClock::Advance.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/result.h"
#include "lock/elector_options.h"
#include "lock/lock_backend.h"

namespace halo::lock {

enum class StandbyReason {
  kSelfFence,  // no successful renew within renew_deadline
  kNotHeld,    // the backend says the lock is not ours (expired and taken, file replaced)
  kStepDown,   // StepDown() was called
  kStopping,   // Stop() was called
  kStalled,    // callbacks.last_progress() older than liveness_timeout: a hung node
};
const char* StandbyReasonName(StandbyReason r);

struct ElectorCallbacks {
  // This node became active with `epoch`; MayWrite(epoch) is true from now until the term
  // ends (it may already have ended when this runs: always check MayWrite).
  std::function<void(uint64_t epoch)> on_active;
  // The term that began with the last on_active has ended; MayWrite is already false.
  std::function<void(StandbyReason reason, const std::string& detail)> on_standby;
  // Optional: the highest epoch storage has recorded. A new epoch is always greater.
  // Called on the worker thread before each acquire attempt.
  std::function<uint64_t()> epoch_floor;
  // Optional: when the node last showed progress (its serving loop ticked, its storage
  // writer kept up). Called on the watchdog thread every beat; must be cheap and lock-free.
  // Unset: the node is taken to be always making progress.
  std::function<TimePoint()> last_progress;
};

struct ElectorStats {
  uint64_t acquire_attempts = 0;
  uint64_t terms = 0;  // successful acquisitions
  uint64_t renews_ok = 0;
  uint64_t renews_failed = 0;  // unknown outcome or error (not kConflict)
  uint64_t releases = 0;
  uint64_t heartbeats_failed = 0;
};

class Elector {
 public:
  // REQUIRES: backend and clock outlive this Elector; options.Validate() is OK (checked
  // again by Start()).
  Elector(LockBackend* backend, Clock* clock, ElectorOptions options, ElectorCallbacks callbacks);
  ~Elector();  // Stop()
  Elector(const Elector&) = delete;
  Elector& operator=(const Elector&) = delete;

  // Validates the options and starts the threads. kInvalidArgument (bad options) or
  // kInternal (already started).
  Status Start();
  // Ends the term if active (MayWrite false first), releases the lock, delivers the pending
  // callbacks, joins the threads. Returns within about op_timeout even if the backend is
  // slow (a backend call that ignores its own timeout can delay it). Idempotent.
  void Stop();
  // If active: ends the term (MayWrite false at once), releases the lock and does not
  // compete again for stepdown_backoff. Returns false (and does nothing) if not active.
  bool StepDown();

  // True iff this node is active in term `epoch` and (TTL backends) the self-fence deadline
  // has not passed. Lock-free; call before accepting each write.
  bool MayWrite(uint64_t epoch) const;
  // The epoch of the current term, or 0 if not active.
  uint64_t ActiveEpoch() const;
  bool IsActive() const { return ActiveEpoch() != 0; }
  // Who holds the lock (value + epoch), read from the backend: nullopt if nobody (or not
  // published yet). For standbys looking for the active; bounded by op_timeout.
  Result<std::optional<Holder>> CurrentHolder() const;
  ElectorStats Stats() const;
  const ElectorOptions& options() const { return options_; }

  // Test hook: true when both threads are idle (waiting) and have seen the clock's current
  // time, i.e. everything due by clock->Now() has been done.
  bool QuiescentForTest() const;

 private:
  struct Event {
    bool active;
    uint64_t epoch;
    StandbyReason reason;
    std::string detail;
  };

  void WorkerLoop();
  // One attempt at acquiring. OK if a term began (it has ended when this returns);
  // otherwise the acquire outcome (kConflict: held by another).
  Status TryBeginTerm();
  // Runs the renew loop of the current term until it ends; then releases if still ours.
  void RunTerm(const Lease& lease, TimePoint acquire_sent);
  void WatchdogLoop();
  // One liveness beat of the active node: kConflict if last_progress is too old (the term
  // must end), else the outcome of backend_->Heartbeat().
  Status Beat(TimePoint now);
  // True if callbacks.last_progress is older than liveness_timeout at `now`.
  bool StalledAt(TimePoint now) const;
  // Ends term `epoch` if it is current. REQUIRES: mu_ held.
  void EndTermLocked(uint64_t epoch, StandbyReason reason, const std::string& detail);
  // Waits on cv_ until `until` (clock time), or until `wake()` is true. REQUIRES: lock held.
  // `idle_ns` is set to the clock time seen while waiting (test hook).
  void WaitUntil(std::unique_lock<std::mutex>& lock, TimePoint until,
                 const std::function<bool()>& wake, std::atomic<int64_t>* idle_ns);
  Duration Jittered(Duration base);
  // Wakes both threads and marks them busy until they have looked again. REQUIRES: mu_.
  void KickLocked();
  void BestEffortRelease(const Lease& lease);

  LockBackend* const backend_;
  Clock* const clock_;
  const ElectorOptions options_;
  const ElectorCallbacks callbacks_;
  const bool real_clock_;
  const bool has_ttl_;

  // Lock-free view for the write path. The term is active iff active_epoch_ != 0; writes
  // are allowed while clock_->Now() < deadline_ns_ (TTL backends).
  std::atomic<uint64_t> active_epoch_{0};
  std::atomic<int64_t> deadline_ns_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;                    // GUARDED_BY(mu_)
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  bool worker_done_ = false;                // GUARDED_BY(mu_)
  TimePoint no_compete_until_{};            // GUARDED_BY(mu_)
  uint64_t last_epoch_ = 0;                 // GUARDED_BY(mu_)
  std::deque<Event> events_;                // GUARDED_BY(mu_)
  ElectorStats stats_;                      // GUARDED_BY(mu_)
  std::mt19937_64 rng_;                     // GUARDED_BY(mu_)
  std::string last_error_;                  // worker thread only: last logged error
  std::atomic<int64_t> worker_idle_ns_{0};  // test hook: 0 while busy
  std::atomic<int64_t> watchdog_idle_ns_{0};

  std::thread worker_;
  std::thread watchdog_;
};

}  // namespace halo::lock
