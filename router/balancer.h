// Read balancing: least outstanding requests with a uniformly random tie-break.
//
// A full scan, which is the right choice for the 3-5 nodes of a Vault/OpenBao cluster (as
// HAProxy's leastconn and Envoy's full-scan least-request do; power-of-two choices only pays
// off with many hosts). Rng is a small xorshift generator, one per worker, so picking needs no
// locks or syscalls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace halo::router {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ? seed : 0x9e3779b97f4a7c15ULL) {}
  uint64_t Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  // Uniform in [0, n); n > 0.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }

 private:
  uint64_t s_;
};

// Bit i set = node index i is excluded.
inline bool Excluded(uint64_t mask, int node) { return node < 64 && ((mask >> node) & 1); }

// Returns the candidate (a node index from `candidates`) whose outstanding(candidate) is
// smallest, skipping those in `exclude_mask`; -1 when no candidate is left. `outstanding` is
// any callable int(int node).
template <class OutstandingFn>
int PickLeastOutstanding(const std::vector<int>& candidates, uint64_t exclude_mask,
                         OutstandingFn outstanding, Rng* rng) {
  int best = -1;
  long best_load = 0;
  uint32_t ties = 0;
  for (int c : candidates) {
    if (Excluded(exclude_mask, c)) continue;
    long load = outstanding(c);
    if (best < 0 || load < best_load) {
      best = c;
      best_load = load;
      ties = 1;
    } else if (load == best_load) {
      // Reservoir sampling: the k-th tie replaces the pick with probability 1/k.
      ++ties;
      if (rng->Below(ties) == 0) best = c;
    }
  }
  return best;
}

}  // namespace halo::router
