#include "router/metrics.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace halo::router {
namespace {

// Exact codes first; indexes 27..31 are the 1xx..5xx class buckets.
constexpr int kExact[] = {200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405,
                          408, 409, 412, 413, 415, 429, 431, 500, 501, 502, 503, 504, 505};
constexpr int kNumExact = sizeof(kExact) / sizeof(kExact[0]);
static_assert(kNumExact + 5 == kNumStatusIndexes);

void AppendF(std::string* out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void AppendF(std::string* out, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, static_cast<size_t>(n) < sizeof(buf) ? n : sizeof(buf) - 1);
}

}  // namespace

int StatusIndex(int status) {
  for (int i = 0; i < kNumExact; ++i) {
    if (kExact[i] == status) return i;
  }
  int cls = status / 100;
  if (cls < 1 || cls > 5) cls = 5;
  return kNumExact + cls - 1;
}

int StatusForIndex(int index) { return index < kNumExact ? kExact[index] : 0; }

const char* StatusLabel(int index, char (&buf)[16]) {
  if (index < kNumExact) {
    std::snprintf(buf, sizeof(buf), "%d", kExact[index]);
  } else {
    std::snprintf(buf, sizeof(buf), "%dxx", index - kNumExact + 1);
  }
  return buf;
}

void WorkerMetrics::CountRequest(RequestClass cls, int slot, int status, int64_t latency_us) {
  if (slot < 0 || slot > kMaxSlots) slot = kLocalSlot;
  Cell& c = cells_[static_cast<int>(cls)][slot];
  Bump(c.codes[StatusIndex(status)]);
  Bump(c.count);
  if (latency_us < 0) latency_us = 0;
  Bump(c.sum_us, static_cast<uint64_t>(latency_us));
  double secs = static_cast<double>(latency_us) / 1e6;
  size_t b = 0;
  while (b < kLatencyBuckets.size() && secs > kLatencyBuckets[b]) ++b;
  Bump(c.buckets[b]);  // non-cumulative here; rendering accumulates
}

Metrics::Metrics(int workers) {
  for (int i = 0; i < workers; ++i) workers_.push_back(std::make_unique<WorkerMetrics>());
}

uint64_t Metrics::NodeRequests(int slot, RequestClass cls) const {
  if (slot < 0 || slot > kMaxSlots) return 0;
  uint64_t total = 0;
  for (const auto& w : workers_) {
    total += w->cell(static_cast<int>(cls), slot).count.load(std::memory_order_relaxed);
  }
  return total;
}

void Metrics::SetTlsCertificates(std::vector<std::pair<std::string, int64_t>> certs) {
  std::lock_guard<std::mutex> lock(tls_mu_);
  tls_certs_ = std::move(certs);
}

