// LoopPoster: runs closures on a libevent loop's thread, posted from any thread (backend
// writer threads finishing a write, the elector's callbacks, the leader watcher). Tasks run
// in the order posted, one loop iteration after the wake-up (an eventfd).
//
// Lifetime: hold it in a shared_ptr; Post() is safe from any thread for as long as the
// object lives. Close() (loop thread) detaches it from the loop: tasks not yet run and tasks
// posted later are dropped (destroyed without running, on the posting thread or in Close).
#pragma once

#include <event2/event.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "common/result.h"

namespace halo::node {

class LoopPoster {
 public:
  // REQUIRES: `base` outlives the poster or Close() is called before it is freed.
  static Result<std::shared_ptr<LoopPoster>> Create(event_base* base);
  ~LoopPoster();
  LoopPoster(const LoopPoster&) = delete;
  LoopPoster& operator=(const LoopPoster&) = delete;

  // Thread-safe. Returns false (and drops `fn`) after Close().
  bool Post(std::function<void()> fn);
  // Loop thread only. Idempotent.
  void Close();

 private:
  explicit LoopPoster(int fd);
  static void OnWake(evutil_socket_t fd, short what, void* arg);
  void RunPending();

  const int fd_;  // eventfd
  event* event_ = nullptr;
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  bool closed_ = false;                      // GUARDED_BY(mu_)
};

}  // namespace halo::node
