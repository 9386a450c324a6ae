// Integration: blocking sys/leader queries on real halo-node processes. Clients that park one
// and go away are freed at once (no CLOSE-WAIT sockets left, counted from /proc/net/tcp), the
// parked queries are capped (429), and a step-down pipelined behind a woken query wakes the
// waiters again without crashing any node.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "test/node/local_cluster.h"
#include "test/support/http_test_client.h"
#include "test/support/proc_sockets.h"

namespace halo::node::testing {
namespace {

using halo::testing::HttpTestClient;
using halo::testing::kTcpCloseWait;
using halo::testing::kTcpEstablished;
using halo::testing::PollUntil;
using halo::testing::TcpSocketsOnPort;
using Ms = std::chrono::milliseconds;

std::string BlockingLeader(int64_t index, const std::string& wait) {
  return "GET /v1/sys/leader?index=" + std::to_string(index) + "&wait=" + wait +
         " HTTP/1.1\r\nHost: x\r\n\r\n";
}

// True once a further blocking query to `port` is refused with 429: the cap is full, so every
// query sent before is parked. A probe that parks instead (the others not all in yet) is
// closed, which frees its slot again.
bool CapFull(int port, int64_t index) {
  return PollUntil(
      [&] {
        HttpTestClient probe(port);
        if (!probe.SendRaw(BlockingLeader(index, "10m")).ok()) return false;
        Result<http::Response> r = probe.ReadResponse(Ms(300));
        return r.ok() && r->status == 429;
      },
      std::chrono::seconds(10));
}

int64_t LeaderIndex(LocalCluster& c, int i) {
  auto r = c.Call(i, "GET", "/v1/sys/leader");
  return r.ok() ? JsonInt(r->body, {"index"}) : -1;
}

TEST_CASE("node: 50 abandoned blocking sys/leader queries free their sockets at once") {
  ClusterOptions o;
  o.nodes = 1;
  o.extra_json = R"("limits": {"max_leader_waiters_per_client": 50})";
  LocalCluster c(o);
  REQUIRE(c.Start());
  int port = c.port(0);
  int64_t index = LeaderIndex(c, 0);
  REQUIRE(index > 0);
  int close_wait_before = TcpSocketsOnPort(port, kTcpCloseWait);
  int established_before = TcpSocketsOnPort(port, kTcpEstablished);
  {
    std::vector<std::unique_ptr<HttpTestClient>> clients;
    for (int i = 0; i < 50; ++i) {
      clients.push_back(std::make_unique<HttpTestClient>(port));
      REQUIRE(clients.back()->SendRaw(BlockingLeader(index, "10m")).ok());
    }
    // The 51st from this address is answered at once: all 50 are parked.
    REQUIRE(CapFull(port, index));
    MESSAGE("parked: " << TcpSocketsOnPort(port, kTcpEstablished) - established_before
                       << " more established sockets on the node");
  }  // all 50 close
  bool freed = PollUntil(
      [&] {
        return TcpSocketsOnPort(port, kTcpCloseWait) <= close_wait_before &&
               TcpSocketsOnPort(port, kTcpEstablished) <= established_before;
      },
      std::chrono::seconds(5));
  MESSAGE("after the close: " << TcpSocketsOnPort(port, kTcpCloseWait) << " CLOSE-WAIT (before "
                              << close_wait_before << ")");
  CHECK(freed);
  // Their slots are free again: a new query parks and answers when its wait ends.
  HttpTestClient again(port);
  REQUIRE(again.SendRaw(BlockingLeader(index, "200ms")).ok());
  Result<http::Response> r = again.ReadResponse(std::chrono::seconds(5));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(JsonInt(r->body, {"index"}) == index);
  CHECK(c.process(0).Running());
}

TEST_CASE("node: a step-down pipelined behind a woken sys/leader query crashes no node") {
  ClusterOptions o;
  o.extra_json = R"("limits": {"max_leader_waiters_per_client": 3})";
  LocalCluster c(o);
  REQUIRE(c.Start());
  int active = c.Active();
  REQUIRE(active >= 0);
  std::vector<std::unique_ptr<HttpTestClient>> first;  // with the step-down behind
  std::vector<std::unique_ptr<HttpTestClient>> others;
  for (int i = 0; i < c.size(); ++i) {
    if (i == active) continue;
    int64_t index = LeaderIndex(c, i);
    REQUIRE(index > 0);
    first.push_back(std::make_unique<HttpTestClient>(c.port(i)));
    REQUIRE(first.back()
                ->SendRaw(BlockingLeader(index, "60s") +
                          "PUT /v1/sys/step-down HTTP/1.1\r\nHost: x\r\nX-Vault-Token: " + kToken +
                          "\r\nContent-Length: 0\r\n\r\n")
                .ok());
    for (int k = 0; k < 2; ++k) {
      others.push_back(std::make_unique<HttpTestClient>(c.port(i)));
      REQUIRE(others.back()->SendRaw(BlockingLeader(index, "60s")).ok());
    }
    REQUIRE(CapFull(c.port(i), index));  // all three parked
  }
  auto down = c.Call(active, "PUT", "/v1/sys/step-down");
  REQUIRE(down.ok());
  CHECK(down->status == 204);
  for (auto& client : first) {
    Result<http::Response> woken = client->ReadResponse(std::chrono::seconds(10));
    REQUIRE(woken.ok());
    CHECK(woken->status == 200);
    Result<http::Response> step_down = client->ReadResponse(std::chrono::seconds(10));
    REQUIRE(step_down.ok());
    MESSAGE("pipelined step-down answered " << step_down->status);
  }
  for (auto& client : others) {
    Result<http::Response> woken = client->ReadResponse(std::chrono::seconds(10));
    REQUIRE(woken.ok());
    CHECK(woken->status == 200);
  }
  for (int i = 0; i < c.size(); ++i) {
    CHECK_MESSAGE(c.process(i).Running(), "node " << i << " died; log:\n" << c.log(i));
    CHECK(PollUntil([&] { return c.Health(i) != 0; }, std::chrono::seconds(5)));
  }
  CHECK(c.WaitActive() >= 0);
}

}  // namespace
}  // namespace halo::node::testing
