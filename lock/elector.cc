#include "lock/elector.h"

#include <algorithm>
#include <cinttypes>

#include "common/logging.h"

namespace halo::lock {
namespace {

int64_t Ns(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromNs(int64_t ns) { return TimePoint(Duration(ns)); }

// Real-time granularity at which threads re-read a clock that is not the RealClock().
constexpr auto kFakeClockSlice = std::chrono::milliseconds(1);

}  // namespace

const char* StandbyReasonName(StandbyReason r) {
  switch (r) {
    case StandbyReason::kSelfFence:
      return "self-fence";
    case StandbyReason::kNotHeld:
      return "lock lost";
    case StandbyReason::kStepDown:
      return "step-down";
    case StandbyReason::kStopping:
      return "stopping";
    case StandbyReason::kStalled:
      return "stalled";
  }
  return "unknown";
}

Elector::Elector(LockBackend* backend, Clock* clock, ElectorOptions options,
                 ElectorCallbacks callbacks)
    : backend_(backend),
      clock_(clock),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      real_clock_(clock == RealClock()),
      has_ttl_(backend->HasTtl()),
      rng_(std::random_device{}()) {}

Elector::~Elector() { Stop(); }

Status Elector::Start() {
  RETURN_IF_ERROR(options_.Validate());
  std::lock_guard<std::mutex> l(mu_);
  if (started_ || stopping_) return Status::Internal("elector already started or stopped");
  started_ = true;
  worker_ = std::thread([this] { WorkerLoop(); });
  watchdog_ = std::thread([this] { WatchdogLoop(); });
  return Status::Ok();
}

void Elector::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      stopping_ = true;
      EndTermLocked(active_epoch_.load(), StandbyReason::kStopping, "shutting down");
    }
    KickLocked();
  }
  backend_->Interrupt();
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    worker_done_ = true;
    KickLocked();
  }
  if (watchdog_.joinable()) watchdog_.join();
}

bool Elector::StepDown() {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t epoch = active_epoch_.load();
  if (epoch == 0 || stopping_) return false;
  no_compete_until_ = clock_->Now() + options_.stepdown_backoff;
  EndTermLocked(epoch, StandbyReason::kStepDown, "step-down requested");
  KickLocked();
  return true;
}

bool Elector::MayWrite(uint64_t epoch) const {
  if (epoch == 0 || active_epoch_.load(std::memory_order_acquire) != epoch) return false;
  if (!has_ttl_) return true;
  return Ns(clock_->Now()) < deadline_ns_.load(std::memory_order_acquire);
}

uint64_t Elector::ActiveEpoch() const { return active_epoch_.load(std::memory_order_acquire); }

Result<std::optional<Holder>> Elector::CurrentHolder() const {
  return backend_->ReadHolder(options_.op_timeout);
}

ElectorStats Elector::Stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

bool Elector::QuiescentForTest() const {
  int64_t now = Ns(clock_->Now());
  return worker_idle_ns_.load() >= now && watchdog_idle_ns_.load() >= now;
}

void Elector::WaitUntil(std::unique_lock<std::mutex>& lock, TimePoint until,
                        const std::function<bool()>& wake, std::atomic<int64_t>* idle_ns) {
  while (!wake()) {
    TimePoint now = clock_->Now();
    if (now >= until) break;
    idle_ns->store(Ns(now));
    if (!real_clock_) {
      cv_.wait_for(lock, kFakeClockSlice);
    } else if (until == TimePoint::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, until);
    }
  }
  idle_ns->store(0);
}

Duration Elector::Jittered(Duration base) {
  if (options_.jitter <= Duration::zero()) return base;
  std::uniform_int_distribution<int64_t> d(-options_.jitter.count(), options_.jitter.count());
  return base + Duration(d(rng_));
}

void Elector::KickLocked() {
  worker_idle_ns_.store(0);
  watchdog_idle_ns_.store(0);
  cv_.notify_all();
}

void Elector::EndTermLocked(uint64_t epoch, StandbyReason reason, const std::string& detail) {
  if (epoch == 0 || active_epoch_.load() != epoch) return;
  active_epoch_.store(0, std::memory_order_release);
  LOG_INFO("lock: term %" PRIu64 " ended (%s): %s", epoch, StandbyReasonName(reason),
           detail.c_str());
  events_.push_back(Event{false, epoch, reason, detail});
  KickLocked();
}

