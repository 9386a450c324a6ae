// UpstreamPool: idle keep-alive UpstreamConns by peer slot (a router worker's connections to
// its nodes, an HttpClient's to its peers). Slots are small integers chosen by the owner
// (0 <= slot < max_slots); a connection whose slot is out of range is never pooled.
//
// LIFO per slot (the warmest connection first). Connections the peer closed while parked
// are noticed by their own event callback and dropped at the next Take/Put. The pool owns
// the parked connections (deleted with it). Single-threaded (the owner's loop). No errors:
// Take returns nullptr when nothing usable is parked.
#pragma once

#include <cstdint>
#include <vector>

#include "common/http/upstream_conn.h"
#include "common/net/net_address.h"

namespace halo::http {

class UpstreamPool {
 public:
  // `max_slots` distinct peers, at most `max_idle_per_slot` parked connections each.
  UpstreamPool(int max_slots, int64_t max_idle_per_slot)
      : max_idle_(max_idle_per_slot), idle_(max_slots > 0 ? static_cast<size_t>(max_slots) : 0) {}
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
  // Parked connections to `slot` not yet known to be dead.
  size_t idle_count(int slot) const;
  int max_slots() const { return static_cast<int>(idle_.size()); }

 private:
  struct Entry {
    UpstreamConn* conn;
    net::NetAddress addr;
  };
  int64_t max_idle_;
  std::vector<std::vector<Entry>> idle_;
};

}  // namespace halo::http
