// One conformance suite for every net::Resolver (common/net/resolver.h), templated over an
// implementation harness: getaddrinfo and c-ares.
// Answers are awaited by pumping a test-owned event loop until a deadline, never by sleeping.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <event2/event.h>
#include <netinet/in.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/loop_task_queue.h"
#include "common/net/ares_resolver.h"
#include "common/net/getaddrinfo_resolver.h"
#include "common/net/resolver.h"

namespace halo::net {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);
constexpr char kInvalidName[] = "no-such-host.invalid";  // RFC 6761: never resolves

struct GetaddrinfoImpl {
  static std::unique_ptr<Resolver> Make() { return NewGetaddrinfoResolver(); }
};

struct AresImpl {
  static std::unique_ptr<Resolver> Make() {
    Result<std::unique_ptr<Resolver>> r = NewAresResolver();
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

// The caller's side: a loop on the test thread and a queue the answers come back on.
class Loop {
 public:
  Loop() : base_(event_base_new()) {
    REQUIRE(base_ != nullptr);
    Result<std::shared_ptr<LoopTaskQueue>> q = LoopTaskQueue::Create(base_);
    REQUIRE(q.ok());
    queue_ = *q;
  }
  ~Loop() {
    queue_->Close();
    queue_.reset();
    event_base_free(base_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  const std::shared_ptr<LoopTaskQueue>& queue() const { return queue_; }

  // Runs the loop (waking at least every 5 ms) until `done()` or the deadline.
  template <class F>
  bool RunUntil(F done) {
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      timeval tv{0, 5000};
      event_base_loopexit(base_, &tv);
      event_base_loop(base_, 0);
    }
    return true;
  }
  // Runs every task already posted (and those they post) without blocking.
  void Drain() {
    for (int i = 0; i < 3; ++i) event_base_loop(base_, EVLOOP_NONBLOCK);
  }

 private:
  event_base* base_;
  std::shared_ptr<LoopTaskQueue> queue_;
};

// One request's outcome as the callback saw it.
struct Answer {
  int calls = 0;
  std::optional<Result<std::vector<NetAddress>>> result;
};

std::unique_ptr<Resolver::Handle> Start(Resolver& r, Loop& loop, const std::string& host, int port,
                                        Answer* out) {
  return r.Resolve(host, port, loop.queue(), [out](Result<std::vector<NetAddress>> res) {
    ++out->calls;
    out->result.emplace(std::move(res));
  });
}

uint16_t Port(const NetAddress& a) {
  if (a.ss.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_port);
}

bool IsLoopback(const NetAddress& a) {
  std::string ip = IpString(a.sa());
  return ip == "::1" || ip.rfind("127.", 0) == 0;
}

}  // namespace
}  // namespace halo::net

TYPE_TO_STRING(halo::net::GetaddrinfoImpl);

namespace halo::net {
namespace {

TEST_CASE_TEMPLATE("Resolver: numeric IPv4 and IPv6 answer themselves", T, GetaddrinfoImpl,
                   AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Loop loop;
  Answer v4, v6;
  auto h4 = Start(*r, loop, "192.0.2.7", 8200, &v4);
  auto h6 = Start(*r, loop, "2001:db8::7", 443, &v6);
  CHECK(v4.calls == 0);  // never inside Resolve(), even for a numeric host
  CHECK(v6.calls == 0);
  REQUIRE(loop.RunUntil([&] { return v4.calls > 0 && v6.calls > 0; }));
  REQUIRE(v4.result->ok());
  REQUIRE((*v4.result)->size() == 1);
  CHECK((*v4.result)->front().ss.ss_family == AF_INET);
  CHECK(IpString((*v4.result)->front().sa()) == "192.0.2.7");
  CHECK(Port((*v4.result)->front()) == 8200);
  REQUIRE(v6.result->ok());
  REQUIRE((*v6.result)->size() == 1);
  CHECK((*v6.result)->front().ss.ss_family == AF_INET6);
  CHECK(IpString((*v6.result)->front().sa()) == "2001:db8::7");
  CHECK(Port((*v6.result)->front()) == 443);
  CHECK(v4.calls == 1);
  CHECK(v6.calls == 1);
}

TEST_CASE_TEMPLATE("Resolver: localhost resolves to loopback, after Resolve() returns", T,
                   GetaddrinfoImpl, AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Loop loop;
  Answer a;
  auto h = Start(*r, loop, "localhost", 8201, &a);
  CHECK(a.calls == 0);  // the answer comes later, on the loop
  REQUIRE(loop.RunUntil([&] { return a.calls > 0; }));
  REQUIRE(a.result->ok());
  const std::vector<NetAddress>& addrs = **a.result;
  REQUIRE(!addrs.empty());
  for (size_t i = 0; i < addrs.size(); ++i) {
    CHECK(IsLoopback(addrs[i]));
    CHECK(Port(addrs[i]) == 8201);
    for (size_t j = 0; j < i; ++j) CHECK(IpString(addrs[i].sa()) != IpString(addrs[j].sa()));
  }
}

TEST_CASE_TEMPLATE("Resolver: an unresolvable name is kUnavailable naming the host", T,
                   GetaddrinfoImpl, AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Loop loop;
  Answer a;
  auto h = Start(*r, loop, kInvalidName, 80, &a);
  CHECK(a.calls == 0);
  REQUIRE(loop.RunUntil([&] { return a.calls > 0; }));
  REQUIRE(!a.result->ok());
  CHECK(a.result->status().code() == Status::Code::kUnavailable);
  CHECK(a.result->status().message().find(std::string("cannot resolve ") + kInvalidName + ": ") ==
        0);
}

TEST_CASE_TEMPLATE("Resolver: an empty host or a bad port is kInvalidArgument", T, GetaddrinfoImpl,
                   AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Loop loop;
  Answer empty, negative, big;
  auto h1 = Start(*r, loop, "", 80, &empty);
  auto h2 = Start(*r, loop, "localhost", -1, &negative);
  auto h3 = Start(*r, loop, "127.0.0.1", 65536, &big);
  CHECK(empty.calls + negative.calls + big.calls == 0);
  REQUIRE(loop.RunUntil([&] { return empty.calls && negative.calls && big.calls; }));
  for (Answer* a : {&empty, &negative, &big}) {
    REQUIRE(!a->result->ok());
    CHECK(a->result->status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE_TEMPLATE("Resolver: a cancelled request never calls back", T, GetaddrinfoImpl, AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Loop loop;
  Answer numeric, name, destroyed, kept;
  // The numeric answer is already posted when Resolve() returns: Cancel() must still win.
  auto h1 = Start(*r, loop, "127.0.0.1", 1, &numeric);
  h1->Cancel();
  h1->Cancel();  // idempotent
  auto h2 = Start(*r, loop, "localhost", 1, &name);
  h2->Cancel();
  auto h3 = Start(*r, loop, "localhost", 1, &destroyed);
  h3.reset();  // destroying the handle cancels too
  auto h4 = Start(*r, loop, "localhost", 1, &kept);
  REQUIRE(loop.RunUntil([&] { return kept.calls > 0; }));
  // Destroying the resolver joins its threads: nothing more can be posted, and Drain() runs
  // whatever was; the cancelled callbacks must not be among it.
  r.reset();
  loop.Drain();
  CHECK(numeric.calls == 0);
  CHECK(name.calls == 0);
  CHECK(destroyed.calls == 0);
  CHECK(kept.calls == 1);
}

TEST_CASE_TEMPLATE("Resolver: many concurrent requests are all answered", T, GetaddrinfoImpl,
                   AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Loop loop;
  constexpr int kRequests = 200;
  std::vector<Answer> answers(kRequests);
  std::vector<std::unique_ptr<Resolver::Handle>> handles;
  for (int i = 0; i < kRequests; ++i) {
    const char* host = i % 3 == 0 ? "127.0.0.1" : (i % 3 == 1 ? "localhost" : "::1");
    handles.push_back(Start(*r, loop, host, 1000 + i, &answers[i]));
  }
  REQUIRE(loop.RunUntil([&] {
    for (const Answer& a : answers) {
      if (a.calls == 0) return false;
    }
    return true;
  }));
  for (int i = 0; i < kRequests; ++i) {
    CAPTURE(i);
    CHECK(answers[i].calls == 1);
    REQUIRE(answers[i].result->ok());
    REQUIRE(!(*answers[i].result)->empty());
    CHECK(IsLoopback((*answers[i].result)->front()));
    CHECK(Port((*answers[i].result)->front()) == 1000 + i);
  }
}

TEST_CASE_TEMPLATE("Resolver: destruction with requests in flight is safe", T, GetaddrinfoImpl,
                   AresImpl) {
  Loop loop;
  constexpr int kRequests = 64;
  std::vector<Answer> answers(kRequests);
  std::vector<std::unique_ptr<Resolver::Handle>> handles;
  {
    std::unique_ptr<Resolver> r = T::Make();
    for (int i = 0; i < kRequests; ++i) {
      handles.push_back(Start(*r, loop, i % 2 ? "localhost" : kInvalidName, 80, &answers[i]));
    }
  }  // destroyed with most requests queued or in progress
  loop.Drain();
  for (const Answer& a : answers) CHECK(a.calls <= 1);  // answered at most once, maybe not
  handles.clear();                                      // handles may outlive the resolver
  loop.Drain();
}

TEST_CASE_TEMPLATE("ResolveBlocking / ResolveHostPort: startup helpers over the seam", T,
                   GetaddrinfoImpl, AresImpl) {
  std::unique_ptr<Resolver> r = T::Make();
  Result<NetAddress> numeric = ResolveHostPort(*r, "127.0.0.1", 8202);
  REQUIRE(numeric.ok());
  CHECK(IpString(numeric->sa()) == "127.0.0.1");
  CHECK(Port(*numeric) == 8202);
  Result<std::vector<NetAddress>> local = ResolveBlocking(*r, "localhost", 8203);
  REQUIRE(local.ok());
  REQUIRE(!local->empty());
  CHECK(IsLoopback(local->front()));
  Result<NetAddress> bad = ResolveHostPort(*r, kInvalidName, 80);
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == Status::Code::kUnavailable);
  CHECK(bad.status().message().find(kInvalidName) != std::string::npos);
  Result<NetAddress> empty = ResolveHostPort(*r, "", 80);
  REQUIRE(!empty.ok());
  CHECK(empty.status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("GetaddrinfoResolver: a full queue answers kUnavailable, every request exactly once") {
  GetaddrinfoResolverOptions options;
  options.threads = 1;
  options.max_queued = 2;
  std::unique_ptr<Resolver> r = NewGetaddrinfoResolver(options);
  Loop loop;
  constexpr int kRequests = 100;
  std::vector<Answer> answers(kRequests);
  std::vector<std::unique_ptr<Resolver::Handle>> handles;
  for (int i = 0; i < kRequests; ++i)
    handles.push_back(Start(*r, loop, "localhost", 80, &answers[i]));
  REQUIRE(loop.RunUntil([&] {
    for (const Answer& a : answers) {
      if (a.calls == 0) return false;
    }
    return true;
  }));
  int ok = 0;
  for (const Answer& a : answers) {
    CHECK(a.calls == 1);
    if (a.result->ok()) {
      ++ok;
    } else {
      CHECK(a.result->status().code() == Status::Code::kUnavailable);
      CHECK(a.result->status().message().find("resolver queue full") != std::string::npos);
    }
  }
  CHECK(ok >= 1);
}

}  // namespace
}  // namespace halo::net
