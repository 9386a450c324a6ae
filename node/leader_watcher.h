// LeaderWatcher: tells a node who holds the HA lock, within one poll interval of a change.
// A thread reads the lock holder (Elector::CurrentHolder) every `interval` and reports each
// change of the view (holder's api_addr, cluster_addr, epoch, or "nobody") to `on_change`,
// on the watcher's thread. A read error keeps the last view (the backend may be briefly
// unreachable; the view is not "nobody" just because we cannot see it).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/result.h"
#include "lock/lock_backend.h"
#include "node/node_snapshot.h"

namespace halo::node {

// The view described by a lock holder; an unparsable value is an unknown leader.
LeaderView LeaderViewFromHolder(const std::optional<lock::Holder>& holder);

class LeaderWatcher {
 public:
  using ReadFn = std::function<Result<std::optional<lock::Holder>>()>;
  using ChangeFn = std::function<void(const LeaderView&)>;

  LeaderWatcher(ReadFn read, Duration interval, ChangeFn on_change);
  ~LeaderWatcher();  // Stop()
  LeaderWatcher(const LeaderWatcher&) = delete;
  LeaderWatcher& operator=(const LeaderWatcher&) = delete;

  void Start();
  // Joins the thread; no callback runs after Stop returns. Idempotent.
  void Stop();
  // Polls again now rather than at the end of the current interval, and reports the view
  // it reads even if unchanged (the node may have dropped its own view meanwhile).
  void PollSoon();

 private:
  void Loop();

  const ReadFn read_;
  const Duration interval_;
  const ChangeFn on_change_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool poke_ = false;      // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace halo::node
