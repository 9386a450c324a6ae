// RouterServer: the halo-router process: control loop (signals, probes, reload) on the
// calling thread plus `workers` data-path threads.
//
//   SIGHUP  reloads the config file: rules, policy, limits and nodes change for new
//           requests; open connections are kept (listener address and worker count are
//           fixed for the life of the process).
//   SIGTERM / SIGINT  stop accepting, finish (or 503) what is in flight, exit 0; after
//           drain_timeout whatever is left is closed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/loop_task_queue.h"
#include "common/result.h"
#include "router/controller.h"
#include "router/metrics.h"
#include "router/router_config.h"
#include "router/worker.h"

struct event;
struct event_base;

namespace halo::router {

class RouterServer : private ControlSink {
 public:
  // Loads and validates the config, binds the listeners. Nothing runs yet.
  static Result<std::unique_ptr<RouterServer>> Create(const std::string& config_path);
  ~RouterServer() override;

  // Runs until SIGTERM/SIGINT and the drain; returns the process exit code.
  int Run();

 private:
  RouterServer(std::string config_path, RouterConfig cfg);
  Status Init();
  void PrintBanner() const;

  // ControlSink: called from worker threads; hop onto the control loop.
  void PassiveFailure(const std::string& node, const std::string& why) override;
  void ProbeNow() override;
  void WorkerDrained(int worker_id) override;

  static void OnSignal(int sig, short what, void* arg);
  static void OnDrainTimeout(int fd, short what, void* arg);
  void Reload();
  void BeginDrain();
  void Finish();

  std::string config_path_;
  RouterConfig cfg_;
  uint64_t generation_ = 1;
  event_base* base_ = nullptr;
  std::shared_ptr<LoopTaskQueue> control_queue_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Controller> controller_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<event*> signal_events_;
  event* drain_timer_ = nullptr;
  int drained_ = 0;
  bool draining_ = false;
  bool probe_pending_ = false;
};

}  // namespace halo::router
