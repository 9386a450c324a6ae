// halo-router in front of three real halo-nodes (shared LMDB, HA lock): where writes and
// reads land, forward / redirect / auto, down nodes, and a SIGHUP reload under an open
// connection. Failover under load is in router_failover_test.cc.
#include <doctest/doctest.h>
#include <signal.h>

#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;

const std::string kToken = std::string("X-Vault-Token: ") + kRootToken;
const char* kFastChecks = R"("health_check":{"interval":"100ms","timeout":"500ms"})";

struct Stack {
  explicit Stack(const std::string& extra = "") {
    REQUIRE(nodes.Start());
    active = nodes.Active();
    REQUIRE(active >= 0);
    REQUIRE(router.Start(Config(extra)));
    REQUIRE(router.WaitRoles(nodes.name(active), 3));
  }
  std::string Config(const std::string& extra = "") {
    return RouterConfigJson(router.port(), nodes.RouterNodes(),
                            std::string(kFastChecks) + (extra.empty() ? "" : "," + extra));
  }
  std::optional<http::Response> Call(RawClient& c, const std::string& method,
                                     const std::string& target, const std::string& body = "",
                                     std::vector<std::string> headers = {}) {
    headers.push_back(kToken);
    return c.Request(method, target, body, headers);
  }
  NodeCluster nodes;
  RouterProcess router;
  int active = -1;
};

int64_t Requests(RouterProcess& r, const std::string& node, const char* cls) {
  return NodeRequests(r.Status(), node, cls);
}

TEST_CASE("cluster: writes always reach the active, reads only the standbys") {
  Stack s;
  RawClient c;
  REQUIRE(c.Connect(s.router.port()));
  const int kN = 40;
  for (int i = 0; i < kN; ++i) {
    // With X-Vault-No-Request-Forwarding a standby would answer 307, never write: a 2xx
    // proves the node the router picked was the active itself.
    auto w = s.Call(c, "PUT", "/v1/secret/data/route/" + std::to_string(i),
                    R"({"data":{"v":")" + std::to_string(i) + R"("}})",
                    {"X-Vault-No-Request-Forwarding: true"});
    REQUIRE(w);
    CHECK(w->status == 200);
  }
  for (int i = 0; i < kN; ++i) {
    auto r = s.Call(c, "GET", "/v1/secret/data/route/" + std::to_string(i));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(KvField(*r, "v") == std::to_string(i));
  }
  // The writes are on every node (shared storage), read directly.
  for (int n = 0; n < s.nodes.size(); ++n) {
    auto r = s.nodes.Call(n, "GET", "/v1/secret/data/route/7");
    REQUIRE(r);
    CHECK(KvField(*r, "v") == "7");
  }
  rapidjson::Document st = s.router.Status();
  int64_t reads = 0;
  for (int n = 0; n < s.nodes.size(); ++n) {
    int64_t nr = NodeRequests(st, s.nodes.name(n), "read");
    int64_t nw = NodeRequests(st, s.nodes.name(n), "write");
    if (n == s.active) {
      CHECK(nw == kN);
      CHECK(nr == 0);
    } else {
      CHECK(nw == 0);
      CHECK(nr > 0);  // both standbys share the reads
      reads += nr;
    }
  }
  CHECK(reads == kN);
  MESSAGE("writes on " << s.nodes.name(s.active) << ": " << kN << "; reads on standbys: " << reads
                       << ", on the active: 0");
}

