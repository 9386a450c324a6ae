#include "storage/backend_txn.h"

#include <pthread.h>

#include <algorithm>
#include <future>

namespace halo::storage {

Result<std::string> OverlayTxn::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  auto it = writes_.find(key);
  if (it == writes_.end()) return base_->Get(key);
  if (!it->second) return Status::NotFound(std::string(key));
  return *it->second;
}

Result<std::vector<std::string>> OverlayTxn::List(std::string_view prefix) {
  ASSIGN_OR_RETURN(std::vector<std::string> base, base_->List(prefix));
  return MergeListing(std::move(base), writes_, prefix);
}

std::vector<std::string> MergeListing(std::vector<std::string> base,
                                      const OverlayTxn::Writes& writes, std::string_view prefix) {
  if (writes.empty()) return base;
  std::vector<std::string> out;
  out.reserve(base.size());
  auto w = writes.lower_bound(prefix);
  auto b = base.begin();
  // Merge two sorted sequences; the overlay wins on equal keys.
  while (true) {
    bool w_ok = w != writes.end() && HasPrefix(w->first, prefix);
    bool b_ok = b != base.end();
    if (!w_ok && !b_ok) break;
    if (w_ok && (!b_ok || w->first <= *b)) {
      if (b_ok && w->first == *b) ++b;
      if (w->second) out.push_back(w->first);
      ++w;
    } else {
      out.push_back(std::move(*b));
      ++b;
    }
  }
  return out;
}

Status OverlayTxn::Put(std::string_view key, std::string_view value) {
  RETURN_IF_ERROR(ValidateKey(key));
  writes_.insert_or_assign(std::string(key), std::string(value));
  return Status::Ok();
}

Status OverlayTxn::Delete(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  writes_.insert_or_assign(std::string(key), std::nullopt);
  return Status::Ok();
}

void OverlayTxn::MergeInto(OverlayTxn* parent) const {
  for (const auto& [key, value] : writes_) parent->writes_.insert_or_assign(key, value);
}

}  // namespace halo::storage

namespace halo::storage {

GroupWriter::GroupWriter(CommitFn commit, size_t max_batch)
    : commit_(std::move(commit)), max_batch_(max_batch), thread_([this] { Run(); }) {
  // Named so that operators (top -H) and the liveness tests can find the storage writer.
  pthread_setname_np(thread_.native_handle(), "halo-writer");
}

GroupWriter::~GroupWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupWriter::Submit(PendingUpdate update) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty() && !committing_) progress_ = RealClock()->Now();
    queue_.push_back(std::move(update));
  }
  cv_.notify_one();
}

std::optional<TimePoint> GroupWriter::BusySince() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty() && !committing_) return std::nullopt;
  return progress_;
}

Status GroupWriter::SubmitAndWait(uint64_t epoch, UpdateFn fn) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  Submit(PendingUpdate{epoch, std::move(fn),
                       [&promise](Status st) { promise.set_value(std::move(st)); }});
  return future.get();
}

uint64_t GroupWriter::groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_;
}

void GroupWriter::Run() {
  std::vector<PendingUpdate> group;
  std::vector<Status> results;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued is done
    while (!queue_.empty() && group.size() < max_batch_) {
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ++groups_;
    committing_ = true;
    lock.unlock();
    results.clear();
    commit_(group, &results);
    results.resize(group.size(), Status::Internal("update not completed"));
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].done) group[i].done(std::move(results[i]));
    }
    group.clear();
    lock.lock();
    committing_ = false;
    progress_ = RealClock()->Now();
  }
}

TaskThread::TaskThread() : thread_([this] { Run(); }) {}

TaskThread::~TaskThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void TaskThread::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void TaskThread::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping and drained
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

void ForEachEpochRun(const std::vector<PendingUpdate>& group,
                     const std::function<void(size_t begin, size_t end)>& run) {
  size_t begin = 0;
  while (begin < group.size()) {
    size_t end = begin + 1;
    while (end < group.size() && group[end].epoch == group[begin].epoch) ++end;
    run(begin, end);
    begin = end;
  }
}

}  // namespace halo::storage
