#include "common/net/getaddrinfo_resolver.h"

#include "common/net/resolver_lookup.h"

#include <netdb.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace halo::net {
namespace {

using internal::AddUnique;
using internal::Answer;
using internal::Lookup;

Result<std::vector<NetAddress>> Getaddrinfo(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return Status::Unavailable("cannot resolve " + host + ": " + why);
  }
  std::vector<NetAddress> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    NetAddress a;
    std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
    a.len = static_cast<socklen_t>(ai->ai_addrlen);
    AddUnique(&out, a);
  }
  freeaddrinfo(res);
  if (out.empty()) return Status::Unavailable("cannot resolve " + host + ": no IPv4/IPv6 address");
  return out;
}

class GetaddrinfoResolver : public Resolver {
 public:
  explicit GetaddrinfoResolver(const GetaddrinfoResolverOptions& options)
      : max_queued_(std::max<size_t>(options.max_queued, 1)) {
    int n = std::max(options.threads, 1);
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
  }

  ~GetaddrinfoResolver() override {
    std::deque<std::shared_ptr<Lookup>> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    // `dropped` goes here: their callbacks never run.
  }

  std::unique_ptr<Handle> ResolveWithTtl(const std::string& host, int port,
                                         std::shared_ptr<LoopTaskQueue> reply,
                                         TtlCallback callback) override {
    std::shared_ptr<Lookup> lookup =
        internal::NewLookup(host, port, std::move(reply), std::move(callback));
    auto handle = std::make_unique<internal::LookupHandle>(lookup);
    if (internal::AnswerWithoutLookup(lookup)) return handle;
    bool full = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      full = queue_.size() >= max_queued_;
      if (!full) queue_.push_back(lookup);
    }
    if (full) {
      Answer(lookup, Status::Unavailable("cannot resolve " + host + ": resolver queue full (" +
                                         std::to_string(max_queued_) + " waiting)"));
    } else {
      cv_.notify_one();
    }
    return handle;
  }

 private:
  void Run() {
    for (;;) {
      std::shared_ptr<Lookup> lookup;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        lookup = std::move(queue_.front());
        queue_.pop_front();
      }
      if (lookup->cancelled.load(std::memory_order_acquire)) continue;
      Result<std::vector<NetAddress>> result = Getaddrinfo(lookup->host, lookup->port);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;  // destruction drops answers not yet posted
      }
      if (!result.ok()) {
        Answer(lookup, result.status());
      } else {
        Answer(lookup, Resolution{std::move(result).value(), -1});
      }
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Lookup>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                      // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<Resolver> NewGetaddrinfoResolver(const GetaddrinfoResolverOptions& options) {
  return std::make_unique<GetaddrinfoResolver>(options);
}

}  // namespace halo::net