TEST_CASE("cluster: forward, redirect and auto give the right response and Location") {
  Stack s;
  RawClient c;
  REQUIRE(c.Connect(s.router.port()));
  const std::string active_addr = s.nodes.api_addr(s.active);

  SUBCASE("forward (default)") {
    auto w = s.Call(c, "PUT", "/v1/secret/data/fwd?x=1", R"({"data":{"v":"f"}})");
    REQUIRE(w);
    CHECK(w->status == 200);
    CHECK(KvField(*s.nodes.Call(s.active, "GET", "/v1/secret/data/fwd"), "v") == "f");
  }
  SUBCASE("redirect") {
    REQUIRE(s.router.Reload(s.Config(R"("mode":"redirect")")));
    auto w = s.Call(c, "PUT", "/v1/secret/data/red%20x?cas=0", R"({"data":{"v":"r"}})");
    REQUIRE(w);
    CHECK(w->status == 307);
    std::string loc(*w->headers.Get("Location"));
    CHECK(loc == active_addr + "/v1/secret/data/red%20x?cas=0");
    // Following it by hand works: the Location is the active's own api_addr.
    RawClient direct;
    REQUIRE(direct.Connect(s.nodes.port(s.active)));
    auto f =
        direct.Request("PUT", loc.substr(active_addr.size()), R"({"data":{"v":"r"}})", {kToken});
    REQUIRE(f);
    CHECK(f->status == 200);
    // Reads are still proxied in redirect mode.
    auto r = s.Call(c, "GET", "/v1/secret/data/red%20x");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  SUBCASE("auto") {
    REQUIRE(s.router.Reload(s.Config(R"("mode":"auto")")));
    auto w = s.Call(c, "PUT", "/v1/secret/data/auto", R"({"data":{"v":"a"}})");
    REQUIRE(w);
    CHECK(w->status == 200);
    auto r = s.Call(c, "PUT", "/v1/secret/data/auto?v=2", R"({"data":{"v":"b"}})",
                    {"X-Vault-No-Request-Forwarding: 1"});
    REQUIRE(r);
    CHECK(r->status == 307);
    CHECK(std::string(*r->headers.Get("Location")) == active_addr + "/v1/secret/data/auto?v=2");
    CHECK(KvField(*s.nodes.Call(s.active, "GET", "/v1/secret/data/auto"), "v") == "a");
  }
  SUBCASE("auto, the active out of the router's reach") {
    // The router knows only the two standbys; they advertise the active's api_addr.
    std::vector<std::pair<std::string, std::string>> standbys;
    for (int n = 0; n < s.nodes.size(); ++n) {
      if (n != s.active) standbys.emplace_back(s.nodes.name(n), s.nodes.address(n));
    }
    REQUIRE(s.router.Reload(RouterConfigJson(s.router.port(), standbys,
                                             std::string(kFastChecks) + R"(,"mode":"auto")")));
    REQUIRE(s.router.WaitStatus([&](const rapidjson::Document& d) {
      return std::string(d["redirect_addr"].GetString()) == active_addr;
    }));
    auto w = s.Call(c, "POST", "/v1/secret/data/away", R"({"data":{"v":"x"}})");
    REQUIRE(w);
    CHECK(w->status == 307);
    CHECK(std::string(*w->headers.Get("Location")) == active_addr + "/v1/secret/data/away");
    // forward mode in the same situation: a standby gets it and forwards it itself.
    REQUIRE(s.router.Reload(RouterConfigJson(s.router.port(), standbys,
                                             std::string(kFastChecks) + R"(,"mode":"forward")")));
    auto f = s.Call(c, "POST", "/v1/secret/data/away", R"({"data":{"v":"y"}})");
    REQUIRE(f);
    CHECK_MESSAGE(f->status == 200, f->body);
    CHECK(KvField(*s.nodes.Call(s.active, "GET", "/v1/secret/data/away"), "v") == "y");
  }
}

TEST_CASE("cluster: sys/health codes the client picks are relayed as is, never cluster state") {
  // As conf/router.json: sys/* goes to the active, as a write.
  Stack s(R"("rules":[{"path":"sys/*","class":"write"}])");
  const std::string active = s.nodes.name(s.active);
  // Straight to the node: a 1xx is no final answer, so 400 with {"errors":[...]}.
  auto direct = s.nodes.Call(s.active, "GET", "/v1/sys/health?activecode=100");
  REQUIRE(direct);
  CHECK(direct->status == 400);
  CHECK(direct->body.find("{\"errors\":[") == 0);
  auto direct503 = s.nodes.Call(s.active, "GET", "/v1/sys/health?activecode=503");
  REQUIRE(direct503);
  CHECK(direct503->status == 503);
  CHECK_FALSE(direct503->headers.Has("X-Halo-Not-Executed"));

  rapidjson::Document before = s.router.Status();
  RawClient c;
  REQUIRE(c.Connect(s.router.port()));
  auto via100 = c.Request("GET", "/v1/sys/health?activecode=100");
  REQUIRE(via100);
  CHECK(via100->status == 400);
  // The active answers 503 (its client-chosen code) with its own health body.
  auto via503 = c.Request("GET", "/v1/sys/health?activecode=503&standbycode=503");
  REQUIRE(via503);
  CHECK(via503->status == 503);
  CHECK(via503->body.find("\"cluster_name\":\"router-test\"") != std::string::npos);
  // No hold, no replay, no "view looks stale" re-probe: the router's state is untouched.
  rapidjson::Document after = s.router.Status();
  for (const char* k : {"held_writes", "held_expired", "retries", "stale_signals", "failovers"}) {
    CAPTURE(k);
    CHECK(StatusCounter(after, k) == StatusCounter(before, k));
  }
  CHECK(s.router.WaitRoles(active, 3));
}

TEST_CASE("cluster: a down node gets no traffic") {
  Stack s;
  int down = (s.active + 1) % 3;
  int up = (s.active + 2) % 3;
  s.nodes.process(down).Stop(SIGTERM);
  REQUIRE(s.router.WaitRoles(s.nodes.name(s.active), 2));
  int64_t before_down = Requests(s.router, s.nodes.name(down), "read");
  int64_t before_up = Requests(s.router, s.nodes.name(up), "read");
  RawClient c;
  REQUIRE(c.Connect(s.router.port()));
  s.Call(c, "PUT", "/v1/secret/data/d", R"({"data":{"v":"1"}})");
  for (int i = 0; i < 20; ++i) {
    auto r = s.Call(c, "GET", "/v1/secret/data/d");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(Requests(s.router, s.nodes.name(down), "read") == before_down);
  CHECK(Requests(s.router, s.nodes.name(up), "read") == before_up + 20);
  CHECK(Requests(s.router, s.nodes.name(s.active), "read") == 0);
  // Back up: it gets reads again after `rise` good probes.
  REQUIRE(s.nodes.StartNode(down));
  REQUIRE(s.router.WaitRoles(s.nodes.name(s.active), 3));
  for (int i = 0; i < 20; ++i) s.Call(c, "GET", "/v1/secret/data/d");
  CHECK(Requests(s.router, s.nodes.name(down), "read") > before_down);
}

TEST_CASE("cluster: SIGHUP reload changes routing without dropping an open connection") {
  Stack s;
  RawClient c;
  REQUIRE(c.Connect(s.router.port()));
  REQUIRE(s.Call(c, "PUT", "/v1/secret/data/h", R"({"data":{"v":"1"}})")->status == 200);
  REQUIRE(s.Call(c, "GET", "/v1/secret/data/h")->status == 200);
  int64_t active_reads = Requests(s.router, s.nodes.name(s.active), "read");
  CHECK(active_reads == 0);
  REQUIRE(s.router.Reload(s.Config(R"("reads":"active")")));
  for (int i = 0; i < 5; ++i) {
    auto r = s.Call(c, "GET", "/v1/secret/data/h");  // the same connection
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(Requests(s.router, s.nodes.name(s.active), "read") == 5);
  REQUIRE(s.router.Reload(s.Config(R"("reads":"standbys","mode":"redirect")")));
  auto w = s.Call(c, "PUT", "/v1/secret/data/h", R"({"data":{"v":"2"}})");
  REQUIRE(w);
  CHECK(w->status == 307);
  CHECK(s.Call(c, "GET", "/v1/secret/data/h")->status == 200);
  CHECK(Requests(s.router, s.nodes.name(s.active), "read") == 5);
  CHECK(StatusCounter(s.router.Status(), "reloads") == 2);
  CHECK(StatusCounter(s.router.Status(), "connections_accepted") >= 1);
}

}  // namespace
}  // namespace halo::router::testing
