#include "node/leader_watcher.h"

#include "common/logging.h"
#include "lock/lock_value.h"

namespace halo::node {

LeaderView LeaderViewFromHolder(const std::optional<lock::Holder>& holder) {
  LeaderView view;
  if (!holder) return view;
  Result<lock::LockValue> value = lock::ParseLockValue(holder->value);
  if (!value.ok()) return view;
  view.known = true;
  view.api_addr = value->api_addr;
  view.cluster_addr = value->cluster_addr;
  view.epoch = holder->epoch;
  return view;
}

LeaderWatcher::LeaderWatcher(ReadFn read, Duration interval, ChangeFn on_change)
    : read_(std::move(read)), interval_(interval), on_change_(std::move(on_change)) {}

LeaderWatcher::~LeaderWatcher() { Stop(); }

void LeaderWatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void LeaderWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaderWatcher::PollSoon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poke_ = true;
  }
  cv_.notify_all();
}

void LeaderWatcher::Loop() {
  std::optional<LeaderView> last;
  bool warned = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (poke_) last.reset();  // report what we read, changed or not
    poke_ = false;
    lock.unlock();
    Result<std::optional<lock::Holder>> holder = read_();
    if (holder.ok()) {
      warned = false;
      LeaderView view = LeaderViewFromHolder(*holder);
      if (!last || !(*last == view)) {
        last = view;
        on_change_(view);
      }
    } else if (!warned) {
      LOG_WARN("cannot read the HA lock holder: %s", holder.status().ToString().c_str());
      warned = true;
    }
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stopping_ || poke_; });
  }
}

}  // namespace halo::node
