// FaultLockBackend: wraps a LockBackend and injects faults per operation, for elector tests
// (in the spirit of LevelDB's fault-injection Env). Records call counts and the clock time
// of each renew. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "lock/lock_backend.h"

namespace halo::lock::testing {

enum class Fault {
  kNone,
  kLoseRequest,  // the call never reaches the backend; the caller sees kTimeout
  kLoseReply,    // the call takes effect, but the caller sees kTimeout
  kHang,         // the call blocks until Unhang() or Interrupt(); see Unhang()
  kNotHeld,      // the call returns kConflict without reaching the backend
};

class FaultLockBackend final : public LockBackend {
 public:
  FaultLockBackend(LockBackend* inner, Clock* clock) : inner_(inner), clock_(clock) {}

  void SetAcquireFault(Fault f) { Set(&acquire_fault_, f); }
  void SetRenewFault(Fault f) { Set(&renew_fault_, f); }
  void SetReleaseFault(Fault f) { Set(&release_fault_, f); }
  // Lets every hung call go on: with `proceed` it then reaches the backend and returns its
  // result (a slow success); otherwise it returns kTimeout.
  void Unhang(bool proceed = false) {
    std::lock_guard<std::mutex> l(mu_);
    ++unhang_gen_;
    unhang_proceed_ = proceed;
    cv_.notify_all();
  }
  bool hanging() const {
    std::lock_guard<std::mutex> l(mu_);
    return hung_ > 0;
  }
  int acquires() const { return Get(acquires_); }
  int renews() const { return Get(renews_); }
  int releases() const { return Get(releases_); }
  std::vector<TimePoint> renew_times() const {
    std::lock_guard<std::mutex> l(mu_);
    return renew_times_;
  }
  // Called at the start of every Release (e.g. to check MayWrite is already false).
  void OnRelease(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    on_release_ = std::move(fn);
  }

  // LockBackend
  std::string_view Name() const override { return inner_->Name(); }
  bool HasTtl() const override { return inner_->HasTtl(); }
  bool CanWait() const override { return inner_->CanWait(); }
  Result<Lease> TryAcquire(const AcquireRequest& req, Duration timeout) override {
    Fault f = Count(&acquires_, acquire_fault_);
    if (Status s = Before(f); !s.ok()) return s;
    Result<Lease> r = inner_->TryAcquire(req, timeout);
    if (f == Fault::kLoseReply) return Status::Timeout("reply lost (injected)");
    return r;
  }
  Status Renew(const Lease& lease, Duration ttl, Duration timeout) override {
    Fault f;
    {
      std::lock_guard<std::mutex> l(mu_);
      renew_times_.push_back(clock_->Now());
      ++renews_;
      f = renew_fault_;
    }
    RETURN_IF_ERROR(Before(f));
    Status s = inner_->Renew(lease, ttl, timeout);
    if (f == Fault::kLoseReply) return Status::Timeout("reply lost (injected)");
    return s;
  }
  Status Release(const Lease& lease, Duration timeout) override {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> l(mu_);
      hook = on_release_;
    }
    if (hook) hook();
    Fault f = Count(&releases_, release_fault_);
    RETURN_IF_ERROR(Before(f));
    Status s = inner_->Release(lease, timeout);
    if (f == Fault::kLoseReply) return Status::Timeout("reply lost (injected)");
    return s;
  }
  Result<std::optional<Holder>> ReadHolder(Duration timeout) override {
    return inner_->ReadHolder(timeout);
  }
  Status Heartbeat() override { return inner_->Heartbeat(); }
  void Interrupt() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      interrupted_ = true;
      cv_.notify_all();
    }
    inner_->Interrupt();
  }

 private:
  void Set(Fault* field, Fault f) {
    std::lock_guard<std::mutex> l(mu_);
    *field = f;
  }
  int Get(const int& counter) const {
    std::lock_guard<std::mutex> l(mu_);
    return counter;
  }
  Fault Count(int* counter, const Fault& fault) {
    std::lock_guard<std::mutex> l(mu_);
    ++*counter;
    return fault;
  }
  // Applies the part of fault `f` that happens before the backend is reached.
  Status Before(Fault f) {
    switch (f) {
      case Fault::kLoseRequest:
        return Status::Timeout("request lost (injected)");
      case Fault::kNotHeld:
        return Status::Conflict("not held (injected)");
      case Fault::kHang: {
        std::unique_lock<std::mutex> l(mu_);
        uint64_t gen = unhang_gen_;
        ++hung_;
        cv_.wait(l, [&] { return unhang_gen_ != gen || interrupted_; });
        --hung_;
        if (unhang_proceed_ && !interrupted_) return Status::Ok();
        return Status::Timeout("hung call timed out (injected)");
      }
      default:
        return Status::Ok();
    }
  }

  LockBackend* const inner_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Fault acquire_fault_ = Fault::kNone;
  Fault renew_fault_ = Fault::kNone;
  Fault release_fault_ = Fault::kNone;
  int acquires_ = 0, renews_ = 0, releases_ = 0, hung_ = 0;
  uint64_t unhang_gen_ = 0;
  bool interrupted_ = false;
  bool unhang_proceed_ = false;
  std::vector<TimePoint> renew_times_;
  std::function<void()> on_release_;
};

}  // namespace halo::lock::testing
