// Failover under steady mixed load through halo-router, with three real halo-nodes:
//   SIGTERM of the active and sys/step-down: zero client-visible errors;
//   SIGKILL of the active: the errors clients saw and the write gap, and zero lost
//   acknowledged writes.
// Figures are printed (MESSAGE), not asserted tightly.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"

namespace halo::router::testing {
namespace {

using Clock = std::chrono::steady_clock;
const std::string kToken = std::string("X-Vault-Token: ") + kRootToken;

struct Op {
  bool write;
  Clock::time_point start, end;
  int status;  // 0: no answer (connection failed)
};

struct Acked {
  std::string key, value;
};

class Load {
 public:
  Load(int port, int writers, int readers) : port_(port) {
    for (int i = 0; i < writers; ++i) threads_.emplace_back([this, i] { Writer(i); });
    for (int i = 0; i < readers; ++i) threads_.emplace_back([this, i] { Reader(i); });
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<Op> ops() {
    std::lock_guard<std::mutex> l(mu_);
    return ops_;
  }
  std::vector<Acked> acked() {
    std::lock_guard<std::mutex> l(mu_);
    return acked_;
  }
  size_t writes_done() const { return writes_done_.load(); }

 private:
  std::optional<http::Response> Call(RawClient& c, const std::string& m, const std::string& t,
                                     const std::string& body) {
    if (!c.connected() && !c.Connect(port_)) return std::nullopt;
    auto r = c.Request(m, t, body, {kToken});
    if (!r || !r->keep_alive) c.Close();
    return r;
  }
  void Record(const Op& op) {
    std::lock_guard<std::mutex> l(mu_);
    ops_.push_back(op);
  }
  void Writer(int id) {
    RawClient c;
    for (int seq = 0; !stop_; ++seq) {
      std::string key = "load/w" + std::to_string(id) + "-" + std::to_string(seq);
      std::string value = "v" + std::to_string(seq);
      Op op{true, Clock::now(), {}, 0};
      auto r = Call(c, "PUT", "/v1/secret/data/" + key, R"({"data":{"v":")" + value + "\"}}");
      op.end = Clock::now();
      op.status = r ? r->status : 0;
      Record(op);
      if (op.status == 200) {
        std::lock_guard<std::mutex> l(mu_);
        acked_.push_back({key, value});
      }
      ++writes_done_;
    }
  }
  void Reader(int id) {
    RawClient c;
    for (int i = 0; !stop_; ++i) {
      Op op{false, Clock::now(), {}, 0};
      auto r = Call(c, "GET", "/v1/secret/data/seed/" + std::to_string((i + id) % 20), "");
      op.end = Clock::now();
      op.status = r ? r->status : 0;
      Record(op);
    }
  }

