#include "common/net/getaddrinfo_resolver.h"

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

// Shared by the caller's handle, the queue or lookup thread, and the posted answer.
// `callback` is touched only on the reply loop's thread (the answer task, Cancel()).
struct Lookup {
  std::string host;
  int port = 0;
  std::shared_ptr<LoopTaskQueue> reply;
  Resolver::Callback callback;
  std::atomic<bool> cancelled{false};
};

class LookupHandle : public Resolver::Handle {
 public:
  explicit LookupHandle(std::shared_ptr<Lookup> lookup) : lookup_(std::move(lookup)) {}
  ~LookupHandle() override { Cancel(); }
  void Cancel() override {
    lookup_->cancelled.store(true, std::memory_order_release);
    lookup_->callback = nullptr;
  }

 private:
  std::shared_ptr<Lookup> lookup_;
};

// Posts `result` to the lookup's reply loop; runs the callback there unless cancelled.
void Answer(const std::shared_ptr<Lookup>& lookup, Result<std::vector<NetAddress>> result) {
  (void)lookup->reply->Post([lookup, result = std::move(result)]() mutable {
    if (lookup->cancelled.load(std::memory_order_acquire) || !lookup->callback) return;
    Resolver::Callback cb = std::move(lookup->callback);
    lookup->callback = nullptr;
    cb(std::move(result));
  });
}

bool SameBytes(const NetAddress& a, const NetAddress& b) {
  return a.len == b.len && std::memcmp(&a.ss, &b.ss, a.len) == 0;
}

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
    bool seen =
        std::any_of(out.begin(), out.end(), [&a](const NetAddress& b) { return SameBytes(a, b); });
    if (!seen) out.push_back(a);
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

  std::unique_ptr<Handle> Resolve(const std::string& host, int port,
                                  std::shared_ptr<LoopTaskQueue> reply,
                                  Callback callback) override {
    auto lookup = std::make_shared<Lookup>();
    lookup->host = host;
    lookup->port = port;
    lookup->reply = std::move(reply);
    lookup->callback = std::move(callback);
    auto handle = std::make_unique<LookupHandle>(lookup);
    if (host.empty()) {
      Answer(lookup, Status::InvalidArgument("cannot resolve an empty host"));
    } else if (port < 0 || port > 65535) {
      Answer(lookup, Status::InvalidArgument("cannot resolve " + host + ": port " +
                                             std::to_string(port) + " out of range"));
    } else if (std::optional<NetAddress> numeric =
                   ParseNumericAddress(host, static_cast<uint16_t>(port))) {
      Answer(lookup, std::vector<NetAddress>{*numeric});
    } else {
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
      Answer(lookup, std::move(result));
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
