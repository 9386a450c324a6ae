// Router metrics: per-worker request counters and latency histograms, process-wide event
// counters, and their Prometheus text rendering (GET /_halo/metrics).
//
// Hot-path counters live in WorkerMetrics, written by one worker thread only (relaxed
// load+store, no locked instructions) and read by whichever worker renders a scrape. Rare
// events (failovers, held writes, reloads) are shared atomics in RouterCounters. Node labels
// come from the snapshot being rendered; slot kLocalSlot is the router itself (redirects,
// its own 4xx/503 answers).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "router/client_counts.h"
#include "router/cluster_snapshot.h"
#include "router/route_types.h"

namespace halo::router {

inline constexpr int kLocalSlot = kMaxSlots;  // answered by the router itself

// Upper bounds (seconds) of the latency histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30};

// Status codes are counted in a small fixed table: common codes exactly, others per class.
int StatusIndex(int status);
int StatusForIndex(int index);                        // 0 for a class bucket
const char* StatusLabel(int index, char (&buf)[16]);  // "200" or "5xx"
inline constexpr int kNumStatusIndexes = 32;

class WorkerMetrics {
 public:
  WorkerMetrics() = default;
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  // One finished request. `slot` is the serving node's slot or kLocalSlot.
  void CountRequest(RequestClass cls, int slot, int status, int64_t latency_us);

  struct Cell {
    std::array<std::atomic<uint64_t>, kNumStatusIndexes> codes{};
    std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_us{0};
  };
  const Cell& cell(int cls, int slot) const { return cells_[cls][slot]; }

 private:
  static void Bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  std::array<std::array<Cell, kMaxSlots + 1>, kNumRequestClasses> cells_;
};

// Process-wide counters for rarer events. All relaxed atomics.
struct RouterCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};             // over max_connections
  std::atomic<uint64_t> connections_refused_per_client{0};  // over max_connections_per_client
  std::atomic<int64_t> blocking_queries{0};                 // sys/leader?index= in flight
  std::atomic<uint64_t> blocking_queries_refused{0};        // 429 over max_blocking_queries
  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> bad_requests{0};       // 400 from the router's own checks
  std::atomic<uint64_t> headers_too_large{0};  // 431
  std::atomic<uint64_t> bodies_too_large{0};   // 413
  std::atomic<uint64_t> timeouts{0};           // header / idle timeouts that closed
  std::atomic<uint64_t> redirects{0};          // 307s the router generated
  std::atomic<uint64_t> failovers{0};          // the snapshot's active node changed
  std::atomic<uint64_t> held_writes{0};        // requests that waited for an active
  std::atomic<int64_t> held_now{0};
  std::atomic<uint64_t> held_dispatched{0};
  std::atomic<uint64_t> held_expired{0};     // answered 503 after failover_hold_ms
  std::atomic<uint64_t> retries{0};          // re-sent to another (or the new) node
  std::atomic<uint64_t> upstream_errors{0};  // 502/504 for unknown outcomes
  std::atomic<uint64_t> stale_signals{0};    // passive signals that re-probed
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};
  std::atomic<uint64_t> tls_reload_failures{0};  // listeners that kept their old certificate
  // The access log (router/access_log.h).
  std::atomic<uint64_t> access_log_lines{0};
  std::atomic<uint64_t> access_log_dropped{0};  // buffer full
  std::atomic<uint64_t> access_log_write_errors{0};
  std::atomic<uint64_t> access_log_reopen_failures{0};
  std::array<std::atomic<int32_t>, kMaxSlots> inflight{};  // per node slot, all workers
  std::array<std::atomic<uint64_t>, kMaxSlots> connect_failures{};
  // Requests by protocol: what clients spoke, and what carried them to a node.
  std::atomic<uint64_t> client_requests_h2{0};
  std::atomic<uint64_t> client_requests_http1{0};
  std::atomic<uint64_t> upstream_requests_h2{0};
  std::atomic<uint64_t> upstream_requests_http1{0};
  // Per node slot, all workers: open HTTP/2 streams and sessions, and the protocol the last
  // request to it used (0 none yet, 1 HTTP/1.1, 2 h2).
  std::array<std::atomic<int32_t>, kMaxSlots> h2_streams{};
  std::array<std::atomic<int32_t>, kMaxSlots> h2_sessions{};
  std::array<std::atomic<uint8_t>, kMaxSlots> upstream_protocol{};
};

class Metrics {
 public:
  explicit Metrics(int workers);
  WorkerMetrics* worker(int i) { return workers_[i].get(); }
  RouterCounters& counters() { return counters_; }
  const RouterCounters& counters() const { return counters_; }
  // Open connections per client IP (limits.max_connections_per_client).
  ClientCounts& client_counts() { return client_counts_; }

  // Total requests a node slot served, per class, summed over workers.
  uint64_t NodeRequests(int slot, RequestClass cls) const;

  // Prometheus text exposition format 0.0.4.
  std::string RenderPrometheus(const ClusterSnapshot& snap) const;

  // The TLS listeners' certificates: address and notAfter (Unix seconds), replaced at start
  // and on each reload (control thread); rendered as seconds to expiry. Thread-safe.
  void SetTlsCertificates(std::vector<std::pair<std::string, int64_t>> certs);

 private:
  mutable std::mutex tls_mu_;
  std::vector<std::pair<std::string, int64_t>> tls_certs_;
  std::vector<std::unique_ptr<WorkerMetrics>> workers_;
  RouterCounters counters_;
  ClientCounts client_counts_;
};

}  // namespace halo::router
