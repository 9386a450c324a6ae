// LoopThread: an event_base running on its own thread, for tests of loop-bound objects.
// Everything that touches the base (creating servers and pools, sending) goes through
// RunSync, which runs a function on the loop thread and waits for it.
#pragma once

#include <event2/event.h>

#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "common/loop_task_queue.h"

namespace halo::http::testing {

class LoopThread {
 public:
  LoopThread() : base_(event_base_new()) {
    queue_ = *LoopTaskQueue::Create(base_);
    thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  }
  ~LoopThread() {
    RunSync([this] {
      queue_->Close();
      event_base_loopbreak(base_);
    });
    thread_.join();
    event_base_free(base_);
  }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  event_base* base() const { return base_; }

  void RunSync(const std::function<void()>& fn) {
    std::promise<void> done;
    queue_->Post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  // Posts without waiting.
  void Post(std::function<void()> fn) { queue_->Post(std::move(fn)); }

 private:
  event_base* base_;
  std::shared_ptr<LoopTaskQueue> queue_;
  std::thread thread_;
};

}  // namespace halo::http::testing
