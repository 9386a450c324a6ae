// UpstreamConnector: where a worker's requests to its nodes get their carrier. For HTTP/2
// (RouteSettings::upstream_h2) a stream on one of the node's sessions (at most
// upstream_h2_connections per node, the least loaded first); for HTTP/1.1, or a node that
// turned out not to offer h2 (for kHttp1Hold, then h2 is tried again), a kept-alive
// connection from the idle pool or a new one. Also publishes, per node slot, the protocol
// in use and the open HTTP/2 streams (RouterCounters, for metrics and the status page).
//
// Ownership: the connector owns the pool and the sessions; the caller owns each stream it
// opened until it gives it back with Release(). Single-threaded (the worker's loop).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/http/h2_upstream_session.h"
#include "common/http/upstream_pool.h"
#include "common/http/upstream_stream.h"
#include "router/cluster_snapshot.h"
#include "router/metrics.h"
#include "router/route_settings.h"

struct event_base;

namespace halo::router {

class UpstreamConnector {
 public:
  UpstreamConnector(event_base* base, RouterCounters* counters, int max_slots,
                    int64_t max_idle_per_node);
  ~UpstreamConnector();
  UpstreamConnector(const UpstreamConnector&) = delete;
  UpstreamConnector& operator=(const UpstreamConnector&) = delete;

  // A carrier for one request to `node`, attached to nothing yet; nullptr when connecting
  // failed at once. `verify`: a pooled HTTP/1.1 connection is checked for a close first (for
  // writes). `*pooled`: it reuses an existing connection or session.
  http::UpstreamStream* Open(const NodeView& node, const RouteSettings& settings, bool verify,
                             bool* pooled);
  // Gives a stream back: `reuse` parks an HTTP/1.1 connection; anything else is closed (an
  // unfinished HTTP/2 stream is cancelled, its session lives on).
  void Release(http::UpstreamStream* s, bool reuse);
  // The node went away or restarts: idle HTTP/1.1 connections close, sessions take no new
  // streams (theirs finish).
  void DropSlot(int slot);
  void Clear();
  void set_max_idle(int64_t n) { pool_.set_max_idle(n); }

 private:
  struct Slot {
    std::vector<std::unique_ptr<http::H2UpstreamSession>> sessions;
    int64_t http1_until_ms = 0;  // the node did not offer h2: HTTP/1.1 until then
    int published = 0;           // live sessions counted in RouterCounters::h2_sessions
  };
  // Deletes the slot's dead sessions that are not inside their own callbacks.
  void Sweep(Slot* s);
  void Publish(int slot);
  static int64_t NowMs();

  event_base* base_;
  RouterCounters* counters_;
  http::UpstreamPool pool_;
  std::vector<Slot> slots_;
};

}  // namespace halo::router
