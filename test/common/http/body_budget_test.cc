#include "common/http/body_budget.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace halo::http {
namespace {

TEST_CASE("BodyBudget: reserves within the limit, refuses what does not fit") {
  BodyBudget b(100);
  CHECK(b.TryReserve(0));
  CHECK(b.TryReserve(60));
  CHECK_FALSE(b.TryReserve(41));  // 101 > 100: nothing taken
  CHECK(b.in_flight() == 60);
  CHECK(b.TryReserve(40));  // exactly the limit
  CHECK_FALSE(b.TryReserve(1));
  b.Release(60);
  CHECK(b.in_flight() == 40);
  CHECK(b.TryReserve(60));
  CHECK_FALSE(b.TryReserve(UINT64_MAX));  // no overflow
  b.Release(100);
  CHECK(b.in_flight() == 0);
  CHECK_FALSE(b.TryReserve(101));  // larger than the whole budget
}

TEST_CASE("BodyBudget: a lower limit applies to new reservations") {
  BodyBudget b(100);
  CHECK(b.TryReserve(80));
  b.set_limit(50);
  CHECK_FALSE(b.TryReserve(1));
  b.Release(80);
  CHECK(b.TryReserve(50));
  CHECK_FALSE(b.TryReserve(1));
}

TEST_CASE("BodyBudget: threads never take more than the limit together") {
  BodyBudget b(1000);
  std::vector<std::thread> threads;
  std::atomic<int> taken{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (b.TryReserve(7)) taken.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(taken.load() == 1000 / 7);
  CHECK(b.in_flight() == uint64_t(1000 / 7) * 7);
}

}  // namespace
}  // namespace halo::http
