#include "router/status_page.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

namespace halo::router {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// One "key": value member each; the page is a list of these.
void PutU64(JsonWriter& w, const char* key, uint64_t v) {
  w.Key(key);
  w.Uint64(v);
}
void PutI64(JsonWriter& w, const char* key, int64_t v) {
  w.Key(key);
  w.Int64(v);
}
void PutBool(JsonWriter& w, const char* key, bool v) {
  w.Key(key);
  w.Bool(v);
}
void PutStrValue(JsonWriter& w, std::string_view v) {
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void PutStr(JsonWriter& w, const char* key, std::string_view v) {
  w.Key(key);
  PutStrValue(w, v);
}

// "active": the active node's name, or null.
void PutActive(JsonWriter& w, const ClusterSnapshot& snap) {
  w.Key("active");
  if (snap.active >= 0) {
    PutStrValue(w, snap.nodes[snap.active].name);
  } else {
    w.Null();
  }
}

void PutNode(JsonWriter& w, const ClusterSnapshot& snap, size_t i, const Metrics& metrics) {
  const NodeView& n = snap.nodes[i];
  const RouterCounters& c = metrics.counters();
  const bool has_slot = n.slot >= 0 && n.slot < kMaxSlots;
  w.StartObject();
  PutStr(w, "name", n.name);
  PutStr(w, "address", n.address);
  PutStr(w, "api_addr", n.api_addr);
  PutStr(w, "role", NodeRoleName(n.role));
  PutBool(w, "active", snap.active == static_cast<int>(i));
  PutBool(w, "up", n.up);
  PutBool(w, "routable", n.routable);
  PutI64(w, "health_status", n.health_status);
  PutStr(w, "last_error", n.last_error);
  PutI64(w, "in_flight", has_slot ? c.inflight[n.slot].load(std::memory_order_relaxed) : 0);
  PutU64(w, "connect_failures",
         has_slot ? c.connect_failures[n.slot].load(std::memory_order_relaxed) : 0);
  static constexpr const char* kProtocols[] = {"", "http1", "h2"};
  uint8_t proto = has_slot ? c.upstream_protocol[n.slot].load(std::memory_order_relaxed) : 0;
  PutStr(w, "upstream_protocol", kProtocols[proto < 3 ? proto : 0]);
  PutI64(w, "h2_connections", has_slot ? c.h2_sessions[n.slot].load(std::memory_order_relaxed) : 0);
  PutI64(w, "h2_open_streams", has_slot ? c.h2_streams[n.slot].load(std::memory_order_relaxed) : 0);
  w.Key("requests");
  w.StartObject();
  PutU64(w, "read", metrics.NodeRequests(n.slot, RequestClass::kRead));
  PutU64(w, "write", metrics.NodeRequests(n.slot, RequestClass::kWrite));
  w.EndObject();
  w.EndObject();
}

void PutCounters(JsonWriter& w, const Metrics& metrics) {
  const RouterCounters& c = metrics.counters();
  auto rl = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  w.Key("counters");
  w.StartObject();
  PutU64(w, "local_reads", metrics.NodeRequests(kLocalSlot, RequestClass::kRead));
  PutU64(w, "local_writes", metrics.NodeRequests(kLocalSlot, RequestClass::kWrite));
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
      {"connections_refused_per_client", rl(c.connections_refused_per_client)},
      {"blocking_queries_refused", rl(c.blocking_queries_refused)},
      {"reloads", rl(c.reloads)},
      {"reload_failures", rl(c.reload_failures)},
      {"tls_reload_failures", rl(c.tls_reload_failures)},
  };
  for (const auto& [k, v] : counters) PutU64(w, k, v);
  PutI64(w, "held_now", rl(c.held_now));
  PutI64(w, "connections", rl(c.connections_open));
  w.EndObject();
}

}  // namespace

std::string RenderStatusJson(const ClusterSnapshot& snap, const Metrics& metrics,
                             const StatusContext& ctx) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  PutU64(w, "version", snap.version);
  PutU64(w, "config_generation", ctx.config_generation);
  PutI64(w, "workers", ctx.workers);
  PutBool(w, "draining", ctx.draining);
  PutStr(w, "reads", ReadPolicyName(ctx.reads));
  PutStr(w, "mode", WriteModeName(ctx.mode));
  PutI64(w, "failover_hold_ms", ctx.failover_hold_ms);
  PutActive(w, snap);
  PutStr(w, "redirect_addr", snap.redirect_addr);
  PutBool(w, "leader_outside", snap.leader_outside);
  PutBool(w, "leader_down", snap.leader_down);
  w.Key("nodes");
  w.StartArray();
  for (size_t i = 0; i < snap.nodes.size(); ++i) PutNode(w, snap, i, metrics);
  w.EndArray();
  PutCounters(w, metrics);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

HealthAnswer DecideHealth(const ClusterSnapshot& snap, bool draining) {
  int64_t routable = 0;
  for (const NodeView& n : snap.nodes) routable += n.routable ? 1 : 0;
  std::string_view why;
  if (draining) {
    why = "the router is stopping";
  } else if (routable == 0) {
    why = "no node is routable";
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  if (!why.empty()) {
    w.Key("errors");
    w.StartArray();
    PutStrValue(w, why);
    w.EndArray();
  }
  PutBool(w, "healthy", why.empty());
  PutBool(w, "draining", draining);
  PutActive(w, snap);
  PutI64(w, "routable_nodes", routable);
  PutI64(w, "nodes", static_cast<int64_t>(snap.nodes.size()));
  w.EndObject();
  return HealthAnswer{why.empty() ? 200 : 503, std::string(buf.GetString(), buf.GetSize())};
}

}  // namespace halo::router
