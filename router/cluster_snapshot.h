// ClusterSnapshot: an immutable picture of the cluster that the data path routes by.
//
// Built by ClusterView on the control thread whenever something that matters for routing
// changes, then handed to every worker (shared_ptr<const>), so workers read it without
// locks. Node indexes are positions in `nodes`; `slot` is the node's stable metrics index
// (kept across reloads by name).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/net/net_address.h"
#include "router/health_info.h"

namespace halo::router {

// Node slots (stable per-node indexes for counters and pools) are in [0, kMaxSlots).
inline constexpr int kMaxSlots = 64;

struct NodeView {
  std::string name;
  std::string host;
  uint16_t port = 0;
  std::string address;  // "host:port" the router connects to
  net::NetAddress resolved;
  int slot = 0;  // stable index for per-node counters
  NodeRole role = NodeRole::kUnknown;
  bool up = false;        // reachable per rise/fall (and not passively ejected)
  bool routable = false;  // up, initialised and unsealed: may get traffic
  int health_status = 0;  // last sys/health code, 0 if none
  std::string api_addr;   // what the node advertises for itself, when known
  std::string last_error;
};

struct ClusterSnapshot {
  uint64_t version = 0;
  std::vector<NodeView> nodes;
  int active = -1;  // index of the routable active node, -1 when none
  // Where a 307 for a write points: the active's advertised api_addr, or a leader address the
  // standbys report that is not one of our nodes. Empty when no usable leader is known.
  std::string redirect_addr;
  // A leader is known but it is not among our nodes: standbys can still forward to it.
  bool leader_outside = false;
  // The reported leader is one of our nodes, and the router cannot reach it.
  bool leader_down = false;
  // Indexes of routable standbys, and of every routable node (active included).
  std::vector<int> standbys;
  std::vector<int> routable;
};

}  // namespace halo::router
