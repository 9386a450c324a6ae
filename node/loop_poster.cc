#include "node/loop_poster.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace halo::node {

Result<std::shared_ptr<LoopPoster>> LoopPoster::Create(event_base* base) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno("eventfd", errno);
  std::shared_ptr<LoopPoster> poster(new LoopPoster(fd));
  poster->event_ = event_new(base, fd, EV_READ | EV_PERSIST, &LoopPoster::OnWake, poster.get());
  if (poster->event_ == nullptr || event_add(poster->event_, nullptr) != 0) {
    return Status::Internal("cannot register the loop poster's event");
  }
  return poster;
}

LoopPoster::LoopPoster(int fd) : fd_(fd) {}

LoopPoster::~LoopPoster() {
  if (event_ != nullptr) event_free(event_);
  close(fd_);
}

bool LoopPoster::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    tasks_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t n = write(fd_, &one, sizeof(one));
  (void)n;  // EAGAIN means the counter is already non-zero: a wake-up is pending anyway
  return true;
}

void LoopPoster::Close() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    dropped.swap(tasks_);
  }
  if (event_ != nullptr) {
    event_free(event_);
    event_ = nullptr;
  }
}

void LoopPoster::OnWake(evutil_socket_t fd, short, void* arg) {
  uint64_t count = 0;
  ssize_t n = read(fd, &count, sizeof(count));
  (void)n;
  static_cast<LoopPoster*>(arg)->RunPending();
}

void LoopPoster::RunPending() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

}  // namespace halo::node
