#include "router/route_policy.h"

#include <doctest/doctest.h>

#include <map>

namespace halo::router {
namespace {

using Kind = RouteDecision::Kind;

ClusterSnapshot Snap(int active, std::vector<int> standbys) {
  ClusterSnapshot s;
  s.nodes.resize(4);
  s.active = active;
  s.standbys = standbys;
  s.routable = standbys;
  if (active >= 0) {
    s.routable.push_back(active);
    s.redirect_addr = "http://active:8200";
  }
  return s;
}

struct Load {
  std::map<int, int> n;
  int operator()(int i) const {
    auto it = n.find(i);
    return it == n.end() ? 0 : it->second;
  }
};

RouteDecision Decide(RouteInput in, const ClusterSnapshot& s, Load load = {}) {
  Rng rng(42);
  return DecideRoute(in, s, load, &rng);
}

RouteInput Write(WriteMode m, bool no_forward = false, uint64_t exclude_mask = 0) {
  RouteInput in;
  in.cls = RequestClass::kWrite;
  in.mode = m;
  in.client_no_forward = no_forward;
  in.exclude_mask = exclude_mask;
  return in;
}

RouteInput Read(ReadPolicy p = ReadPolicy::kStandbys, int exclude = -1) {
  RouteInput in;
  in.cls = RequestClass::kRead;
  in.reads = p;
  in.exclude_mask = exclude >= 0 ? uint64_t{1} << exclude : 0;
  return in;
}

TEST_CASE("PickLeastOutstanding: least load, random tie-break, exclusion") {
  Rng rng(7);
  std::vector<int> c = {0, 1, 2};
  Load load;
  load.n = {{0, 3}, {1, 1}, {2, 2}};
  CHECK(PickLeastOutstanding(c, 0, load, &rng) == 1);
  CHECK(PickLeastOutstanding(c, 1u << 1, load, &rng) == 2);
  CHECK(PickLeastOutstanding(c, (1u << 1) | (1u << 2), load, &rng) == 0);
  CHECK(PickLeastOutstanding({}, 0, load, &rng) == -1);
  CHECK(PickLeastOutstanding({1}, 1u << 1, load, &rng) == -1);
  load.n = {};
  std::map<int, int> hits;
  for (int i = 0; i < 3000; ++i) ++hits[PickLeastOutstanding(c, 0, load, &rng)];
  for (int n : c) {
    CHECK(hits[n] > 800);  // ~1000 each
    CHECK(hits[n] < 1200);
  }
}

TEST_CASE("Writes: forward to the active") {
  ClusterSnapshot s = Snap(0, {1, 2});
  for (WriteMode m : {WriteMode::kForward, WriteMode::kAuto}) {
    RouteDecision d = Decide(Write(m), s);
    CHECK(d.kind == Kind::kProxy);
    CHECK(d.node == 0);
  }
  // forward mode passes the no-forwarding header through to the active
  RouteDecision d = Decide(Write(WriteMode::kForward, true), s);
  CHECK(d.kind == Kind::kProxy);
  CHECK(d.node == 0);
}

TEST_CASE("Writes: redirect mode and auto with the client's no-forward header redirect") {
  ClusterSnapshot s = Snap(0, {1, 2});
  CHECK(Decide(Write(WriteMode::kRedirect), s).kind == Kind::kRedirect);
  CHECK(Decide(Write(WriteMode::kAuto, true), s).kind == Kind::kRedirect);
}

TEST_CASE("Writes: no active") {
  ClusterSnapshot s = Snap(-1, {1, 2});
  CHECK(Decide(Write(WriteMode::kForward), s).kind == Kind::kHold);
  CHECK(Decide(Write(WriteMode::kRedirect), s).kind == Kind::kHold);
  CHECK(Decide(Write(WriteMode::kAuto), s).kind == Kind::kHold);
  // The standbys name a leader the router cannot reach (one of ours, down).
  s.redirect_addr = "http://node1:8200";
  s.leader_down = true;
  // Forward: through a standby, which may still reach it (the router alone cut off).
  RouteDecision via = Decide(Write(WriteMode::kForward), s);
  CHECK(via.kind == Kind::kProxy);
  CHECK((via.node == 1 || via.node == 2));
  // Both standbys answered "not executed" (they cannot reach it either): hold.
  // reads=active never goes to a standby, which would answer it itself.
  CHECK(Decide(Read(ReadPolicy::kActive), s).kind == Kind::kHold);
  CHECK(Decide(Write(WriteMode::kForward, false, (1u << 1) | (1u << 2)), s).kind == Kind::kHold);
  CHECK(Decide(Write(WriteMode::kRedirect), s).kind == Kind::kHold);
  CHECK(Decide(Write(WriteMode::kAuto), s).kind == Kind::kRedirect);
  // The leader is outside our node set: forward goes through a standby.
  s.leader_down = false;
  s.leader_outside = true;
  RouteDecision d = Decide(Write(WriteMode::kForward), s);
  CHECK(d.kind == Kind::kProxy);
  CHECK((d.node == 1 || d.node == 2));
  CHECK(Decide(Write(WriteMode::kRedirect), s).kind == Kind::kRedirect);
  CHECK(Decide(Write(WriteMode::kAuto), s).kind == Kind::kRedirect);
}

TEST_CASE("Reads: standbys by least outstanding, then the active") {
  ClusterSnapshot s = Snap(0, {1, 2});
  Load load;
  load.n = {{1, 5}, {2, 1}};
  RouteDecision d = Decide(Read(), s, load);
  CHECK(d.kind == Kind::kProxy);
  CHECK(d.node == 2);
  d = Decide(Read(ReadPolicy::kStandbys, 2), s, load);  // retry elsewhere
  CHECK(d.node == 1);
  ClusterSnapshot only_active = Snap(0, {});
  d = Decide(Read(), only_active);
  CHECK(d.node == 0);
  d = Decide(Read(ReadPolicy::kStandbys, 0), only_active);
  CHECK(d.kind == Kind::kUnavailable);
  ClusterSnapshot nothing = Snap(-1, {});
  CHECK(Decide(Read(), nothing).kind == Kind::kUnavailable);
  // Standbys only, no active: still served.
  d = Decide(Read(), Snap(-1, {1}));
  CHECK(d.node == 1);
}

TEST_CASE("Reads: active and any policies") {
  ClusterSnapshot s = Snap(0, {1, 2});
  Load load;
  load.n = {{1, 2}, {2, 2}};
  RouteDecision d = Decide(Read(ReadPolicy::kActive), s, load);
  CHECK(d.node == 0);
  CHECK(Decide(Read(ReadPolicy::kActive), Snap(-1, {1})).kind == Kind::kHold);
  d = Decide(Read(ReadPolicy::kAny), s, load);
  CHECK(d.node == 0);  // the idle one, even though it is the active
}

}  // namespace
}  // namespace halo::router
