// Controller: the router's control plane, on the main thread's event loop.
//
// Owns the ClusterView and feeds it: a sys/health probe per node every interval (rise/fall),
// the blocking sys/leader query per node (?index=N&wait=...) so a leader change is pushed
// within milliseconds, and passive signals from the workers (connect failures, a write
// answered by a standby's 307/503), which re-probe at once. Every snapshot change is
// published to the workers through `publish`.
//
// Probes and leader queries go through one http::HttpClient (keep-alive connections per
// node, common/http/http_client.h); a leader query that blocks for leader_wait occupies one
// connection and never delays the health probes, which take another. A probe that fails
// (connect, timeout, bad answer) is a failed health check for the ClusterView. Loop thread
// only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/http/http_client.h"
#include "router/cluster_view.h"
#include "router/metrics.h"
#include "router/router_config.h"

struct event;
struct event_base;

namespace halo::router {

class Controller {
 public:
  using Publish = std::function<void(std::shared_ptr<const ClusterSnapshot>)>;

  // `cfg.nodes` must be resolved (DnsRefresher::ExpandBlocking, router/dns_refresher.h).
  // `upstream_tls`: the client context for probes and leader queries (nullptr: plaintext).
  Controller(event_base* base, const RouterConfig& cfg, Metrics* metrics, Publish publish,
             std::shared_ptr<const net::TlsContext> upstream_tls = nullptr);
  // A reloaded upstream_tls context for the probes' new connections.
  void SetUpstreamTls(std::shared_ptr<const net::TlsContext> tls) {
    client_->SetTls(std::move(tls));
  }
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts probing (the first probes go out at once).
  void Start();
  // SIGHUP: new node set and timings; unchanged nodes keep their state and connections.
  void Reconfigure(const RouterConfig& cfg);
  // Loop thread only (workers reach these through the control LoopTaskQueue).
  void OnPassiveFailure(const std::string& node, const std::string& why);
  void ProbeAllNow();
  void Stop();

  std::shared_ptr<const ClusterSnapshot> snapshot() const { return view_.snapshot(); }

 private:
  struct NodeProbe {
    Controller* owner = nullptr;
    uint64_t serial = 0;  // unique per NodeProbe: results find their probe by it
    std::string name;
    net::NetAddress addr;
    std::string host_header;
    event* health_timer = nullptr;
    event* leader_timer = nullptr;
    // The request in flight, by sequence number (0: none). A result whose number does not
    // match is stale (its probe was cancelled) and is dropped.
    uint64_t health = 0;
    uint64_t leader = 0;
    int64_t leader_index = -1;
    bool probe_again = false;  // a probe was asked for while one was in flight
  };

  static void OnHealthTimer(int fd, short what, void* arg);
  static void OnLeaderTimer(int fd, short what, void* arg);
  std::unique_ptr<NodeProbe> NewProbe(const NodeConfig& n);
  NodeProbe* FindProbe(uint64_t serial) const;
  void SendProbe(NodeProbe* p, const std::string& path, int64_t timeout_ms, bool leader);
  void StartHealth(NodeProbe* p);
  void StartLeader(NodeProbe* p);
  void OnHealthResult(NodeProbe* p, Result<http::Response> r);
  void OnLeaderResult(NodeProbe* p, Result<http::Response> r);
  void FreeProbe(NodeProbe* p);
  void ScheduleHealth(NodeProbe* p, int64_t ms);
  void ScheduleLeader(NodeProbe* p, int64_t ms);
  void Apply(const ClusterView::Change& c);
  int IndexOf(const NodeProbe* p) const;
  void BuildProbes();
  void FreeProbes();

  event_base* base_;
  Metrics* metrics_;
  Publish publish_;
  HealthCheckConfig hc_;
  std::vector<NodeConfig> nodes_;
  ClusterView view_;
  std::vector<std::unique_ptr<NodeProbe>> probes_;
  std::unique_ptr<http::HttpClient> client_;
  uint64_t next_serial_ = 1;
  uint64_t next_seq_ = 1;
  std::string last_active_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace halo::router