std::string Metrics::RenderPrometheus(const ClusterSnapshot& snap) const {
  std::string out;
  out.reserve(16384);
  auto rl = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };

  // (slot, label) pairs: the snapshot's nodes plus the router itself.
  std::vector<std::pair<int, std::string>> slots;
  for (const NodeView& n : snap.nodes) {
    if (n.slot >= 0 && n.slot < kMaxSlots) slots.emplace_back(n.slot, n.name);
  }
  slots.emplace_back(kLocalSlot, "router");

  out += "# HELP halo_router_requests_total Requests answered, by class, node and status.\n";
  out += "# TYPE halo_router_requests_total counter\n";
  char code[16];
  for (int cls = 0; cls < kNumRequestClasses; ++cls) {
    const char* cname = RequestClassName(static_cast<RequestClass>(cls));
    for (const auto& [slot, name] : slots) {
      for (int s = 0; s < kNumStatusIndexes; ++s) {
        uint64_t v = 0;
        for (const auto& w : workers_) v += rl(w->cell(cls, slot).codes[s]);
        if (v == 0) continue;
        AppendF(&out, "halo_router_requests_total{class=\"%s\",node=\"%s\",code=\"%s\"} %llu\n",
                cname, name.c_str(), StatusLabel(s, code), static_cast<unsigned long long>(v));
      }
    }
  }

  out += "# HELP halo_router_request_duration_seconds Time from request head to response end.\n";
  out += "# TYPE halo_router_request_duration_seconds histogram\n";
  for (int cls = 0; cls < kNumRequestClasses; ++cls) {
    const char* cname = RequestClassName(static_cast<RequestClass>(cls));
    for (const auto& [slot, name] : slots) {
      uint64_t count = 0, sum_us = 0;
      std::array<uint64_t, kLatencyBuckets.size() + 1> b{};
      for (const auto& w : workers_) {
        const WorkerMetrics::Cell& c = w->cell(cls, slot);
        count += rl(c.count);
        sum_us += rl(c.sum_us);
        for (size_t i = 0; i < b.size(); ++i) b[i] += rl(c.buckets[i]);
      }
      if (count == 0) continue;
      uint64_t cum = 0;
      for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        cum += b[i];
        AppendF(&out,
                "halo_router_request_duration_seconds_bucket{class=\"%s\",node=\"%s\",le=\"%g\"} "
                "%llu\n",
                cname, name.c_str(), kLatencyBuckets[i], static_cast<unsigned long long>(cum));
      }
      AppendF(&out,
              "halo_router_request_duration_seconds_bucket{class=\"%s\",node=\"%s\",le=\"+Inf\"} "
              "%llu\n",
              cname, name.c_str(), static_cast<unsigned long long>(count));
      AppendF(&out, "halo_router_request_duration_seconds_sum{class=\"%s\",node=\"%s\"} %.6f\n",
              cname, name.c_str(), static_cast<double>(sum_us) / 1e6);
      AppendF(&out, "halo_router_request_duration_seconds_count{class=\"%s\",node=\"%s\"} %llu\n",
              cname, name.c_str(), static_cast<unsigned long long>(count));
    }
  }

  const RouterCounters& c = counters_;
  struct Simple {
    const char* name;
    const char* type;
    const char* help;
    uint64_t value;
  };
  const Simple simple[] = {
      {"halo_router_failovers_total", "counter", "Times the active node changed.", rl(c.failovers)},
      {"halo_router_held_writes_total", "counter", "Requests held while no active was known.",
       rl(c.held_writes)},
      {"halo_router_held_writes_dispatched_total", "counter",
       "Held requests dispatched to a new active.", rl(c.held_dispatched)},
      {"halo_router_held_writes_expired_total", "counter",
       "Held requests answered 503 after failover_hold_ms.", rl(c.held_expired)},
      {"halo_router_held_writes", "gauge", "Requests held right now.",
       static_cast<uint64_t>(std::max<int64_t>(0, c.held_now.load()))},
      {"halo_router_retries_total", "counter", "Requests re-sent to another node.", rl(c.retries)},
      {"halo_router_upstream_errors_total", "counter",
       "Requests answered 502/504 because their outcome is unknown.", rl(c.upstream_errors)},
      {"halo_router_redirects_total", "counter", "307 redirects generated by the router.",
       rl(c.redirects)},
      {"halo_router_stale_signals_total", "counter",
       "Passive signals (connect failure, standby 307/503) that triggered a re-probe.",
       rl(c.stale_signals)},
      {"halo_router_bad_requests_total", "counter", "Requests refused with 400.",
       rl(c.bad_requests)},
      {"halo_router_headers_too_large_total", "counter", "Requests refused with 431.",
       rl(c.headers_too_large)},
      {"halo_router_bodies_too_large_total", "counter", "Requests refused with 413.",
       rl(c.bodies_too_large)},
      {"halo_router_client_timeouts_total", "counter", "Client connections closed by timeouts.",
       rl(c.timeouts)},
      {"halo_router_connections_accepted_total", "counter", "Client connections accepted.",
       rl(c.connections_accepted)},
      {"halo_router_connections_refused_total", "counter",
       "Client connections closed at once over max_connections.", rl(c.connections_refused)},
      {"halo_router_connections_refused_per_client_total", "counter",
       "Client connections closed at once over max_connections_per_client.",
       rl(c.connections_refused_per_client)},
      {"halo_router_blocking_queries_refused_total", "counter",
       "Blocking sys/leader queries answered 429 over max_blocking_queries.",
       rl(c.blocking_queries_refused)},
      {"halo_router_connections", "gauge", "Client connections open.",
       static_cast<uint64_t>(std::max<int64_t>(0, c.connections_open.load()))},
      {"halo_router_reloads_total", "counter", "Successful SIGHUP reloads.", rl(c.reloads)},
      {"halo_router_reload_failures_total", "counter", "Rejected SIGHUP reloads.",
       rl(c.reload_failures)},
      {"halo_router_tls_reload_failures_total", "counter",
       "Listener certificates that did not load on reload (the old one stays).",
       rl(c.tls_reload_failures)},
      {"halo_router_access_log_lines_total", "counter", "Access log lines buffered for writing.",
       rl(c.access_log_lines)},
      {"halo_router_access_log_dropped_total", "counter",
       "Access log lines dropped because the buffer was full (the writer fell behind).",
       rl(c.access_log_dropped)},
      {"halo_router_access_log_write_errors_total", "counter",
       "Failed writes of the access log (their lines are lost).", rl(c.access_log_write_errors)},
      {"halo_router_access_log_reopen_failures_total", "counter",
       "SIGUSR1 reopens of the access log that failed (the old file stays).",
       rl(c.access_log_reopen_failures)},
  };
  for (const Simple& s : simple) {
    AppendF(&out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", s.name, s.help, s.name, s.type, s.name,
            static_cast<unsigned long long>(s.value));
  }

  {
    std::lock_guard<std::mutex> lock(tls_mu_);
    if (!tls_certs_.empty()) {
      out +=
          "# HELP halo_router_tls_certificate_expiry_seconds Seconds until the listener's "
          "certificate expires (negative once it has).\n";
      out += "# TYPE halo_router_tls_certificate_expiry_seconds gauge\n";
      int64_t now = static_cast<int64_t>(std::time(nullptr));
      for (const auto& [listener, not_after] : tls_certs_) {
        AppendF(&out, "halo_router_tls_certificate_expiry_seconds{listener=\"%s\"} %lld\n",
                listener.c_str(), static_cast<long long>(not_after - now));
      }
    }
  }
  out += "# HELP halo_router_node_up Whether the node may get traffic (1) or not (0).\n";
  out += "# TYPE halo_router_node_up gauge\n";
  for (const NodeView& n : snap.nodes) {
    AppendF(&out, "halo_router_node_up{node=\"%s\",role=\"%s\"} %d\n", n.name.c_str(),
            NodeRoleName(n.role), n.routable ? 1 : 0);
  }
  out += "# HELP halo_router_node_active Whether the node is the active the router writes to.\n";
  out += "# TYPE halo_router_node_active gauge\n";
  for (size_t i = 0; i < snap.nodes.size(); ++i) {
    AppendF(&out, "halo_router_node_active{node=\"%s\"} %d\n", snap.nodes[i].name.c_str(),
            snap.active == static_cast<int>(i) ? 1 : 0);
  }
  out += "# HELP halo_router_node_in_flight Requests outstanding at the node.\n";
  out += "# TYPE halo_router_node_in_flight gauge\n";
  for (const NodeView& n : snap.nodes) {
    if (n.slot < 0 || n.slot >= kMaxSlots) continue;
    AppendF(&out, "halo_router_node_in_flight{node=\"%s\"} %d\n", n.name.c_str(),
            c.inflight[n.slot].load(std::memory_order_relaxed));
  }
  out +=
      "# HELP halo_router_requests_by_protocol_total Requests by the protocol that carried them: "
      "side=\"client\" what clients spoke, side=\"upstream\" what went to the nodes.\n";
  out += "# TYPE halo_router_requests_by_protocol_total counter\n";
  AppendF(&out, "halo_router_requests_by_protocol_total{side=\"client\",protocol=\"h2\"} %llu\n",
          static_cast<unsigned long long>(rl(c.client_requests_h2)));
  AppendF(&out, "halo_router_requests_by_protocol_total{side=\"client\",protocol=\"http1\"} %llu\n",
          static_cast<unsigned long long>(rl(c.client_requests_http1)));
  AppendF(&out, "halo_router_requests_by_protocol_total{side=\"upstream\",protocol=\"h2\"} %llu\n",
          static_cast<unsigned long long>(rl(c.upstream_requests_h2)));
  AppendF(&out,
          "halo_router_requests_by_protocol_total{side=\"upstream\",protocol=\"http1\"} %llu\n",
          static_cast<unsigned long long>(rl(c.upstream_requests_http1)));
  out += "# HELP halo_router_node_h2_open_streams HTTP/2 streams open to the node (all workers).\n";
  out += "# TYPE halo_router_node_h2_open_streams gauge\n";
  for (const NodeView& n : snap.nodes) {
    if (n.slot < 0 || n.slot >= kMaxSlots) continue;
    AppendF(&out, "halo_router_node_h2_open_streams{node=\"%s\"} %d\n", n.name.c_str(),
            c.h2_streams[n.slot].load(std::memory_order_relaxed));
  }
  out += "# HELP halo_router_node_h2_connections HTTP/2 connections open to the node.\n";
  out += "# TYPE halo_router_node_h2_connections gauge\n";
  for (const NodeView& n : snap.nodes) {
    if (n.slot < 0 || n.slot >= kMaxSlots) continue;
    AppendF(&out, "halo_router_node_h2_connections{node=\"%s\"} %d\n", n.name.c_str(),
            c.h2_sessions[n.slot].load(std::memory_order_relaxed));
  }
  out += "# HELP halo_router_node_connect_failures_total Failed connects to the node.\n";
  out += "# TYPE halo_router_node_connect_failures_total counter\n";
  for (const NodeView& n : snap.nodes) {
    if (n.slot < 0 || n.slot >= kMaxSlots) continue;
    AppendF(&out, "halo_router_node_connect_failures_total{node=\"%s\"} %llu\n", n.name.c_str(),
            static_cast<unsigned long long>(rl(c.connect_failures[n.slot])));
  }
  return out;
}

}  // namespace halo::router
