#include "router/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <chrono>

#include "common/logging.h"

namespace halo::router {
namespace {

constexpr size_t kWakeBytes = 64 * 1024;  // wake the writer before the interval at this much

Result<int> OpenPath(const std::string& path, bool* own) {
  *own = false;
  if (path == "stdout") return STDOUT_FILENO;
  if (path == "stderr") return STDERR_FILENO;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::InvalidArgument("access_log.path: cannot open " + path + ": " + strerror(errno));
  }
  *own = true;
  return fd;
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const AccessLogConfig& cfg,
                                                   RouterCounters* counters) {
  bool own = false;
  ASSIGN_OR_RETURN(int fd, OpenPath(cfg.path, &own));
  std::unique_ptr<AccessLog> log(new AccessLog(cfg, counters, fd));
  log->own_fd_ = own;
  log->writer_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

AccessLog::AccessLog(const AccessLogConfig& cfg, RouterCounters* counters, int fd)
    : cfg_(cfg), counters_(counters), fd_(fd), own_fd_(false) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (own_fd_) ::close(fd_);
}

void AccessLog::Append(std::string_view lines) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() + lines.size() > static_cast<size_t>(cfg_.buffer_bytes)) {
      counters_->access_log_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    size_t before = pending_.size();
    pending_.append(lines);
    appended_ += lines.size();
    wake = before < kWakeBytes && pending_.size() >= kWakeBytes;
  }
  counters_->access_log_lines.fetch_add(1, std::memory_order_relaxed);
  if (wake) wake_.notify_one();
}

void AccessLog::Reopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_ = true;
  }
  wake_.notify_one();
}

void AccessLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = appended_;
  flush_ = true;
  wake_.notify_one();
  written_.wait(lock, [&] { return written_bytes_ >= target || stop_; });
}

void AccessLog::Run() {
  std::string batch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(cfg_.flush_interval_ms),
                   [&] { return stop_ || reopen_ || flush_ || pending_.size() >= kWakeBytes; });
    batch.clear();
    batch.swap(pending_);
    bool reopen = reopen_;
    bool stop = stop_;
    reopen_ = flush_ = false;
    lock.unlock();
    if (!batch.empty()) WriteAll(batch);
    if (reopen) DoReopen();
    lock.lock();
    written_bytes_ += batch.size();
    written_.notify_all();
    if (stop && pending_.empty()) return;
  }
}

void AccessLog::WriteAll(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      counters_->access_log_write_errors.fetch_add(1, std::memory_order_relaxed);
      return;  // the rest of this batch is lost; the next batch tries again
    }
    off += static_cast<size_t>(n);
  }
}

void AccessLog::DoReopen() {
  if (!own_fd_) return;
  bool own = false;
  Result<int> fd = OpenPath(cfg_.path, &own);
  if (!fd.ok()) {
    counters_->access_log_reopen_failures.fetch_add(1, std::memory_order_relaxed);
    LOG_ERROR("access log: reopen failed, writing on to the old file: %s",
              fd.status().ToString().c_str());
    return;
  }
  ::close(fd_);
  fd_ = *fd;
  LOG_INFO("access log: reopened %s", cfg_.path.c_str());
}

}  // namespace halo::router
