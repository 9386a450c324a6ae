#include "router/status_page.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace halo::router {

std::string RenderStatusJson(const ClusterSnapshot& snap, const Metrics& metrics,
                             const StatusContext& ctx) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  const RouterCounters& c = metrics.counters();
  auto rl = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  w.StartObject();
  w.Key("version");
  w.Uint64(snap.version);
  w.Key("config_generation");
  w.Uint64(ctx.config_generation);
  w.Key("workers");
  w.Int(ctx.workers);
  w.Key("draining");
  w.Bool(ctx.draining);
  w.Key("reads");
  w.String(ReadPolicyName(ctx.reads));
  w.Key("mode");
  w.String(WriteModeName(ctx.mode));
  w.Key("failover_hold_ms");
  w.Int64(ctx.failover_hold_ms);
  w.Key("active");
  if (snap.active >= 0) {
    str(snap.nodes[snap.active].name);
  } else {
    w.Null();
  }
  w.Key("redirect_addr");
  str(snap.redirect_addr);
  w.Key("leader_outside");
  w.Bool(snap.leader_outside);
  w.Key("nodes");
  w.StartArray();
  for (size_t i = 0; i < snap.nodes.size(); ++i) {
    const NodeView& n = snap.nodes[i];
    w.StartObject();
    w.Key("name");
    str(n.name);
    w.Key("address");
    str(n.address);
    w.Key("api_addr");
    str(n.api_addr);
    w.Key("role");
    w.String(NodeRoleName(n.role));
    w.Key("active");
    w.Bool(snap.active == static_cast<int>(i));
    w.Key("up");
    w.Bool(n.up);
    w.Key("routable");
    w.Bool(n.routable);
    w.Key("health_status");
    w.Int(n.health_status);
    w.Key("last_error");
    str(n.last_error);
    bool has_slot = n.slot >= 0 && n.slot < kMaxSlots;
    w.Key("in_flight");
    w.Int(has_slot ? c.inflight[n.slot].load(std::memory_order_relaxed) : 0);
    w.Key("connect_failures");
    w.Uint64(has_slot ? rl(c.connect_failures[n.slot]) : 0);
    w.Key("requests");
    w.StartObject();
    w.Key("read");
    w.Uint64(metrics.NodeRequests(n.slot, RequestClass::kRead));
    w.Key("write");
    w.Uint64(metrics.NodeRequests(n.slot, RequestClass::kWrite));
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("counters");
  w.StartObject();
  w.Key("local_reads");
  w.Uint64(metrics.NodeRequests(kLocalSlot, RequestClass::kRead));
  w.Key("local_writes");
  w.Uint64(metrics.NodeRequests(kLocalSlot, RequestClass::kWrite));
  const std::pair<const char*, uint64_t> counters[] = {
      {"failovers", rl(c.failovers)},
      {"held_writes", rl(c.held_writes)},
      {"held_dispatched", rl(c.held_dispatched)},
      {"held_expired", rl(c.held_expired)},
      {"retries", rl(c.retries)},
      {"upstream_errors", rl(c.upstream_errors)},
      {"redirects", rl(c.redirects)},
      {"stale_signals", rl(c.stale_signals)},
      {"bad_requests", rl(c.bad_requests)},
      {"headers_too_large", rl(c.headers_too_large)},
      {"bodies_too_large", rl(c.bodies_too_large)},
      {"client_timeouts", rl(c.timeouts)},
      {"connections_accepted", rl(c.connections_accepted)},
      {"connections_refused", rl(c.connections_refused)},
      {"reloads", rl(c.reloads)},
      {"reload_failures", rl(c.reload_failures)},
  };
  for (const auto& [k, v] : counters) {
    w.Key(k);
    w.Uint64(v);
  }
  w.Key("held_now");
  w.Int64(rl(c.held_now));
  w.Key("connections");
  w.Int64(rl(c.connections_open));
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace halo::router
