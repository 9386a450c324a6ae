// Elector unit tests over the in-memory lease backend, with a FakeClock driving every TTL,
// renew and deadline. Time moves only through Step()/Advance; the elector re-reads the fake
// clock every real millisecond, and Settle() waits (polling) until it has done everything
// due by the current fake time.
#include "lock/elector.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lock/lease_table.h"
#include "lock/mem_lease_backend.h"
#include "test/fakes/fake_clock.h"
#include "test/lock/fault_lock_backend.h"
#include "test/support/subprocess.h"

namespace halo::lock {
namespace {

using halo::testing::PollUntil;
using testing::Fault;
using testing::FaultLockBackend;

constexpr auto kPoll = std::chrono::seconds(20);

ElectorOptions TestOptions(const std::string& value) {
  ElectorOptions o;
  o.ttl = seconds(15);
  o.renew_every = seconds(5);
  o.renew_deadline = seconds(10);
  o.retry = seconds(1);
  o.jitter = Duration::zero();
  o.op_timeout = seconds(2);
  o.stepdown_backoff = seconds(10);
  o.value = value;
  return o;
}

// One node: a lease client (behind a fault injector) and its elector, recording callbacks.
struct Node {
  Node(FakeClock* clock, std::shared_ptr<LeaseTable> table, const std::string& value,
       ElectorCallbacks extra = {})
      : client(std::move(table)), backend(&client, clock) {
    ElectorCallbacks cb = std::move(extra);
    cb.on_active = [this](uint64_t epoch) {
      std::lock_guard<std::mutex> l(mu);
      events.push_back("active:" + std::to_string(epoch));
      epochs.push_back(epoch);
    };
    cb.on_standby = [this](StandbyReason r, const std::string&) {
      std::lock_guard<std::mutex> l(mu);
      events.push_back(std::string("standby:") + StandbyReasonName(r));
    };
    elector = std::make_unique<Elector>(&backend, clock, TestOptions(value), std::move(cb));
  }
  ~Node() { elector->Stop(); }
  std::vector<std::string> Events() {
    std::lock_guard<std::mutex> l(mu);
    return events;
  }
  std::vector<uint64_t> Epochs() {
    std::lock_guard<std::mutex> l(mu);
    return epochs;
  }
  bool Saw(const std::string& event) {
    std::lock_guard<std::mutex> l(mu);
    for (const std::string& e : events) {
      if (e == event) return true;
    }
    return false;
  }

  MemLeaseBackend client;
  FaultLockBackend backend;
  std::unique_ptr<Elector> elector;
  std::mutex mu;
  std::vector<std::string> events;
  std::vector<uint64_t> epochs;
};

struct Cluster {
  FakeClock clock;
  std::shared_ptr<LeaseTable> table = std::make_shared<LeaseTable>(&clock);
  std::vector<std::unique_ptr<Node>> nodes;

