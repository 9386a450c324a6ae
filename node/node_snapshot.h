// NodeSnapshot: what a node knows about itself and its cluster at one instant, as plain
// values. The sys/* handlers are pure functions over a snapshot (node/sys_handlers.h); the
// daemon builds one per request on its event loop.
#pragma once

#include <cstdint>
#include <string>

namespace halo::node {

// Who holds the HA lock, as this node last saw it.
struct LeaderView {
  bool known = false;
  std::string api_addr;      // the active node's advertised api_addr
  std::string cluster_addr;  // its advertised cluster_addr (informational)
  uint64_t epoch = 0;        // its fencing epoch; sys/leader's "index" (0 = none seen yet)

  bool operator==(const LeaderView&) const = default;
};

struct NodeSnapshot {
  bool initialized = true;
  bool sealed = false;
  bool ha_enabled = true;           // false: a single node without an HA lock, always active
  bool active = false;              // this node holds the lock and may write
  int64_t active_since_micros = 0;  // wall time this node became active (when active)
  LeaderView leader;                // when active, this node itself
  std::string cluster_name;
  std::string cluster_id;
  std::string storage_type;  // "lmdb", "file", ...
  int64_t now_micros = 0;    // wall clock, for server_time_utc
};

}  // namespace halo::node
