#include "common/http/body_budget.h"

#include "common/check.h"

namespace halo::http {

bool BodyBudget::TryReserve(uint64_t n) {
  if (n == 0) return true;
  uint64_t limit = limit_.load(std::memory_order_relaxed);
  uint64_t cur = in_flight_.load(std::memory_order_relaxed);
  do {
    if (n > limit || cur > limit - n) return false;
  } while (!in_flight_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
  return true;
}

void BodyBudget::Release(uint64_t n) {
  uint64_t before = in_flight_.fetch_sub(n, std::memory_order_relaxed);
  HALO_CHECK(before >= n, "body budget released more than it reserved");
}

}  // namespace halo::http