  Node& Add(const std::string& value, ElectorCallbacks extra = {}) {
    nodes.push_back(std::make_unique<Node>(&clock, table, value, std::move(extra)));
    return *nodes.back();
  }
  bool Quiescent() {
    for (auto& n : nodes) {
      if (!n->elector->QuiescentForTest()) return false;
    }
    return true;
  }
  void Settle() {
    REQUIRE(PollUntil([&] { return Quiescent(); }, kPoll));
  }
  // Adds a node, starts its elector and waits until every elector is idle.
  Node& AddStarted(const std::string& value, ElectorCallbacks extra = {}) {
    Node& n = Add(value, std::move(extra));
    REQUIRE(n.elector->Start().ok());
    Settle();
    return n;
  }
  // A lone active whose first renew (5 s in) hangs in the backend until interrupted.
  Node& AddActiveWithHungRenew(const std::string& value) {
    Node& n = AddStarted(value);
    n.backend.SetRenewFault(Fault::kHang);
    clock.Advance(seconds(5));
    REQUIRE(PollUntil([&] { return n.backend.hanging(); }, kPoll));
    return n;
  }
  void Step(Duration d) {
    clock.Advance(d);
    Settle();
  }
  ~Cluster() {
    for (auto& n : nodes) n->elector->Stop();
  }
};

TEST_CASE("elector: acquires a free lock, advertises its value, writes with its epoch") {
  Cluster c;
  Node& n = c.AddStarted("node-a");
  REQUIRE(PollUntil([&] { return n.Saw("active:1"); }, kPoll));
  CHECK(n.elector->ActiveEpoch() == 1);
  CHECK(n.elector->IsActive());
  CHECK(n.elector->MayWrite(1));
  CHECK_FALSE(n.elector->MayWrite(2));
  CHECK_FALSE(n.elector->MayWrite(0));
  Result<std::optional<Holder>> h = n.elector->CurrentHolder();
  REQUIRE(h.ok());
  REQUIRE(h->has_value());
  CHECK((*h)->value == "node-a");
  CHECK((*h)->epoch == 1);
  CHECK(n.elector->Stats().terms == 1);
}

TEST_CASE("elector: Start validates options and runs once") {
  FakeClock clock;
  MemLeaseBackend b(std::make_shared<LeaseTable>(&clock));
  ElectorOptions bad = TestOptions("v");
  bad.renew_deadline = seconds(20);
  Elector e1(&b, &clock, bad, {});
  Status s = e1.Start();
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().find("renew_deadline") != std::string::npos);
  Elector e2(&b, &clock, TestOptions("v"), {});
  REQUIRE(e2.Start().ok());
  CHECK_FALSE(e2.Start().ok());
  e2.Stop();
  e2.Stop();  // idempotent
}

TEST_CASE("elector: renews every renew_every (ttl/3) and keeps the lease beyond ttl") {
  Cluster c;
  Node& n = c.Add("node-a");
  TimePoint t0 = c.clock.Now();
  REQUIRE(n.elector->Start().ok());
  c.Settle();
  REQUIRE(n.elector->MayWrite(1));
  for (int i = 0; i < 40; ++i) {
    c.Step(milliseconds(500));
    CHECK(n.elector->MayWrite(1));
  }
  // 20 s: renews at exactly 5, 10, 15, 20 s after the acquire.
  std::vector<TimePoint> times = n.backend.renew_times();
  REQUIRE(times.size() == 4);
  for (size_t i = 0; i < times.size(); ++i) {
    CHECK(times[i] - t0 == seconds(5) * static_cast<int>(i + 1));
  }
  CHECK(n.elector->ActiveEpoch() == 1);
  CHECK(c.table->Read()->epoch == 1);
  CHECK(n.Events() == std::vector<std::string>{"active:1"});
}

TEST_CASE("elector: a renew with unknown outcome never extends the deadline; self-fence") {
  Cluster c;
  Node& n = c.AddStarted("node-a");
  REQUIRE(n.elector->MayWrite(1));
  // The renews reach the lock server (which extends the lease) but the replies are lost.
  n.backend.SetRenewFault(Fault::kLoseReply);
  n.backend.SetAcquireFault(Fault::kLoseRequest);  // and no re-acquire afterwards
  c.Step(seconds(5));                              // renew at 5 s: unknown
  CHECK(n.backend.renews() == 1);
  for (int i = 0; i < 4; ++i) c.Step(seconds(1));  // retried at 6..9 s: all unknown
  CHECK(n.backend.renews() == 5);
  CHECK(n.elector->Stats().renews_failed == 5);
  c.Step(milliseconds(999));
  CHECK(n.elector->MayWrite(1));  // 9.999 s: still inside send(acquire) + renew_deadline
  c.clock.Advance(milliseconds(1));
  CHECK_FALSE(n.elector->MayWrite(1));  // 10 s: fenced at once, before any thread runs
  c.Settle();
  CHECK(n.Saw("standby:self-fence"));
  CHECK(n.elector->ActiveEpoch() == 0);
  CHECK(n.backend.releases() >= 1);  // best-effort release after the fence
}

TEST_CASE("elector: self-fences at the deadline even while a renew call hangs") {
  Cluster c;
  Node& n = c.AddActiveWithHungRenew("node-a");
  c.clock.Advance(milliseconds(4999));
  CHECK(n.elector->MayWrite(1));
  c.clock.Advance(milliseconds(1));
  CHECK_FALSE(n.elector->MayWrite(1));
  // The watchdog ends the term while the worker is still stuck in Renew.
  REQUIRE(PollUntil([&] { return n.Saw("standby:self-fence"); }, kPoll));
  CHECK(n.backend.hanging());
  CHECK(n.elector->ActiveEpoch() == 0);
  // When the call finally returns, the old term stays over; the node competes again and,
  // the lock having been released, gets a new, larger epoch.
  n.backend.SetRenewFault(Fault::kNone);
  n.backend.Unhang();
  REQUIRE(PollUntil([&] { return n.Saw("active:2"); }, kPoll));
  CHECK_FALSE(n.elector->MayWrite(1));
  CHECK(n.elector->MayWrite(2));
}

TEST_CASE("elector: a renew that succeeds after the deadline does not revive the term") {
  Cluster c;
  Node& n = c.AddStarted("node-a");
  n.backend.SetRenewFault(Fault::kHang);
  n.backend.SetAcquireFault(Fault::kLoseRequest);
  c.clock.Advance(seconds(5));
  REQUIRE(PollUntil([&] { return n.backend.hanging(); }, kPoll));
  c.clock.Advance(seconds(6));  // past the 10 s deadline
  REQUIRE(PollUntil([&] { return n.Saw("standby:self-fence"); }, kPoll));
  n.backend.Unhang(/*proceed=*/true);  // the renew now reaches the server and succeeds
  c.Settle();
  CHECK(n.elector->Stats().renews_ok == 1);
  CHECK_FALSE(n.elector->MayWrite(1));
  CHECK(n.Events() == std::vector<std::string>{"active:1", "standby:self-fence"});
}

TEST_CASE("elector: NotHeld ends the term; the node becomes standby behind the new holder") {
  Cluster c;
  Node& a = c.AddStarted("node-a");
  REQUIRE(a.elector->MayWrite(1));
  // The lock server loses the lease (e.g. a failover) and another client takes it.
  c.table->DropLeaseForTest();
  MemLeaseBackend other(c.table);
  AcquireRequest req{NewLockToken(), "intruder", seconds(60), Duration::zero(), 0};
  REQUIRE(other.TryAcquire(req, seconds(1)).ok());
  c.Step(seconds(5));  // the next renew says: not held
  CHECK(a.Saw("standby:lock lost"));
  CHECK_FALSE(a.elector->MayWrite(1));
  CHECK(a.elector->ActiveEpoch() == 0);
  Result<std::optional<Holder>> h = a.elector->CurrentHolder();
  REQUIRE(h.ok());
  REQUIRE(h->has_value());
  CHECK((*h)->value == "intruder");
  CHECK((*h)->epoch == 2);
  // Standby retries every second without success.
  int attempts = static_cast<int>(a.elector->Stats().acquire_attempts);
  for (int i = 0; i < 3; ++i) c.Step(seconds(1));
  CHECK(static_cast<int>(a.elector->Stats().acquire_attempts) == attempts + 3);
  CHECK(a.elector->ActiveEpoch() == 0);
}

TEST_CASE("elector: step-down stops writes before releasing and backs off for 10 s") {
  Cluster c;
  Node& n = c.AddStarted("node-a");
  REQUIRE(n.elector->MayWrite(1));
  bool may_write_at_release = true;
  n.backend.OnRelease([&] { may_write_at_release = n.elector->MayWrite(1); });
  CHECK(n.elector->StepDown());
  CHECK_FALSE(n.elector->MayWrite(1));
  c.Settle();
  CHECK(n.Saw("standby:step-down"));
  CHECK(n.backend.releases() == 1);
  CHECK_FALSE(may_write_at_release);
  CHECK_FALSE(c.table->Read().has_value());  // released at once
  CHECK_FALSE(n.elector->StepDown());        // not active: no-op
  const int attempts = n.backend.acquires();
  for (int i = 0; i < 99; ++i) c.Step(milliseconds(100));  // 9.9 s
  c.Step(milliseconds(99));                                // 9.999 s
  CHECK(n.backend.acquires() == attempts);
  CHECK(n.elector->ActiveEpoch() == 0);
  c.Step(milliseconds(1));  // 10 s: competes again and wins the free lock
  CHECK(n.backend.acquires() == attempts + 1);
  CHECK(n.Saw("active:2"));
  CHECK(n.elector->MayWrite(2));
}

TEST_CASE("elector: a stepped-down node leaves the lock to a waiting standby") {
  Cluster c;
  Node& a = c.AddStarted("node-a");
  Node& b = c.AddStarted("node-b");
  CHECK(b.elector->ActiveEpoch() == 0);
  REQUIRE(a.elector->StepDown());
  c.Step(seconds(1));  // b's next retry
  CHECK(b.Saw("active:2"));
  for (int i = 0; i < 30; ++i) c.Step(seconds(1));  // a's back-off ends; b keeps renewing
  CHECK(b.elector->MayWrite(2));
  CHECK(a.elector->ActiveEpoch() == 0);
  CHECK(a.backend.acquires() > 1);  // a competes again (and loses)
}

TEST_CASE("elector: contention: exactly one active; Stop hands over; epochs increase") {
  Cluster c;
  for (const char* v : {"node-a", "node-b", "node-c"}) c.Add(v);
  for (auto& n : c.nodes) REQUIRE(n->elector->Start().ok());
  std::vector<uint64_t> all;
  for (int round = 0; round < 3; ++round) {
    c.Settle();
    int active = 0;
    Node* leader = nullptr;
    for (auto& n : c.nodes) {
      if (n->elector->IsActive()) {
        ++active;
        leader = n.get();
      }
    }
    REQUIRE(active == 1);
    all.push_back(leader->elector->ActiveEpoch());
    leader->elector->Stop();  // releases: another node wins at its next retry
    CHECK_FALSE(leader->elector->MayWrite(all.back()));
    c.nodes.erase(
        std::find_if(c.nodes.begin(), c.nodes.end(), [&](auto& n) { return n.get() == leader; }));
    if (c.nodes.empty()) break;
    c.Step(seconds(1));
  }
  REQUIRE(all.size() == 3);
  CHECK(all[0] < all[1]);
  CHECK(all[1] < all[2]);
}

TEST_CASE("elector: epochs strictly increase over many terms and respect epoch_floor") {
  Cluster c;
  uint64_t floor = 100;
  ElectorCallbacks extra;
  extra.epoch_floor = [&floor] { return floor; };
  Node& n = c.Add("node-a", extra);
  REQUIRE(n.elector->Start().ok());
  c.Settle();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(n.elector->StepDown());
    c.Step(seconds(10));
  }
  std::vector<uint64_t> epochs = n.Epochs();
  REQUIRE(epochs.size() == 5);
  CHECK(epochs[0] == 101);
  for (size_t i = 1; i < epochs.size(); ++i) CHECK(epochs[i] > epochs[i - 1]);
  // A lock server that lost its counter still yields epochs above everything seen.
  c.table->SetFenceForTest(0);
  REQUIRE(n.elector->StepDown());
  c.Step(seconds(10));
  REQUIRE(n.Epochs().size() == 6);
  CHECK(n.Epochs().back() > epochs.back());
}

