// UpstreamPool: a worker's idle keep-alive connections to the nodes, by node slot.
//
// LIFO per node (the warmest connection first). Connections the node closed while parked
// are noticed by their own event callback and dropped at the next Take/Put/Sweep. Owned and
// used by one worker thread.
#pragma once

#include <cstdint>
#include <vector>

#include "common/net/net_address.h"
#include "router/metrics.h"
#include "router/upstream_conn.h"

namespace halo::router {

class UpstreamPool {
 public:
  explicit UpstreamPool(int64_t max_idle_per_node) : max_idle_(max_idle_per_node) {}
  ~UpstreamPool() { Clear(); }
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // A live idle connection to `slot` whose address is `addr`, or nullptr. With `verify`, a
  // connection is first checked for a close the loop has not processed yet (used for writes:
  // a write sent on a connection the node just closed has an unknown outcome).
  UpstreamConn* Take(int slot, const net::NetAddress& addr, bool verify = false);
  // Takes ownership: parks a reusable connection, deletes anything else.
  void Put(UpstreamConn* c);
  // Closes every idle connection to `slot` (node removed, address changed, node down).
  void DropSlot(int slot);
  void Clear();
  void set_max_idle(int64_t n) { max_idle_ = n; }
  size_t idle_count(int slot) const;

 private:
  struct Entry {
    UpstreamConn* conn;
    net::NetAddress addr;
  };
  int64_t max_idle_;
  std::vector<Entry> idle_[kMaxSlots];
};

}  // namespace halo::router
