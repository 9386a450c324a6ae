// Node: one halo-node process, wired together. Owns the event loop, the storage backend,
// the HA lock backend and its Elector, the leader watcher, the forwarder, the NodeApi and
// the HTTP server, and turns SIGTERM/SIGINT into a graceful shutdown.
//
// Election wiring: Elector::on_active(epoch) records the epoch in storage (RecordEpoch,
// durable) and only then makes the NodeApi active with it, so no write of this term can be
// accepted before storage refuses the older terms; on_standby makes it a standby at once
// (MayWrite is already false by then). Liveness: the elector also ends the term when the
// serving loop or the storage writer stops making progress (liveness_timeout). The LeaderWatcher
// polls the lock holder every leader_check_interval and feeds the NodeApi's leader view
// (forwarding, 307, sys/leader). Without an HA lock (file storage without ha_storage) the node is
// always active.
//
// Threading: everything but the elector's and watcher's threads (and the backend's writer
// threads) runs on the loop thread; they reach it through a LoopTaskQueue.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <memory>
#include <string>

#include "common/loop_task_queue.h"
#include "common/net/resolver.h"
#include "common/result.h"
#include "common/timer.h"
#include "lock/elector.h"
#include "lock/lock_backend.h"
#include "node/forwarder.h"
#include "node/leader_watcher.h"
#include "node/node_api.h"
#include "node/node_config.h"
#include "storage/backend.h"

namespace halo::http {
class HttpServer;
class HttpHandler;
}  // namespace halo::http

namespace halo::node {

class HttpForwarder;

class Node {
 public:
  // Opens storage and the lock, binds the listener (nothing is served until Run()).
  // Errors name what failed (config path, lock file, address in use...).
  static Result<std::unique_ptr<Node>> Create(NodeConfig config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The startup banner, with the address actually bound.
  std::string Banner() const;
  // Starts the election and serves until SIGTERM/SIGINT, then shuts down gracefully.
  // Returns the process exit code (0 after a clean shutdown).
  int Run();

 private:
  explicit Node(NodeConfig config);
  Status Init();
  Status StartElection();
  void OnActive(uint64_t epoch);
  void OnStandby(lock::StandbyReason reason, const std::string& detail);
  static void OnSignal(evutil_socket_t sig, short, void* arg);
  void ReloadTls();
  void BeginShutdown(int sig);
  static void OnDrainTick(evutil_socket_t, short, void* arg);
  // Liveness: the serving loop stamps loop_progress_ns_ every liveness_timeout / 6; the
  // elector's watchdog reads LastProgress() (the older of that and the storage writer's
  // progress) and ends the term of a hung node.
  void OnLivenessTick();
  TimePoint LastProgress() const;
  // Steps down and releases the lock (once no request is in flight).
  void ReleaseLock();
  // Exits the loop once the lock is released and the server has closed every connection.
  void MaybeExit();

  NodeConfig config_;
  event_base* base_ = nullptr;
  std::shared_ptr<LoopTaskQueue> poster_;
  std::unique_ptr<net::Resolver> resolver_;  // names: the listener, api_addr of the active
  std::unique_ptr<storage::Backend> backend_;
  lock::LockBackendPtr lock_backend_;
  std::unique_ptr<lock::Elector> elector_;
  std::unique_ptr<LeaderWatcher> watcher_;
  std::unique_ptr<Forwarder> forwarder_;
  HttpForwarder* http_forwarder_ = nullptr;  // forwarder_ itself (SIGHUP reloads its TLS)
  std::unique_ptr<NodeApi> api_;
  std::unique_ptr<http::HttpServer> server_;
  std::string listen_address_;
  event* sigterm_ = nullptr;
  event* sighup_ = nullptr;
  event* sigint_ = nullptr;
  event* drain_timer_ = nullptr;
  std::unique_ptr<http::HttpHandler> handler_;
  std::unique_ptr<TimerSource> timers_;
  std::unique_ptr<Timer> liveness_timer_;
  std::atomic<int64_t> loop_progress_ns_{0};
  bool shutting_down_ = false;
  bool lock_released_ = false;
  bool server_closed_ = false;
  TimePoint drain_deadline_{};
};

}  // namespace halo::node
