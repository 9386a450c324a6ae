#include "router/loop_queue.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "common/logging.h"

namespace halo::router {

LoopQueue::LoopQueue(event_base* base) {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) {
    LOG_ERROR("eventfd failed");
    std::abort();
  }
  ev_ = event_new(base, fd_, EV_READ | EV_PERSIST, &LoopQueue::OnWake, this);
  event_add(ev_, nullptr);
}

LoopQueue::~LoopQueue() {
  if (ev_) event_free(ev_);
  if (fd_ >= 0) close(fd_);
}

void LoopQueue::Post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  if (wake) {
    uint64_t one = 1;
    ssize_t n = write(fd_, &one, sizeof(one));
    (void)n;  // EAGAIN means the counter is already non-zero: a wake-up is pending anyway
  }
}

void LoopQueue::OnWake(int fd, short, void* arg) {
  uint64_t count;
  ssize_t n = read(fd, &count, sizeof(count));
  (void)n;
  static_cast<LoopQueue*>(arg)->RunAll();
}

void LoopQueue::RunAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.swap(tasks_);
  }
  for (auto& task : running_) task();
  running_.clear();
}

}  // namespace halo::router
