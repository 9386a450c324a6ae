// Worker: one data-path thread with its own event loop, listener (SO_REUSEPORT when there
// are several workers), client connections, upstream pool and held-request queue. Worker 0
// also owns the admin listener (the router's /_halo/* pages): the same TcpListener and
// Http1ServerConnection, with a host whose exchanges serve only those pages.
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
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/event_timer_source.h"
#include "common/http/http1_server_connection.h"
#include "common/http/server_connection_host.h"
#include "common/loop_task_queue.h"
#include "common/net/net_address.h"
#include "common/net/tcp_listener.h"
#include "common/result.h"
#include "router/balancer.h"
#include "router/cluster_snapshot.h"
#include "router/exchange_context.h"
#include "router/metrics.h"
#include "router/route_settings.h"

struct event_base;
struct sockaddr;

namespace halo::router {

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

class Worker final : private http::ServerConnectionHost, public ExchangeContext {
 public:
  Worker(int id, Metrics* metrics, ControlSink* control);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // A client listener to bind: its resolved address and "host:port" (labels errors).
  struct ListenAddress {
    net::NetAddress addr;
    std::string name;
  };
  // Creates the loop and binds the client listeners (settings->listener_server[i] applies to
  // listens[i]'s connections); errors surface before any thread starts.
  Status Init(const std::vector<ListenAddress>& listens, bool reuse_port,
              std::shared_ptr<const RouteSettings> settings,
              std::shared_ptr<const ClusterSnapshot> snapshot);
  // Binds the admin listener on this worker (worker 0 only; after Init).
  Status InitAdmin(const net::NetAddress& addr, const std::string& name);
  void Start();
  void Join();
  // Thread-safe: runs `fn` on the worker's loop.
  void Post(std::function<void()> fn);

  // Thread-safe wrappers (posted).
  void PublishSnapshot(std::shared_ptr<const ClusterSnapshot> snap);
  void PublishSettings(std::shared_ptr<const RouteSettings> settings);
  // After a stop signal, before Drain(): keep accepting, but close every connection after its
  // current request (HTTP/1.1 Connection: close, h2 GOAWAY) and fail /_halo/health.
  void SoftStop();
  void Drain();
  void Stop();

  int id() const { return id_; }

  // --- ExchangeContext (loop thread) ---
  const std::shared_ptr<const ClusterSnapshot>& snapshot() const override { return snapshot_; }
  const std::shared_ptr<const RouteSettings>& settings() const override { return settings_; }
  uint64_t local_down_slots() const override { return local_down_slots_; }
  bool draining() const override { return draining_ || stopping_; }
  event_base* base() override { return base_; }
  UpstreamConnector& upstreams() override { return *upstreams_; }
  TimerSource& timers() override { return *timers_; }
  Rng& rng() override { return rng_; }
  RouterCounters& counters() override { return metrics_->counters(); }
  WorkerMetrics& worker_metrics() override { return *metrics_->worker(id_); }
  Metrics& metrics() override { return *metrics_; }
  void Hold(ProxyExchange* x) override;
  void Unhold(ProxyExchange* x) override;
  void ReportConnectFailure(int slot, const std::string& node, const std::string& why) override;
  void ReportStale() override;

 private:
  // http::ServerConnectionHost
  std::unique_ptr<http::ServerExchange> NewExchange(http::Downstream* downstream) override;
  void OnBadRequest(int status) override;
  void OnTimeout() override;
  void OnConnectionClosed(http::ServerConnection* c) override;
  void OnConnectionReplaced(http::ServerConnection* from, http::ServerConnection* to) override;

  // The admin listener's connections: ProxyExchanges in admin mode, not counted as clients.
  class AdminHost final : public http::ServerConnectionHost {
   public:
    explicit AdminHost(Worker* w) : w_(w) {}
    std::unique_ptr<http::ServerExchange> NewExchange(http::Downstream* downstream) override;
    bool draining() const override { return w_->draining_; }
    void OnBadRequest(int) override {}
    void OnTimeout() override {}
    void OnConnectionClosed(http::ServerConnection* c) override;
    void OnConnectionReplaced(http::ServerConnection* from, http::ServerConnection* to) override;

   private:
    Worker* w_;
  };

  void OnAccept(size_t listener, evutil_socket_t fd, const sockaddr* peer);
  void OnAdminAccept(evutil_socket_t fd, const sockaddr* peer);
  void CloseConnections();
  void SetSnapshot(std::shared_ptr<const ClusterSnapshot> snap);
  void DispatchHeld();
  void MaybeDrained();

  const int id_;
  Metrics* metrics_;
  ControlSink* control_;
  event_base* base_ = nullptr;
  std::unique_ptr<EventTimerSource> timers_;
  std::vector<std::unique_ptr<net::TcpListener>> listeners_;
  std::shared_ptr<LoopTaskQueue> queue_;
  std::unique_ptr<UpstreamConnector> upstreams_;
  std::shared_ptr<const ClusterSnapshot> snapshot_;
  std::shared_ptr<const RouteSettings> settings_;
  // Open client connections, each with the IP counted for max_connections_per_client ("" if
  // not counted).
  std::unordered_map<http::ServerConnection*, std::string> conns_;
  AdminHost admin_host_{this};
  std::unique_ptr<net::TcpListener> admin_listener_;
  std::unordered_set<http::ServerConnection*> admin_conns_;
  std::list<ProxyExchange*> held_;
  Rng rng_;
  uint64_t local_down_slots_ = 0;
  bool stopping_ = false;  // SoftStop() or Drain() seen
  bool draining_ = false;
  bool drained_reported_ = false;
  std::thread thread_;
};

}  // namespace halo::router
