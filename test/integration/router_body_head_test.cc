// Integration (issue 9, defect 3) through a real halo-router in front of a real halo-node:
// the node refuses an unauthenticated body at its head; the router relays that early answer
// at once and closes the client connection (it neither keeps pushing the body nor waits for
// the rest of it). The router itself refuses at the head what it can know there: 413 over
// its limits.max_body_bytes, 503 + Retry-After over limits.max_body_bytes_in_flight.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test/node/local_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/body_attack.h"
#include "test/support/http_test_client.h"
#include "test/support/proc_status.h"

namespace halo::router::testing {
namespace {

using halo::node::testing::ClusterOptions;
using halo::node::testing::kToken;
using halo::node::testing::LocalCluster;
using halo::testing::HttpTestClient;
using halo::testing::ProcStatusKb;
using Ms = std::chrono::milliseconds;
using halo::testing::BodyHead;
using halo::testing::kAnsweredAtOnce;
using halo::testing::kMiB;
using halo::testing::KvBodyOfSize;
using halo::testing::PushRefusedBodies;

// One node behind one router; `limits` is the router's limits object.
struct Stack {
  explicit Stack(const std::string& limits) {
    ClusterOptions options;
    options.nodes = 1;
    node = std::make_unique<LocalCluster>(options);
    REQUIRE(node->Start());
    std::string extra = R"("health_check":{"interval":"100ms","timeout":"500ms","rise":1,)"
                        R"("fall":1},"limits":)" +
                        limits;
    REQUIRE(router.Start(RouterConfigJson(
        router.port(), {{"node1", "127.0.0.1:" + std::to_string(node->port(0))}}, extra)));
    REQUIRE(router.WaitRoles("node1", 1));
  }
  std::unique_ptr<LocalCluster> node;
  RouterProcess router;
};

TEST_CASE("router body: the node's early 403 is relayed at once and the client closed") {
  // Room for all 8 declared bodies in the router, so every one reaches the node.
  Stack s(R"({"max_body_bytes_in_flight":1073741824})");
  pid_t node_pid = s.node->process(0).pid();
  pid_t router_pid = s.router.process().pid();
  int64_t node_hwm0 = ProcStatusKb(node_pid, "VmHWM");
  int64_t router_hwm0 = ProcStatusKb(router_pid, "VmHWM");

  constexpr int kConns = 8;
  PushRefusedBodies(s.router.port(), kConns);

  int64_t node_hwm1 = ProcStatusKb(node_pid, "VmHWM");
  int64_t router_hwm1 = ProcStatusKb(router_pid, "VmHWM");
  MESSAGE("peak RSS: node " << node_hwm0 / 1024 << " -> " << node_hwm1 / 1024 << " MiB, router "
                            << router_hwm0 / 1024 << " -> " << router_hwm1 / 1024 << " MiB");
  CHECK(node_hwm1 < node_hwm0 + 20 * 1024);
  CHECK(router_hwm1 < router_hwm0 + 20 * 1024);

  REQUIRE(s.node->process(0).Running());
  REQUIRE(s.router.process().Running());
  std::optional<http::Response> put =
      HttpCall(s.router.port(), "PUT", "/v1/secret/data/after", R"({"data":{"k":"v"}})",
               {std::string("X-Vault-Token: ") + kToken});
  REQUIRE(put.has_value());
  CHECK(put->status == 200);
}

TEST_CASE("router body: 413 and 503 + Retry-After from the router's own limits, at the head") {
  Stack s(R"({"max_body_bytes":1048576,"max_body_bytes_in_flight":1048576})");
  const std::string body = KvBodyOfSize(768 * 1024);

  HttpTestClient big(s.router.port());
  REQUIRE(big.SendRaw(BodyHead("PUT", "/v1/secret/data/big", 2 * kMiB, kToken)).ok());
  Result<http::Response> too_large = big.ReadResponse(kAnsweredAtOnce, "PUT");
  REQUIRE_MESSAGE(too_large.ok(), too_large.status().ToString());
  CHECK(too_large->status == 413);
  CHECK(too_large->body.find("{\"errors\":[") == 0);
  CHECK(big.WaitForClose(Ms(5000)));

  // One body in progress through the router (head and a part sent)...
  HttpTestClient first(s.router.port());
  REQUIRE(first.SendRaw(BodyHead("PUT", "/v1/secret/data/first", body.size(), kToken)).ok());
  REQUIRE(first.SendRaw(body.substr(0, 1000)).ok());
  // ...a second does not fit the router's bound: refused before it is read or sent on.
  HttpTestClient second(s.router.port());
  REQUIRE(second.SendRaw(BodyHead("PUT", "/v1/secret/data/second", body.size(), kToken)).ok());
  Result<http::Response> refused = second.ReadResponse(kAnsweredAtOnce, "PUT");
  REQUIRE_MESSAGE(refused.ok(), refused.status().ToString());
  CHECK(refused->status == 503);
  CHECK(refused->headers.Get("Retry-After").value_or("") == "1");
  CHECK(refused->body.find("{\"errors\":[") == 0);
  CHECK(second.WaitForClose(Ms(5000)));

  REQUIRE(first.SendRaw(body.substr(1000)).ok());
  Result<http::Response> done = first.ReadResponse(Ms(10000), "PUT");
  REQUIRE_MESSAGE(done.ok(), done.status().ToString());
  CHECK(done->status == 200);
  // The first is finished: the second fits now.
  REQUIRE(second.Connect().ok());
  REQUIRE(
      second.SendRaw(BodyHead("PUT", "/v1/secret/data/second", body.size(), kToken) + body).ok());
  Result<http::Response> ok = second.ReadResponse(Ms(10000), "PUT");
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->status == 200);
}

}  // namespace
}  // namespace halo::router::testing