  int port_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> writes_done_{0};
  std::mutex mu_;
  std::vector<Op> ops_;
  std::vector<Acked> acked_;
  std::vector<std::thread> threads_;
};

struct Report {
  size_t ops = 0, writes = 0, reads = 0, errors = 0, write_errors = 0, read_errors = 0;
  std::map<int, int> error_statuses;
  int64_t write_gap_ms = 0;  // longest time without a write completing (after the event)
  int64_t max_write_ms = 0;  // slowest single write
};

Report Analyse(const std::vector<Op>& ops, Clock::time_point event) {
  Report r;
  std::vector<Clock::time_point> write_ends;
  for (const Op& op : ops) {
    ++r.ops;
    (op.write ? r.writes : r.reads)++;
    if (op.status != 200) {
      ++r.errors;
      ++r.error_statuses[op.status];
      (op.write ? r.write_errors : r.read_errors)++;
    }
    if (op.write) {
      r.max_write_ms = std::max<int64_t>(
          r.max_write_ms,
          std::chrono::duration_cast<std::chrono::milliseconds>(op.end - op.start).count());
      if (op.status == 200) write_ends.push_back(op.end);
    }
  }
  std::sort(write_ends.begin(), write_ends.end());
  Clock::time_point prev = event;
  for (Clock::time_point t : write_ends) {
    if (t < event) continue;
    r.write_gap_ms = std::max<int64_t>(
        r.write_gap_ms, std::chrono::duration_cast<std::chrono::milliseconds>(t - prev).count());
    prev = t;
  }
  return r;
}

std::string Describe(const Report& r) {
  std::string s = std::to_string(r.ops) + " ops (" + std::to_string(r.writes) + " writes, " +
                  std::to_string(r.reads) + " reads), " + std::to_string(r.errors) + " errors";
  for (auto [status, n] : r.error_statuses) {
    s += " [" + (status ? std::to_string(status) : std::string("no answer")) + " x" +
         std::to_string(n) + "]";
  }
  s += " (" + std::to_string(r.write_errors) + " on writes, " + std::to_string(r.read_errors) +
       " on reads), write gap " + std::to_string(r.write_gap_ms) + " ms, slowest write " +
       std::to_string(r.max_write_ms) + " ms";
  return s;
}

enum class Event { kSigterm, kStepDown, kSigkill };

Report RunFailover(Event ev, int* lost) {
  NodeCluster nodes;
  REQUIRE(nodes.Start());
  int old_active = nodes.Active();
  REQUIRE(old_active >= 0);
  RouterProcess router;
  REQUIRE(router.Start(RouterConfigJson(
      router.port(), nodes.RouterNodes(),
      R"("health_check":{"interval":"200ms","timeout":"500ms"},"failover_hold_ms":5000)")));
  REQUIRE(router.WaitRoles(nodes.name(old_active), 3));
  for (int i = 0; i < 20; ++i) {
    REQUIRE(HttpCall(router.port(), "PUT", "/v1/secret/data/seed/" + std::to_string(i),
                     R"({"data":{"v":"s"}})", {kToken})
                ->status == 200);
  }
  Load load(router.port(), 2, 2);
  REQUIRE(
      halo::testing::PollUntil([&] { return load.writes_done() >= 50; }, std::chrono::seconds(10)));
  Clock::time_point event = Clock::now();
  switch (ev) {
    case Event::kSigterm:
      nodes.process(old_active).Signal(SIGTERM);
      break;
    case Event::kStepDown:
      REQUIRE(nodes.Call(old_active, "PUT", "/v1/sys/step-down")->status == 204);
      break;
    case Event::kSigkill:
      nodes.process(old_active).Signal(SIGKILL);
      break;
  }
  int new_active = nodes.WaitActive(old_active);
  REQUIRE(new_active >= 0);
  REQUIRE(router.WaitRoles(nodes.name(new_active), ev == Event::kStepDown ? 3 : 2));
  size_t at = load.writes_done();
  CHECK(halo::testing::PollUntil([&] { return load.writes_done() >= at + 100; },
                                 std::chrono::seconds(10)));
  load.Stop();
  // Every acknowledged write is there, read from the new active directly.
  *lost = 0;
  for (const Acked& a : load.acked()) {
    auto r = nodes.Call(new_active, "GET", "/v1/secret/data/" + a.key);
    if (!r || r->status != 200 || KvField(*r, "v") != a.value) ++*lost;
  }
  Report rep = Analyse(load.ops(), event);
  rapidjson::Document st = router.Status();
  MESSAGE("router counters: held_writes " << StatusCounter(st, "held_writes") << ", retries "
                                          << StatusCounter(st, "retries") << ", failovers "
                                          << StatusCounter(st, "failovers") << ", upstream_errors "
                                          << StatusCounter(st, "upstream_errors"));
  return rep;
}

TEST_CASE("failover: SIGTERM of the active under load -> zero client-visible errors") {
  int lost = -1;
  Report r = RunFailover(Event::kSigterm, &lost);
  MESSAGE("SIGTERM: " << Describe(r) << ", lost acknowledged writes " << lost);
  CHECK(r.errors == 0);
  CHECK(lost == 0);
  CHECK(r.write_gap_ms < 5000);  // sanity bound only; the figure is the MESSAGE
}

TEST_CASE("failover: sys/step-down under load -> zero client-visible errors") {
  int lost = -1;
  Report r = RunFailover(Event::kStepDown, &lost);
  MESSAGE("step-down: " << Describe(r) << ", lost acknowledged writes " << lost);
  CHECK(r.errors == 0);
  CHECK(lost == 0);
  CHECK(r.write_gap_ms < 5000);
}

TEST_CASE("failover: SIGKILL of the active under load -> errors seen, write gap, no lost writes") {
  int lost = -1;
  Report r = RunFailover(Event::kSigkill, &lost);
  MESSAGE("SIGKILL: " << Describe(r) << ", lost acknowledged writes " << lost);
  CHECK(lost == 0);
  // Only writes in flight at the kill (or sent into a connection the kill was closing at that
  // instant): their outcome is unknown. Reads are retried.
  CHECK(r.read_errors == 0);
  CHECK(r.errors <= 8);
  CHECK(r.write_gap_ms < 10000);
}

}  // namespace
}  // namespace halo::router::testing
