// LoopTaskQueue: runs closures on a libevent loop's thread, posted from any thread (a storage
// write completing on a backend thread, a timer on another loop...). Tasks run in the order
// posted, in a loop iteration after the wake-up (an eventfd registered on the base, so it
// works without evthread_use_pthreads()).
//
// Lifetime: hold it in a shared_ptr; Post() is safe from any thread for as long as the
// object lives. Close() (loop thread) detaches it from the loop: tasks not yet run and tasks
// posted later are dropped (destroyed without running). HttpServer owns one and closes it
// when it is destroyed.
#pragma once

#include <event2/event.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "common/result.h"

namespace halo {

class LoopTaskQueue {
 public:
  using Task = std::function<void()>;

  // REQUIRES: `base` outlives the queue, or Close() is called before it is freed.
  static Result<std::shared_ptr<LoopTaskQueue>> Create(event_base* base);
  ~LoopTaskQueue();
  LoopTaskQueue(const LoopTaskQueue&) = delete;
  LoopTaskQueue& operator=(const LoopTaskQueue&) = delete;

  // Thread-safe. Returns false (and drops `task`) after Close().
  bool Post(Task task);
  // Loop thread only. Idempotent.
  void Close();

 private:
  explicit LoopTaskQueue(int fd) : fd_(fd) {}
  static void OnWake(evutil_socket_t fd, short what, void* arg);

  const int fd_;  // eventfd; closed by the destructor only, so Post never races a close
  event* event_ = nullptr;
  std::mutex mu_;
  std::deque<Task> tasks_;  // GUARDED_BY(mu_)
  bool closed_ = false;     // GUARDED_BY(mu_)
};

}  // namespace halo
