// The plumbing every Resolver implementation shares (common/net/resolver.h): one request's
// state, the caller's cancelling handle, and the answer posted to the reply loop. Internal to
// common/net/.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/net/resolver.h"

namespace halo::net::internal {

// Shared by the caller's handle, the implementation and the posted answer. `callback` is
// touched only on the reply loop's thread (the answer task, Cancel()).
struct Lookup {
  std::string host;
  int port = 0;
  std::shared_ptr<LoopTaskQueue> reply;
  Resolver::TtlCallback callback;
  std::atomic<bool> cancelled{false};
};

class LookupHandle : public Resolver::Handle {
 public:
  explicit LookupHandle(std::shared_ptr<Lookup> lookup) : lookup_(std::move(lookup)) {}
  ~LookupHandle() override { Cancel(); }
  void Cancel() override {
    lookup_->cancelled.store(true, std::memory_order_release);
    lookup_->callback = nullptr;
  }

 private:
  std::shared_ptr<Lookup> lookup_;
};

// A new lookup for `host`:`port`, and its handle.
std::shared_ptr<Lookup> NewLookup(const std::string& host, int port,
                                  std::shared_ptr<LoopTaskQueue> reply,
                                  Resolver::TtlCallback callback);

// Posts `result` to the lookup's reply loop; runs the callback there unless cancelled.
void Answer(const std::shared_ptr<Lookup>& lookup, Result<Resolution> result);

// The answer needing no lookup, if any: an argument error or a numeric host.
bool AnswerWithoutLookup(const std::shared_ptr<Lookup>& lookup);

// Appends `a` unless the same address is there already.
void AddUnique(std::vector<NetAddress>* out, const NetAddress& a);

}  // namespace halo::net::internal
