// Route decision: given a classified request and the cluster snapshot, where does it go?
//
// Writes (and reads under reads=active) go to the active. In forward mode: proxied to it;
// when none is routable but the leader lives outside our node set, or is one of ours that the
// router cannot reach (a write only: the standbys may still reach it), proxied to a standby
// (the node forwards; if it cannot reach the leader either, its 503 says "not executed" and
// the router tries elsewhere or holds); otherwise held until an active appears. Redirect mode, and
// auto mode when the client sent X-Vault-No-Request-Forwarding: 307 to the advertised address, held
// when none is known. Auto mode otherwise: proxy to the active, 307 when the router cannot reach it
// but an address is advertised, else hold. Reads: standbys by least outstanding, then the active,
// then any routable node (policy standbys); every routable node (any); the active, held when none
// (active). Pure: no I/O, no allocation.
#pragma once

#include "router/balancer.h"
#include "router/cluster_snapshot.h"
#include "router/route_types.h"

namespace halo::router {

struct RouteDecision {
  enum class Kind : uint8_t {
    kProxy,        // send to `node`
    kRedirect,     // 307 to snapshot.redirect_addr + original target
    kHold,         // wait for an active (failover_hold_ms), then decide again
    kUnavailable,  // 503 now: nothing can serve it
  };
  Kind kind = Kind::kUnavailable;
  int node = -1;
};

struct RouteInput {
  RequestClass cls = RequestClass::kWrite;
  WriteMode mode = WriteMode::kForward;
  ReadPolicy reads = ReadPolicy::kStandbys;
  bool client_no_forward = false;  // X-Vault-No-Request-Forwarding present and non-empty
  uint64_t exclude_mask = 0;       // bit i: node index i failed this request / is down
};

template <class OutstandingFn>
RouteDecision DecideRoute(const RouteInput& in, const ClusterSnapshot& snap,
                          OutstandingFn outstanding, Rng* rng) {
  using Kind = RouteDecision::Kind;
  RouteDecision d;
  const bool to_active = in.cls == RequestClass::kWrite || in.reads == ReadPolicy::kActive;
  if (!to_active) {
    const std::vector<int>& pool = in.reads == ReadPolicy::kAny ? snap.routable : snap.standbys;
    int n = PickLeastOutstanding(pool, in.exclude_mask, outstanding, rng);
    if (n < 0 && snap.active >= 0 && !Excluded(in.exclude_mask, snap.active)) n = snap.active;
    if (n < 0) n = PickLeastOutstanding(snap.routable, in.exclude_mask, outstanding, rng);
    if (n < 0) return d;  // kUnavailable
    d.kind = Kind::kProxy;
    d.node = n;
    return d;
  }
  const bool has_addr = !snap.redirect_addr.empty();
  const bool redirect_first =
      in.cls == RequestClass::kWrite &&
      (in.mode == WriteMode::kRedirect || (in.mode == WriteMode::kAuto && in.client_no_forward));
  if (redirect_first) {
    // Redirect mode does not send clients to a leader the router knows is down (it holds
    // for the next one instead); auto redirects to whatever address is advertised.
    bool usable = has_addr && (in.mode == WriteMode::kAuto || !snap.leader_down);
    d.kind = usable ? Kind::kRedirect : Kind::kHold;
    return d;
  }
  if (snap.active >= 0 && !Excluded(in.exclude_mask, snap.active)) {
    d.kind = Kind::kProxy;
    d.node = snap.active;
    return d;
  }
  if (in.cls == RequestClass::kWrite && in.mode == WriteMode::kAuto && has_addr) {
    d.kind = Kind::kRedirect;
    return d;
  }
  if (snap.leader_outside || (snap.leader_down && in.cls == RequestClass::kWrite)) {
    int n = PickLeastOutstanding(snap.standbys, in.exclude_mask, outstanding, rng);
    if (n >= 0) {
      d.kind = Kind::kProxy;
      d.node = n;
      return d;
    }
  }
  d.kind = Kind::kHold;
  return d;
}

}  // namespace halo::router
