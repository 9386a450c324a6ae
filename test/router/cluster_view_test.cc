#include "router/cluster_view.h"

#include <doctest/doctest.h>

namespace halo::router {
namespace {

std::vector<NodeConfig> ThreeNodes() {
  std::vector<NodeConfig> n;
  for (int i = 1; i <= 3; ++i) {
    NodeConfig c;
    c.name = "node" + std::to_string(i);
    c.host = "127.0.0.1";
    c.port = static_cast<uint16_t>(8200 + 10 * i);
    c.address = c.host + ":" + std::to_string(c.port);
    n.push_back(c);
  }
  return n;
}

HealthCheckConfig Hc(int rise, int fall) {
  HealthCheckConfig hc;
  hc.rise = rise;
  hc.fall = fall;
  return hc;
}

Result<HealthInfo> Active() { return ParseHealthResponse(200, ""); }
Result<HealthInfo> Standby() { return ParseHealthResponse(429, ""); }
Result<HealthInfo> Sealed() { return ParseHealthResponse(503, ""); }
Result<HealthInfo> Down() { return Status::Unavailable("connect: refused"); }

LeaderInfo Leader(bool self, std::string addr) {
  LeaderInfo l;
  l.ha_enabled = true;
  l.is_self = self;
  l.leader_address = std::move(addr);
  return l;
}

TEST_CASE("ClusterView: first probe results decide; active and standbys derived") {
  ClusterView v(ThreeNodes(), Hc(2, 2));
  CHECK(v.snapshot()->active == -1);
  CHECK(v.snapshot()->routable.empty());
  ClusterView::Change c = v.OnHealth(0, Active());
  CHECK(c.changed);
  CHECK(c.active_changed);
  CHECK(c.new_active == 0);
  v.OnHealth(1, Standby());
  v.OnHealth(2, Sealed());
  auto s = v.snapshot();
  CHECK(s->active == 0);
  CHECK(s->redirect_addr == "http://127.0.0.1:8210");  // no api_addr learned yet
  CHECK(s->standbys == std::vector<int>{1});
  CHECK(s->routable == std::vector<int>{0, 1});
  CHECK(s->nodes[2].up);
  CHECK_FALSE(s->nodes[2].routable);  // sealed nodes get no traffic
  // The same answer again changes nothing.
  c = v.OnHealth(1, Standby());
  CHECK_FALSE(c.changed);
  CHECK(v.snapshot()->version == s->version);
}

TEST_CASE("ClusterView: rise and fall") {
  ClusterView v(ThreeNodes(), Hc(2, 3));
  v.OnHealth(1, Standby());
  CHECK(v.snapshot()->nodes[1].routable);
  v.OnHealth(1, Down());
  v.OnHealth(1, Down());
  CHECK(v.snapshot()->nodes[1].routable);  // 2 < fall
  v.OnHealth(1, Down());
  CHECK_FALSE(v.snapshot()->nodes[1].up);
  CHECK(v.snapshot()->nodes[1].last_error == "connect: refused");
  v.OnHealth(1, Standby());
  CHECK_FALSE(v.snapshot()->nodes[1].up);  // 1 < rise
  v.OnHealth(1, Down());
  v.OnHealth(1, Standby());
  CHECK_FALSE(v.snapshot()->nodes[1].up);  // streak was reset
  v.OnHealth(1, Standby());
  CHECK(v.snapshot()->nodes[1].up);
  CHECK(v.snapshot()->nodes[1].last_error.empty());
}

TEST_CASE("ClusterView: a passive failure takes the node down at once") {
  ClusterView v(ThreeNodes(), Hc(2, 3));
  v.OnHealth(0, Active());
  v.OnHealth(1, Standby());
  ClusterView::Change c = v.OnPassiveFailure(0, "connect refused");
  CHECK(c.active_changed);
  CHECK(c.new_active == -1);
  CHECK_FALSE(v.snapshot()->nodes[0].up);
}

TEST_CASE("ClusterView: leader push promotes and demotes without waiting for health") {
  ClusterView v(ThreeNodes(), Hc(2, 2));
  v.OnHealth(0, Active());
  v.OnHealth(1, Standby());
  v.OnHealth(2, Standby());
  v.OnLeader(0, Leader(true, "http://127.0.0.1:8210"));
  v.OnLeader(1, Leader(false, "http://127.0.0.1:8210"));
  CHECK(v.snapshot()->nodes[0].api_addr == "http://127.0.0.1:8210");
  // Step-down: node1's blocking query answers is_self=false -> demoted now.
  ClusterView::Change c = v.OnLeader(0, Leader(false, ""));
  CHECK(c.active_changed);
  CHECK(v.snapshot()->active == -1);
  // node2 reports itself the leader -> active now.
  c = v.OnLeader(1, Leader(true, "http://127.0.0.1:8220"));
  CHECK(c.active_changed);
  CHECK(c.new_active == 1);
  CHECK(v.snapshot()->redirect_addr == "http://127.0.0.1:8220");
  CHECK(v.snapshot()->standbys == std::vector<int>{0, 2});
}

TEST_CASE("ClusterView: two nodes claiming active -> the latest claim wins") {
  ClusterView v(ThreeNodes(), Hc(1, 1));
  v.OnHealth(0, Active());
  v.OnHealth(1, Standby());
  v.OnHealth(1, Active());
  CHECK(v.snapshot()->active == 1);
  v.OnHealth(0, Active());  // still active: no new claim
  CHECK(v.snapshot()->active == 1);
  v.OnHealth(0, Standby());
  CHECK(v.snapshot()->active == 1);
}

TEST_CASE("ClusterView: a sealed or leaderless node is never promoted by the push") {
  ClusterView v(ThreeNodes(), Hc(1, 1));
  v.OnHealth(2, Sealed());
  v.OnLeader(2, Leader(true, "http://127.0.0.1:8230"));
  CHECK(v.snapshot()->active == -1);
  v.OnHealth(1, Down());
  v.OnLeader(1, Leader(true, "http://127.0.0.1:8220"));
  CHECK(v.snapshot()->active == -1);
}

TEST_CASE("ClusterView: redirect address when the active is unreachable or outside") {
  ClusterView v(ThreeNodes(), Hc(1, 1));
  v.OnHealth(1, Standby());
  v.OnHealth(2, Standby());
  // Standbys report a leader that is not one of ours.
  v.OnLeader(1, Leader(false, "http://10.0.0.9:8200"));
  v.OnLeader(2, Leader(false, "http://10.0.0.9:8200"));
  auto s = v.snapshot();
  CHECK(s->active == -1);
  CHECK(s->redirect_addr == "http://10.0.0.9:8200");
  CHECK(s->leader_outside);
  CHECK_FALSE(s->leader_down);
  // They report node1, which the router cannot reach.
  v.OnHealth(0, Down());
  v.OnLeader(1, Leader(false, "http://127.0.0.1:8210"));
  v.OnLeader(2, Leader(false, "http://127.0.0.1:8210"));
  s = v.snapshot();
  CHECK(s->redirect_addr == "http://127.0.0.1:8210");
  CHECK_FALSE(s->leader_outside);
  CHECK(s->leader_down);
}

TEST_CASE("ClusterView: Reconfigure keeps the state of unchanged nodes and stable slots") {
  ClusterView v(ThreeNodes(), Hc(1, 1));
  v.OnHealth(0, Active());
  v.OnHealth(1, Standby());
  int slot2 = v.snapshot()->nodes[1].slot;
  std::vector<NodeConfig> nodes = ThreeNodes();
  nodes.erase(nodes.begin() + 2);
  std::swap(nodes[0], nodes[1]);
  NodeConfig extra;
  extra.name = "node4";
  extra.host = "127.0.0.1";
  extra.port = 8240;
  extra.address = "127.0.0.1:8240";
  nodes.push_back(extra);
  v.Reconfigure(nodes, Hc(1, 1));
  auto s = v.snapshot();
  REQUIRE(s->nodes.size() == 3);
  CHECK(s->nodes[0].name == "node2");
  CHECK(s->nodes[0].slot == slot2);
  CHECK(s->nodes[0].routable);
  CHECK(s->active == 1);
  CHECK(s->nodes[2].slot == 3);  // new name, new slot (node3 keeps 2)
  CHECK(v.IndexOf("node4") == 2);
  CHECK(v.IndexOf("node3") == -1);
}

}  // namespace
}  // namespace halo::router

namespace halo::router {
namespace {

TEST_CASE("ClusterView: slots stay below kMaxSlots however many names reloads bring") {
  HealthCheckConfig hc;
  std::vector<NodeConfig> nodes = ThreeNodes();
  ClusterView v(nodes, hc);
  for (int round = 0; round < 50; ++round) {
    for (int i = 1; i < 3; ++i)
      nodes[i].name = "r" + std::to_string(round) + "n" + std::to_string(i);
    v.Reconfigure(nodes, hc);
    auto s = v.snapshot();
    REQUIRE(s->nodes.size() == 3);
    CHECK(s->nodes[0].name == "node1");
    for (const NodeView& n : s->nodes) {
      CHECK(n.slot >= 0);
      CHECK(n.slot < kMaxSlots);
    }
    CHECK(s->nodes[0].slot != s->nodes[1].slot);
    CHECK(s->nodes[1].slot != s->nodes[2].slot);
    CHECK(s->nodes[0].slot != s->nodes[2].slot);
  }
}

}  // namespace
}  // namespace halo::router
