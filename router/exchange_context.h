// ExchangeContext: what a ProxyExchange needs from the worker it runs on, and nothing more:
// the current cluster snapshot and settings, the upstream connector, counters and metrics, the
// hold queue, timers and the clock, and the passive signals it sends to the control plane.
// Worker implements it; unit tests implement it with a fake clock (test/router/). All calls
// on the worker's loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/timer.h"
#include "router/balancer.h"
#include "router/cluster_snapshot.h"
#include "router/metrics.h"
#include "router/route_settings.h"
#include "router/upstream_connector.h"

struct event_base;

namespace halo::router {

class ProxyExchange;

class ExchangeContext {
 public:
  virtual ~ExchangeContext() = default;

  virtual const std::shared_ptr<const ClusterSnapshot>& snapshot() const = 0;
  virtual const std::shared_ptr<const RouteSettings>& settings() const = 0;
  // Slots this worker saw fail since the last snapshot (bit = slot).
  virtual uint64_t local_down_slots() const = 0;
  virtual bool draining() const = 0;

  // Where node connections live (the loop they run on, the idle pool).
  virtual event_base* base() = 0;
  virtual UpstreamConnector& upstreams() = 0;
  virtual TimerSource& timers() = 0;
  virtual Rng& rng() = 0;

  virtual RouterCounters& counters() = 0;
  virtual WorkerMetrics& worker_metrics() = 0;
  virtual Metrics& metrics() = 0;

  // The hold queue (requests waiting for an active node), in arrival order.
  virtual void Hold(ProxyExchange* x) = 0;
  virtual void Unhold(ProxyExchange* x) = 0;

  // Passive signals to the control plane.
  virtual void ReportConnectFailure(int slot, const std::string& node, const std::string& why) = 0;
  virtual void ReportStale() = 0;
};

}  // namespace halo::router
