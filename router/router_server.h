// RouterServer: the halo-router process: control loop (signals, probes, reload) on the
// calling thread plus `workers` data-path threads.
//
//   SIGHUP  reloads the config file: rules, policy, limits and nodes change for new
//           requests; open connections are kept (listener address and worker count are
//           fixed for the life of the process). Node names are resolved asynchronously
//           (the control loop keeps serving); the new config applies when every name has
//           an answer, or is dropped, naming the node, if one cannot be resolved. A SIGHUP
//           during that wait replaces the pending reload.
//
// Names are resolved through the net::Resolver given to Create() (common/net/resolver.h):
// blocking at startup (nodes and the listener, before any loop runs), asynchronous on reload.
//   SIGTERM / SIGINT  stop accepting, finish (or 503) what is in flight, exit 0; after
//           drain_timeout whatever is left is closed.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/http/body_budget.h"
#include "common/loop_task_queue.h"
#include "common/net/resolver.h"
#include "common/result.h"
#include "router/access_log.h"
#include "router/controller.h"
#include "router/dns_refresher.h"
#include "router/metrics.h"
#include "router/router_config.h"
#include "router/worker.h"

struct event;
struct event_base;

namespace halo::router {

class RouterServer : private ControlSink {
 public:
  // Loads and validates the config, resolves the names, binds the listeners. Nothing runs
  // yet. REQUIRES: `resolver` is not null.
  // `resolver` nullptr: c-ares (common/net/ares_resolver.h) with the config's dns_servers.
  static Result<std::unique_ptr<RouterServer>> Create(
      const std::string& config_path, std::unique_ptr<net::Resolver> resolver = nullptr);
  ~RouterServer() override;

  // Runs until SIGTERM/SIGINT and the drain; returns the process exit code.
  int Run();

 private:
  struct PendingReload;  // a loaded config waiting for its node names (router_server.cc)

  RouterServer(std::string config_path, RouterConfig cfg, std::unique_ptr<net::Resolver> resolver);
  Status Init();
  void PrintBanner() const;

  // ControlSink: called from worker threads; hop onto the control loop.
  void PassiveFailure(const std::string& node, const std::string& why) override;
  void ProbeNow() override;
  void WorkerDrained(int worker_id) override;

  static void OnSignal(int sig, short what, void* arg);
  static void OnDrainTimeout(int fd, short what, void* arg);
  static void OnGraceEnd(int fd, short what, void* arg);
  void Reload();
  void OnReloadResolved(size_t node, Result<std::vector<net::NetAddress>> addrs);
  void ApplyReload(RouterConfig cfg);
  void ReloadTls(RouterConfig& cfg);
  void PublishTlsExpiry();
  void ReloadUpstreamTls(RouterConfig& cfg);
  void ReloadFailed(const Status& st);
  // A stop signal: the shutdown_grace (if any), then the drain; a second signal skips ahead.
  void OnStopSignal();
  void BeginDrain();
  void Finish();
  std::shared_ptr<const RouteSettings> MakeSettings() const;

  std::string config_path_;
  RouterConfig cfg_;
  std::unique_ptr<net::Resolver> resolver_;
  std::unique_ptr<PendingReload> reload_;  // SIGHUP waiting for names; control loop only
  uint64_t generation_ = 1;
  event_base* base_ = nullptr;
  std::shared_ptr<LoopTaskQueue> control_queue_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<AccessLog> access_log_;  // nullptr: off
  // limits.max_body_bytes_in_flight across every worker; its limit follows reloads.
  std::shared_ptr<http::BodyBudget> body_budget_;
  // One per cfg_.listeners entry (nullptr: plaintext); replaced on reload.
  std::vector<std::shared_ptr<const net::TlsContext>> tls_;
  std::shared_ptr<const net::TlsContext> upstream_tls_;  // nullptr: plaintext to the nodes
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<DnsRefresher> dns_;  // re-resolves node names; control loop
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<event*> signal_events_;
  event* drain_timer_ = nullptr;
  event* grace_timer_ = nullptr;
  int drained_ = 0;
  bool stopping_ = false;  // in shutdown_grace or draining
  bool draining_ = false;
  bool probe_pending_ = false;
};

}  // namespace halo::router