TEST_CASE("elector: an acquire with unknown outcome is released by token") {
  Cluster c;
  Node& n = c.Add("node-a");
  n.backend.SetAcquireFault(Fault::kLoseReply);
  REQUIRE(n.elector->Start().ok());
  c.Settle();
  CHECK(n.elector->ActiveEpoch() == 0);
  CHECK(n.backend.releases() == 1);
  CHECK_FALSE(c.table->Read().has_value());  // no orphan lease left to expire
  n.backend.SetAcquireFault(Fault::kNone);
  c.Step(seconds(1));
  CHECK(n.elector->IsActive());
}

TEST_CASE("elector: a crashed holder's lease expires after ttl; the standby takes over") {
  Cluster c;
  MemLeaseBackend crashed(c.table);
  AcquireRequest req{NewLockToken(), "crashed", seconds(15), Duration::zero(), 0};
  REQUIRE(crashed.TryAcquire(req, seconds(1)).ok());
  Node& n = c.Add("node-b");
  REQUIRE(n.elector->Start().ok());
  for (int i = 0; i < 14; ++i) c.Step(seconds(1));
  CHECK(n.elector->ActiveEpoch() == 0);
  c.Step(seconds(1));  // 15 s: expired
  CHECK(n.elector->ActiveEpoch() == 2);
}