void Elector::BestEffortRelease(const Lease& lease) {
  Status s = backend_->Release(lease, options_.op_timeout);
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.releases;
  if (!s.ok()) {
    LOG_WARN("lock: release of epoch %" PRIu64 " failed (it expires by itself): %s", lease.epoch,
             s.ToString().c_str());
  }
}

void Elector::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto stopping = [this] { return stopping_; };
  while (!stopping_) {
    if (clock_->Now() < no_compete_until_) {
      WaitUntil(lock, no_compete_until_, stopping, &worker_idle_ns_);
      continue;
    }
    if (StalledAt(clock_->Now())) {
      // A node whose serving loop or storage is stuck must not become active.
      WaitUntil(lock, clock_->Now() + Jittered(options_.retry), stopping, &worker_idle_ns_);
      continue;
    }
    lock.unlock();
    Status attempt = TryBeginTerm();
    lock.lock();
    if (attempt.ok()) continue;  // a term began and has ended
    // A waiting backend already waited; otherwise pause before the next attempt.
    if (backend_->CanWait() && IsNotHeld(attempt)) continue;
    WaitUntil(lock, clock_->Now() + Jittered(options_.retry), stopping, &worker_idle_ns_);
  }
}

Status Elector::TryBeginTerm() {
  uint64_t floor = callbacks_.epoch_floor ? callbacks_.epoch_floor() : 0;
  AcquireRequest req;
  req.token = NewLockToken();
  req.value = options_.value;
  req.ttl = options_.ttl;
  req.wait = backend_->CanWait() ? options_.max_wait : Duration::zero();
  req.stale_after = options_.liveness_timeout;
  {
    std::lock_guard<std::mutex> l(mu_);
    req.min_epoch = std::max(last_epoch_, floor);
    ++stats_.acquire_attempts;
  }
  TimePoint sent = clock_->Now();
  Result<Lease> r = backend_->TryAcquire(req, options_.op_timeout);
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.code() == Status::Code::kTimeout) BestEffortRelease(Lease{0, req.token});
    if (!IsNotHeld(s) && s.message() != last_error_) {
      LOG_WARN("lock: acquire failed: %s", s.ToString().c_str());
    }
    last_error_ = IsNotHeld(s) ? "" : s.message();
    return s;
  }
  last_error_.clear();
  Lease lease = std::move(r).value();
  if (has_ttl_ && backend_->CanWait()) {
    // The grant happened at an unknown point of the wait: date the term from a renew.
    sent = clock_->Now();
    Status c = backend_->Renew(lease, options_.ttl, options_.op_timeout);
    if (!c.ok()) {
      if (!IsNotHeld(c)) BestEffortRelease(lease);
      return c;
    }
  }
  bool begin = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (lease.epoch <= last_epoch_) {
      LOG_ERROR("lock: backend %s granted epoch %" PRIu64 ", not above %" PRIu64 "; releasing",
                std::string(backend_->Name()).c_str(), lease.epoch, last_epoch_);
    } else if (!stopping_ && clock_->Now() >= no_compete_until_) {
      begin = true;
      last_epoch_ = lease.epoch;
      ++stats_.terms;
      deadline_ns_.store(Ns(sent + options_.renew_deadline), std::memory_order_release);
      active_epoch_.store(lease.epoch, std::memory_order_release);
      LOG_INFO("lock: acquired %s lock, epoch %" PRIu64, std::string(backend_->Name()).c_str(),
               lease.epoch);
      events_.push_back(Event{true, lease.epoch, StandbyReason::kStopping, ""});
      KickLocked();
    }
  }
  if (!begin) {
    BestEffortRelease(lease);
    return Status::Unavailable("acquired lock given back");
  }
  RunTerm(lease, sent);
  return Status::Ok();
}

