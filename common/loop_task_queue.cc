#include "common/loop_task_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace halo {

Result<std::shared_ptr<LoopTaskQueue>> LoopTaskQueue::Create(event_base* base) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno("eventfd", errno);
  std::shared_ptr<LoopTaskQueue> q(new LoopTaskQueue(fd));
  q->event_ = event_new(base, fd, EV_READ | EV_PERSIST, &LoopTaskQueue::OnWake, q.get());
  if (q->event_ == nullptr || event_add(q->event_, nullptr) != 0) {
    return Status::Internal("cannot register the loop task queue's event");
  }
  return q;
}

LoopTaskQueue::~LoopTaskQueue() {
  if (event_ != nullptr) event_free(event_);
  close(fd_);
}

bool LoopTaskQueue::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  ssize_t n = write(fd_, &one, sizeof(one));
  (void)n;  // EAGAIN: the counter is saturated, a wake-up is pending anyway
  return true;
}

void LoopTaskQueue::Close() {
  std::deque<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    dropped.swap(tasks_);
  }
  if (event_ != nullptr) {
    event_free(event_);
    event_ = nullptr;
  }
  // `dropped` is destroyed here, outside the lock: a task's destructor may Post().
}

void LoopTaskQueue::OnWake(evutil_socket_t fd, short, void* arg) {
  uint64_t count = 0;
  ssize_t n = read(fd, &count, sizeof(count));
  (void)n;
  auto* self = static_cast<LoopTaskQueue*>(arg);
  std::deque<Task> batch;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->closed_) return;
    batch.swap(self->tasks_);
  }
  // A task may Close() (or drop the last reference to) the queue; `batch` is local.
  for (Task& task : batch) task();
}

}  // namespace halo