TEST_CASE("elector: Stop ends the term, releases, and does not hang on a hung renew") {
  Cluster c;
  Node& n = c.AddActiveWithHungRenew("node-a");
  n.elector->Stop();  // interrupts the backend, which ends the hung call
  CHECK_FALSE(n.elector->MayWrite(1));
  CHECK(n.Events() == std::vector<std::string>{"active:1", "standby:stopping"});
  CHECK(n.backend.releases() == 1);
  CHECK_FALSE(c.table->Read().has_value());
}

TEST_CASE("elector: a node that stops making progress ends its own term (stalled)") {
  Cluster c;
  std::atomic<int64_t> progress_ns{c.clock.Now().time_since_epoch().count()};
  ElectorCallbacks cb;
  cb.last_progress = [&] { return TimePoint(Duration(progress_ns.load())); };
  Node& a = c.AddStarted("a", cb);
  REQUIRE(PollUntil([&] { return a.Saw("active:1"); }, kPoll));
  // Progress keeps up: beats every liveness_timeout / 6 (500 ms) never end the term.
  for (int i = 0; i < 12; ++i) {
    c.Step(milliseconds(500));
    progress_ns = c.clock.Now().time_since_epoch().count();
  }
  CHECK(a.elector->IsActive());
  // The serving loop hangs: past liveness_timeout (3 s) the term ends, the lock is released.
  c.Step(milliseconds(2500));
  CHECK(a.elector->IsActive());
  c.Step(milliseconds(1000));
  CHECK_FALSE(a.elector->IsActive());
  CHECK(a.Saw("standby:stalled"));
  CHECK(a.elector->Stats().releases >= 1);
  Node& b = c.AddStarted("b");
  c.Step(seconds(1));
  REQUIRE(PollUntil([&] { return b.Saw("active:2"); }, kPoll));
}

}  // namespace
}  // namespace halo::lock
