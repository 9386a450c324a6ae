// Integration: three real halo-node processes on one LMDB directory. Roles, standby reads,
// forwarding, 307, 503, the blocking sys/leader query.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test/node/local_cluster.h"
#include "test/support/http_test_client.h"

namespace halo::node::testing {
namespace {

using halo::testing::PollUntil;
using Clock = std::chrono::steady_clock;

const char kSecret[] = R"({"data":{"password":"hunter2"}})";

int Standby(LocalCluster& c, int active, int nth = 0) {
  for (int i = 0; i < c.size(); ++i) {
    if (i != active && nth-- == 0) return i;
  }
  return -1;
}

TEST_CASE("node cluster: exactly one node is active, the others stand by") {
  LocalCluster c;
  REQUIRE(c.Start());
  int active = c.Active();
  REQUIRE(active >= 0);
  int ok = 0, standby = 0;
  for (int i = 0; i < c.size(); ++i) {
    int h = c.Health(i);
    ok += h == 200;
    standby += h == 429;
  }
  CHECK(ok == 1);
  CHECK(standby == 2);
  // standbyok turns a standby's 429 into 200; HEAD has no body.
  auto sb = c.Call(Standby(c, active), "GET", "/v1/sys/health?standbyok=true");
  REQUIRE(sb.ok());
  CHECK(sb->status == 200);
  CHECK(JsonString(sb->body, {"cluster_name"}) == "node-it");
  // Every node names the same leader and index in sys/leader.
  int64_t index = -1;
  for (int i = 0; i < c.size(); ++i) {
    auto r = c.Call(i, "GET", "/v1/sys/leader");
    REQUIRE(r.ok());
    CHECK(JsonString(r->body, {"leader_address"}) == c.api_addr(active));
    int64_t idx = JsonInt(r->body, {"index"});
    CHECK(idx > 0);
    if (index < 0) index = idx;
    CHECK(idx == index);
  }
  CHECK(c.log(active).find("acquired lock, enabling active operation") != std::string::npos);
  CHECK(c.log(0).find("Storage: lmdb (HA available)") != std::string::npos);
}

TEST_CASE("node cluster: a KV v2 write sent to a standby lands and is readable on every node") {
  LocalCluster c;
  REQUIRE(c.Start());
  int active = c.Active();
  int standby = Standby(c, active);
  auto w = c.Call(standby, "PUT", "/v1/secret/data/app/db", kSecret);
  REQUIRE(w.ok());
  CHECK_MESSAGE(w->status == 200, w->body);
  CHECK(JsonInt(w->body, {"data", "version"}) == 1);
  for (int i = 0; i < c.size(); ++i) {
    auto r = c.Call(i, "GET", "/v1/secret/data/app/db");
    REQUIRE(r.ok());
    CHECK_MESSAGE(r->status == 200, "node ", i, ": ", r->body);
    CHECK(JsonString(r->body, {"data", "data", "password"}) == "hunter2");
  }
  // KV v1 through the other standby, then a LIST from the first.
  auto v1 = c.Call(Standby(c, active, 1), "POST", "/v1/kv/team/a", R"({"k":"v"})");
  REQUIRE(v1.ok());
  CHECK(v1->status == 204);
  auto list = c.Call(standby, "LIST", "/v1/kv/team");
  REQUIRE(list.ok());
  CHECK(list->status == 200);
  CHECK(list->body.find("\"a\"") != std::string::npos);
  // Reads are served by the standby itself: with the no-forwarding header a read is 200.
  http::Headers no_fwd{{"X-Vault-No-Request-Forwarding", "true"}};
  auto local = c.Call(standby, "GET", "/v1/secret/data/app/db", {}, no_fwd);
  REQUIRE(local.ok());
  CHECK(local->status == 200);
}

TEST_CASE("node cluster: X-Vault-No-Request-Forwarding gets a 307 to the active's api_addr") {
  LocalCluster c;
  REQUIRE(c.Start());
  int active = c.Active();
  int standby = Standby(c, active);
  http::Headers no_fwd{{"X-Vault-No-Request-Forwarding", "1"}};
  auto r = c.Call(standby, "PUT", "/v1/secret/data/x?cas=0", kSecret, no_fwd);
  REQUIRE(r.ok());
  CHECK(r->status == 307);
  CHECK(r->headers.Get("Location") == c.api_addr(active) + "/v1/secret/data/x?cas=0");
  // Nothing was written.
  auto read = c.Call(active, "GET", "/v1/secret/data/x");
  REQUIRE(read.ok());
  CHECK(read->status == 404);
  // Following the redirect by hand works.
  auto follow = c.Call(active, "PUT", "/v1/secret/data/x?cas=0", kSecret, no_fwd);
  REQUIRE(follow.ok());
  CHECK(follow->status == 200);
}

TEST_CASE("node cluster: disable_request_forwarding answers 307, disable_standby_reads forwards") {
  ClusterOptions options;
  options.nodes = 2;
  options.extra_json = R"("disable_request_forwarding": true, "disable_standby_reads": true)";
  LocalCluster c(options);
  REQUIRE(c.Start());
  int active = c.Active();
  int standby = 1 - active;
  auto w = c.Call(standby, "PUT", "/v1/secret/data/x", kSecret);
  REQUIRE(w.ok());
  CHECK(w->status == 307);
  auto r = c.Call(standby, "GET", "/v1/secret/data/x");
  REQUIRE(r.ok());
  CHECK(r->status == 307);  // reads go to the active too
  CHECK(r->headers.Get("Location") == c.api_addr(active) + "/v1/secret/data/x");
}

TEST_CASE(
    "node cluster: a standby with no active node answers 503; the stepped-down "
    "node waits 10 s before taking the lock again") {
  ClusterOptions options;
  options.nodes = 1;
  LocalCluster c(options);
  REQUIRE(c.Start());
  REQUIRE(c.Active() == 0);
  auto down = c.Call(0, "PUT", "/v1/sys/step-down");
  REQUIRE(down.ok());
  CHECK(down->status == 204);
  Clock::time_point stepped = Clock::now();
  CHECK(c.Health(0) == 429);
  auto w = c.Call(0, "PUT", "/v1/secret/data/x", kSecret);
  REQUIRE(w.ok());
  CHECK(w->status == 503);
  CHECK(w->body.find("no active node") != std::string::npos);
  auto leader = c.Call(0, "GET", "/v1/sys/leader");
  CHECK(JsonString(leader->body, {"leader_address"}).empty());
  // Reads still work on the standby.
  CHECK(c.Call(0, "GET", "/v1/secret/data/x")->status == 404);

  // Nobody else competes, yet the node must not take the lock back for 10 s.
  bool reacquired = PollUntil([&] { return c.Health(0) == 200; }, std::chrono::seconds(20),
                              std::chrono::milliseconds(50));
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stepped);
  REQUIRE(reacquired);
  MESSAGE("re-acquired the lock " << waited.count() << " ms after sys/step-down");
  CHECK(waited >= std::chrono::milliseconds(9800));
  auto again = c.Call(0, "PUT", "/v1/secret/data/x", kSecret);
  REQUIRE(again.ok());
  CHECK(again->status == 200);
}

TEST_CASE("node cluster: sys/step-down hands over to another node at once") {
  LocalCluster c;
  REQUIRE(c.Start());
  int old_active = c.Active();
  int standby = Standby(c, old_active);
  Clock::time_point t0 = Clock::now();
  // Sent to a standby, the step-down is forwarded to the active.
  auto r = c.Call(standby, "PUT", "/v1/sys/step-down");
  REQUIRE(r.ok());
  CHECK_MESSAGE(r->status == 204, r->body);
  int next = c.WaitActive(old_active, std::chrono::seconds(5));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  REQUIRE(next >= 0);
  CHECK(next != old_active);
  MESSAGE("step-down hand-over: " << took.count() << " ms until another node answered 200");
  CHECK(c.Health(old_active) == 429);
  // Once the old active sees the new holder, it forwards writes to it.
  REQUIRE(PollUntil(
      [&] {
        auto l = c.Call(old_active, "GET", "/v1/sys/leader");
        return l.ok() && JsonString(l->body, {"leader_address"}) == c.api_addr(next);
      },
      std::chrono::seconds(5)));
  auto w = c.Call(old_active, "PUT", "/v1/secret/data/after", kSecret);  // forwarded
  REQUIRE(w.ok());
  CHECK(w->status == 200);
}

TEST_CASE("node cluster: the blocking sys/leader query answers when the leader changes") {
  LocalCluster c;
  REQUIRE(c.Start());
  int active = c.Active();
  int standby = Standby(c, active);
  auto now = c.Call(standby, "GET", "/v1/sys/leader");
  REQUIRE(now.ok());
  int64_t index = JsonInt(now->body, {"index"});
  REQUIRE(index > 0);
  // A stale index answers at once.
  auto stale = c.Call(standby, "GET", "/v1/sys/leader?index=0&wait=10s");
  REQUIRE(stale.ok());
  CHECK(JsonInt(stale->body, {"index"}) == index);

  Result<http::Response> parked = Status::Internal("not answered");
  Clock::time_point answered;
  std::atomic<bool> sent{false};
  std::thread waiter([&] {
    halo::testing::HttpTestClient client(c.port(standby));
    std::string request = "GET /v1/sys/leader?index=" + std::to_string(index) +
                          "&wait=20s HTTP/1.1\r\nHost: x\r\n\r\n";
    Status st = client.SendRaw(request);
    sent = true;
    if (st.ok()) parked = client.ReadResponse(std::chrono::seconds(25));
    answered = Clock::now();
  });
  REQUIRE(PollUntil([&] { return sent.load(); }, std::chrono::seconds(5)));
  Clock::time_point killed = Clock::now();
  c.Kill(active);
  waiter.join();
  REQUIRE(parked.ok());
  // The query was parked until the kill: answered after it, and long before its 20 s wait
  // ran out (checked below).
  CHECK(answered >= killed);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(answered - killed);
  MESSAGE("blocking sys/leader answered " << took.count() << " ms after SIGKILL of the active");
  CHECK(took < std::chrono::seconds(5));
  CHECK(JsonInt(parked->body, {"index"}) >= index);
}

}  // namespace
}  // namespace halo::node::testing

