// GET /_halo/status: a JSON picture of the router for operators and tests.
// GET /_halo/health: whether this router should take client traffic (a VIP's track script,
// a load balancer's check): 200 while it serves and can route somewhere, else 503.
//
// {"version":..,"config_generation":..,"reads":"standbys","mode":"forward",
//  "failover_hold_ms":..,"active":"node1"|null,"redirect_addr":"..",
//  "nodes":[{"name","address","api_addr","role","up","routable","health_status",
//            "last_error","in_flight","requests":{"read":n,"write":n}}],
//  "counters":{"failovers":n,"held_writes":n,...,"connections":n}}
#pragma once

#include <cstdint>
#include <string>

#include "router/cluster_snapshot.h"
#include "router/metrics.h"
#include "router/route_types.h"

namespace halo::router {

struct StatusContext {
  uint64_t config_generation = 0;
  ReadPolicy reads = ReadPolicy::kStandbys;
  WriteMode mode = WriteMode::kForward;
  int64_t failover_hold_ms = 0;
  int workers = 1;
  bool draining = false;
};

std::string RenderStatusJson(const ClusterSnapshot& snap, const Metrics& metrics,
                             const StatusContext& ctx);

struct HealthAnswer {
  int status = 200;  // 200 healthy, 503 not
  std::string body;  // {"healthy":..,"draining":..,"active":..,"routable_nodes":n,"nodes":n}
};                   // plus "errors":[why] when 503
// Unhealthy when stopping (a stop signal was seen) or no node is routable. Pure.
HealthAnswer DecideHealth(const ClusterSnapshot& snap, bool draining);

}  // namespace halo::router
