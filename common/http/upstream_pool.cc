#include "common/http/upstream_pool.h"

#include <cstring>

namespace halo::http {
UpstreamConn* UpstreamPool::Take(int slot, const net::NetAddress& addr, bool verify) {
  if (slot < 0 || slot >= max_slots()) return nullptr;
  std::vector<Entry>& v = idle_[slot];
  while (!v.empty()) {
    Entry e = v.back();
    v.pop_back();
    if (e.conn->dead() || e.addr != addr || (verify && e.conn->ClosedByPeer())) {
      delete e.conn;
      continue;
    }
    return e.conn;
  }
  return nullptr;
}

void UpstreamPool::Put(UpstreamConn* c) {
  int slot = c->slot();
  if (!c->reusable() || slot < 0 || slot >= max_slots()) {
    delete c;
    return;
  }
  std::vector<Entry>& v = idle_[slot];
  // Sweep connections that died while parked.
  for (size_t i = 0; i < v.size();) {
    if (v[i].conn->dead()) {
      delete v[i].conn;
      v[i] = v.back();
      v.pop_back();
    } else {
      ++i;
    }
  }
  if (static_cast<int64_t>(v.size()) >= max_idle_) {
    delete c;
    return;
  }
  c->Park();
  v.push_back(Entry{c, c->address()});
}

void UpstreamPool::DropSlot(int slot) {
  if (slot < 0 || slot >= max_slots()) return;
  for (Entry& e : idle_[slot]) delete e.conn;
  idle_[slot].clear();
}

void UpstreamPool::Clear() {
  for (int s = 0; s < max_slots(); ++s) DropSlot(s);
}

size_t UpstreamPool::idle_count(int slot) const {
  if (slot < 0 || slot >= max_slots()) return 0;
  size_t n = 0;
  for (const Entry& e : idle_[slot]) n += e.conn->dead() ? 0 : 1;
  return n;
}

}  // namespace halo::http
