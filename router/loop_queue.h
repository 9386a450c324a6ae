// LoopQueue: run closures on an event loop's thread, posted from any thread.
//
// An eventfd registered as a persistent read event on the owning event_base; Post() appends
// to a mutex-protected vector and writes the eventfd only when the queue was empty, so a
// burst of posts costs one wake-up. Tasks run in post order on the loop thread. The
// event_base needs no libevent threading support (evthread_*), so the data path pays for no
// locks. Create and destroy on the loop thread.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

struct event;
struct event_base;

namespace halo::router {

class LoopQueue {
 public:
  explicit LoopQueue(event_base* base);
  ~LoopQueue();
  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;

  // Thread-safe. Tasks posted after the queue is destroyed are never run (don't do that).
  void Post(std::function<void()> task);

 private:
  static void OnWake(int fd, short what, void* arg);
  void RunAll();

  int fd_ = -1;
  event* ev_ = nullptr;
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;
  std::vector<std::function<void()>> running_;
};

}  // namespace halo::router
