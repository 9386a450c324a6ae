#include "router/metrics.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "router/status_page.h"

namespace halo::router {
namespace {

ClusterSnapshot TwoNodes() {
  ClusterSnapshot s;
  s.version = 3;
  NodeView a;
  a.name = "node1";
  a.slot = 0;
  a.role = NodeRole::kActive;
  a.up = a.routable = true;
  NodeView b;
  b.name = "node2";
  b.slot = 1;
  b.role = NodeRole::kStandby;
  b.up = b.routable = true;
  s.nodes = {a, b};
  s.active = 0;
  s.standbys = {1};
  s.routable = {0, 1};
  return s;
}

TEST_CASE("StatusIndex covers common codes exactly and the rest by class") {
  char buf[16];
  CHECK(std::string(StatusLabel(StatusIndex(200), buf)) == "200");
  CHECK(std::string(StatusLabel(StatusIndex(307), buf)) == "307");
  CHECK(std::string(StatusLabel(StatusIndex(431), buf)) == "431");
  CHECK(std::string(StatusLabel(StatusIndex(418), buf)) == "4xx");
  CHECK(std::string(StatusLabel(StatusIndex(299), buf)) == "2xx");
  CHECK(std::string(StatusLabel(StatusIndex(999), buf)) == "5xx");
  CHECK(std::string(StatusLabel(StatusIndex(0), buf)) == "5xx");
}

TEST_CASE("Prometheus text: requests by class/node/status, histograms, counters") {
  Metrics m(2);
  m.worker(0)->CountRequest(RequestClass::kRead, 1, 200, 300);
  m.worker(1)->CountRequest(RequestClass::kRead, 1, 200, 2'000'000);
  m.worker(0)->CountRequest(RequestClass::kWrite, 0, 204, 1500);
  m.worker(0)->CountRequest(RequestClass::kWrite, kLocalSlot, 307, 10);
  m.counters().failovers = 2;
  m.counters().held_writes = 5;
  m.counters().inflight[1] = 4;
  std::string text = m.RenderPrometheus(TwoNodes());
  CHECK(text.find("halo_router_requests_total{class=\"read\",node=\"node2\",code=\"200\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("halo_router_requests_total{class=\"write\",node=\"node1\",code=\"204\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("halo_router_requests_total{class=\"write\",node=\"router\",code=\"307\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("halo_router_request_duration_seconds_bucket{class=\"read\",node=\"node2\","
                  "le=\"0.0005\"} 1\n") != std::string::npos);
  CHECK(text.find("halo_router_request_duration_seconds_bucket{class=\"read\",node=\"node2\","
                  "le=\"5\"} 2\n") != std::string::npos);
  CHECK(
      text.find("halo_router_request_duration_seconds_count{class=\"read\",node=\"node2\"} 2\n") !=
      std::string::npos);
  CHECK(text.find("halo_router_failovers_total 2\n") != std::string::npos);
  CHECK(text.find("halo_router_held_writes_total 5\n") != std::string::npos);
  CHECK(text.find("halo_router_node_in_flight{node=\"node2\"} 4\n") != std::string::npos);
  CHECK(text.find("halo_router_node_active{node=\"node1\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE halo_router_request_duration_seconds histogram\n") != std::string::npos);
  CHECK(m.NodeRequests(1, RequestClass::kRead) == 2);
}

TEST_CASE("Status JSON names nodes, roles, in-flight and counters") {
  Metrics m(1);
  m.worker(0)->CountRequest(RequestClass::kWrite, 0, 200, 100);
  m.counters().inflight[0] = 1;
  m.counters().held_writes = 3;
  StatusContext ctx;
  ctx.config_generation = 2;
  ctx.reads = ReadPolicy::kAny;
  ctx.mode = WriteMode::kAuto;
  std::string json = RenderStatusJson(TwoNodes(), m, ctx);
  rapidjson::Document d;
  d.Parse(json.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["active"].GetString()) == "node1");
  CHECK(std::string(d["reads"].GetString()) == "any");
  CHECK(std::string(d["mode"].GetString()) == "auto");
  CHECK(d["config_generation"].GetUint64() == 2);
  REQUIRE(d["nodes"].Size() == 2);
  CHECK(std::string(d["nodes"][0]["role"].GetString()) == "active");
  CHECK(d["nodes"][0]["in_flight"].GetInt() == 1);
  CHECK(d["nodes"][0]["requests"]["write"].GetUint64() == 1);
  CHECK(std::string(d["nodes"][1]["role"].GetString()) == "standby");
  CHECK(d["counters"]["held_writes"].GetUint64() == 3);
}

TEST_CASE("DecideHealth: 200 while serving with a routable node, 503 stopping or with none") {
  struct Case {
    bool draining;
    int routable;  // how many of the two nodes
    int status;
    const char* error;
  } cases[] = {
      {false, 2, 200, nullptr},
      {false, 1, 200, nullptr},
      {false, 0, 503, "no node is routable"},
      {true, 2, 503, "the router is stopping"},
      {true, 0, 503, "the router is stopping"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.draining);
    CAPTURE(c.routable);
    ClusterSnapshot s = TwoNodes();
    s.nodes[0].routable = c.routable >= 1;
    s.nodes[1].routable = c.routable >= 2;
    HealthAnswer h = DecideHealth(s, c.draining);
    CHECK(h.status == c.status);
    rapidjson::Document d;
    d.Parse(h.body.c_str());
    REQUIRE(d.IsObject());
    CHECK(d["healthy"].GetBool() == (c.status == 200));
    CHECK(d["draining"].GetBool() == c.draining);
    CHECK(d["routable_nodes"].GetInt() == c.routable);
    CHECK(std::string(d["active"].GetString()) == "node1");
    if (c.error) {
      REQUIRE(d.HasMember("errors"));
      CHECK(std::string(d["errors"][0].GetString()) == c.error);
    } else {
      CHECK_FALSE(d.HasMember("errors"));
    }
  }
}

}  // namespace
}  // namespace halo::router