namespace halo::node::testing {
namespace {

TEST_CASE("node cluster: SIGTERM and SIGINT answer in-flight requests, release the lock, exit 0") {
  ClusterOptions options;
  options.nodes = 2;
  LocalCluster c(options);
  REQUIRE(c.Start());
  for (int sig : {SIGTERM, SIGINT}) {
    CAPTURE(sig);
    int active = c.Active();
    REQUIRE(active >= 0);
    auto leader = c.Call(active, "GET", "/v1/sys/leader");
    REQUIRE(leader.ok());
    int64_t index = JsonInt(leader->body, {"index"});
    // A request in flight on the active: a blocking leader query that would wait 20 s.
    halo::testing::HttpTestClient parked(c.port(active));
    REQUIRE(parked
                .SendRaw("GET /v1/sys/leader?index=" + std::to_string(index) +
                         "&wait=20s HTTP/1.1\r\nHost: x\r\n\r\n")
                .ok());
    // Make sure the node has it before the signal: a second request on another connection
    // is answered after the first was read (same loop).
    REQUIRE(c.Health(active) == 200);
    Clock::time_point t0 = Clock::now();
    c.process(active).Signal(sig);
    auto r = parked.ReadResponse(std::chrono::seconds(10));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());  // answered, not dropped
    CHECK(r->status == 200);
    CHECK(r->headers.Get("Connection") == "close");
    parked.Close();  // as a client does after Connection: close
    // The lock is released once nothing is in flight: the other node takes over.
    int next = c.WaitActive(active, std::chrono::seconds(5));
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    REQUIRE(next == 1 - active);
    MESSAGE("signal " << sig << ": the other node answered 200 after " << took.count() << " ms");
    int status = 0;
    REQUIRE(c.process(active).WaitExit(std::chrono::seconds(10), &status));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(c.log(active).find("stepped down and released the lock") != std::string::npos);
    REQUIRE(c.StartNode(active));  // back as a standby for the next round
    CHECK(c.Health(active) == 429);
  }
}

}  // namespace
}  // namespace halo::node::testing
