// Worker: one data-path thread with its own event loop, listener (SO_REUSEPORT when there
// are several workers), client connections, upstream pool and held-request queue.
//
// The control thread talks to it only through Post(): new cluster snapshots, new settings
// (SIGHUP), drain (SIGTERM). It talks back through the `to_control` function given at
// construction (passive signals: connect failures, stale views). Everything else in here
// runs on the worker's own thread.
#pragma once

#include <event2/util.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>

#include "common/http/upstream_pool.h"
#include "common/loop_task_queue.h"
#include "common/result.h"
#include "router/balancer.h"
#include "router/cluster_snapshot.h"
#include "router/metrics.h"
#include "router/route_settings.h"

struct event_base;
struct evconnlistener;
struct sockaddr;

namespace halo::router {

class Http1Connection;
class ProxyExchange;

// Signals from a worker to the control plane.
class ControlSink {
 public:
  virtual ~ControlSink() = default;
  // A connect to the node failed (or the connection reset before any byte): thread-safe.
  virtual void PassiveFailure(const std::string& node, const std::string& why) = 0;
  // The view looks stale (a write answered by a standby's 307/503): re-probe now.
  virtual void ProbeNow() = 0;
  // The worker finished draining (no client connections left).
  virtual void WorkerDrained(int worker_id) = 0;
};

class Worker {
 public:
  Worker(int id, Metrics* metrics, ControlSink* control);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the loop and binds the listener (errors surface before any thread starts).
  Status Init(const std::string& host, uint16_t port, bool reuse_port,
              std::shared_ptr<const RouteSettings> settings,
              std::shared_ptr<const ClusterSnapshot> snapshot);
  void Start();
  void Join();
  // Thread-safe: runs `fn` on the worker's loop.
  void Post(std::function<void()> fn);

  // Thread-safe wrappers (posted).
  void PublishSnapshot(std::shared_ptr<const ClusterSnapshot> snap);
  void PublishSettings(std::shared_ptr<const RouteSettings> settings);
  void Drain();
  void Stop();

  // --- Loop-thread API for connections and exchanges ---
  event_base* base() const { return base_; }
  int id() const { return id_; }
  const std::shared_ptr<const ClusterSnapshot>& snapshot() const { return snapshot_; }
  const std::shared_ptr<const RouteSettings>& settings() const { return settings_; }
  http::UpstreamPool& pool() { return *pool_; }
  Metrics& metrics() { return *metrics_; }
  WorkerMetrics& worker_metrics() { return *metrics_->worker(id_); }
  RouterCounters& counters() { return metrics_->counters(); }
  Rng& rng() { return rng_; }
  bool draining() const { return draining_; }
  // Slots the worker saw fail since the last snapshot (bit = slot).
  uint64_t local_down_slots() const { return local_down_slots_; }
  void ReportConnectFailure(int slot, const std::string& node, const std::string& why);
  void ReportStale();
  void Hold(ProxyExchange* x);
  void Unhold(ProxyExchange* x);
  void ConnClosed(Http1Connection* c);

 private:
  static void OnAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  void SetSnapshot(std::shared_ptr<const ClusterSnapshot> snap);
  void DispatchHeld();
  void MaybeDrained();

  const int id_;
  Metrics* metrics_;
  ControlSink* control_;
  event_base* base_ = nullptr;
  evconnlistener* listener_ = nullptr;
  std::shared_ptr<LoopTaskQueue> queue_;
  std::unique_ptr<http::UpstreamPool> pool_;
  std::shared_ptr<const ClusterSnapshot> snapshot_;
  std::shared_ptr<const RouteSettings> settings_;
  std::unordered_set<Http1Connection*> conns_;
  std::list<ProxyExchange*> held_;
  Rng rng_;
  uint64_t local_down_slots_ = 0;
  bool draining_ = false;
  bool drained_reported_ = false;
  std::thread thread_;
};

}  // namespace halo::router