void Elector::RunTerm(const Lease& lease, TimePoint acquire_sent) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t epoch = lease.epoch;
  auto over = [this, epoch] { return active_epoch_.load() != epoch || stopping_; };
  TimePoint next = acquire_sent + options_.renew_every;
  bool not_held = false;
  while (true) {
    WaitUntil(lock, next, over, &worker_idle_ns_);
    if (stopping_) EndTermLocked(epoch, StandbyReason::kStopping, "shutting down");
    if (has_ttl_ && clock_->Now() >= FromNs(deadline_ns_.load())) {
      EndTermLocked(epoch, StandbyReason::kSelfFence, "no successful renew within renew_deadline");
    }
    if (active_epoch_.load() != epoch) break;
    lock.unlock();
    TimePoint sent = clock_->Now();
    Status s = backend_->Renew(lease, options_.ttl, options_.op_timeout);
    lock.lock();
    if (s.ok()) {
      ++stats_.renews_ok;
      // A renew that completes after the deadline does not revive the term.
      int64_t deadline = deadline_ns_.load();
      if (active_epoch_.load() == epoch && Ns(clock_->Now()) < deadline) {
        deadline_ns_.store(std::max(deadline, Ns(sent + options_.renew_deadline)),
                           std::memory_order_release);
      }
      next = sent + options_.renew_every;
    } else if (IsNotHeld(s)) {
      EndTermLocked(epoch, StandbyReason::kNotHeld, s.message());
      not_held = true;
      break;
    } else {
      ++stats_.renews_failed;
      LOG_WARN("lock: renew of epoch %" PRIu64 " failed (outcome unknown): %s", epoch,
               s.ToString().c_str());
      next = clock_->Now() + std::min(Jittered(options_.retry), options_.renew_every);
    }
  }
  lock.unlock();
  if (!not_held) BestEffortRelease(lease);
}

void Elector::WatchdogLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  TimePoint next_beat{};  // due at once when a term begins
  while (true) {
    if (!events_.empty()) {
      Event ev = std::move(events_.front());
      events_.pop_front();
      lock.unlock();
      if (ev.active) {
        if (callbacks_.on_active) callbacks_.on_active(ev.epoch);
      } else if (callbacks_.on_standby) {
        callbacks_.on_standby(ev.reason, ev.detail);
      }
      lock.lock();
      continue;
    }
    if (worker_done_) break;
    const uint64_t epoch = active_epoch_.load();
    auto wake = [this, epoch] {
      return !events_.empty() || worker_done_ || active_epoch_.load() != epoch;
    };
    if (epoch == 0) {
      WaitUntil(lock, TimePoint::max(), wake, &watchdog_idle_ns_);
      continue;
    }
    TimePoint now = clock_->Now();
    if (has_ttl_ && now >= FromNs(deadline_ns_.load())) {
      EndTermLocked(epoch, StandbyReason::kSelfFence, "no successful renew within renew_deadline");
      continue;
    }
    if (now >= next_beat) {
      lock.unlock();
      Status beat = Beat(now);
      lock.lock();
      next_beat = now + options_.liveness_timeout / 6;
      if (!beat.ok()) {
        if (beat.IsConflict()) {
          EndTermLocked(epoch, StandbyReason::kStalled, beat.message());
          continue;
        }
        ++stats_.heartbeats_failed;
      }
    }
    TimePoint until = next_beat;
    if (has_ttl_) until = std::min(until, FromNs(deadline_ns_.load()));
    WaitUntil(lock, until, wake, &watchdog_idle_ns_);
  }
}

bool Elector::StalledAt(TimePoint now) const {
  return callbacks_.last_progress && now - callbacks_.last_progress() > options_.liveness_timeout;
}

Status Elector::Beat(TimePoint now) {
  if (StalledAt(now)) {
    {
      Duration behind = now - callbacks_.last_progress();
      return Status::Conflict("no progress from the serving loop or storage writer for " +
                              std::to_string(ToMillis(behind)) + " ms (liveness_timeout " +
                              std::to_string(ToMillis(options_.liveness_timeout)) + " ms)");
    }
  }
  Status s = backend_->Heartbeat();
  if (!s.ok()) LOG_WARN("lock: heartbeat failed: %s", s.ToString().c_str());
  return s.IsConflict() ? Status::Internal(s.message()) : s;
}

}  // namespace halo::lock
