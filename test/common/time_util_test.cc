#include "common/time_util.h"

#include <doctest/doctest.h>

namespace halo {
namespace {

TEST_CASE("time_util: timeval conversions clamp negatives") {
  timeval t = TimevalFromMillis(1500);
  CHECK(t.tv_sec == 1);
  CHECK(t.tv_usec == 500000);
  t = TimevalFromMillis(-3);
  CHECK(t.tv_sec == 0);
  CHECK(t.tv_usec == 0);
  t = TimevalFrom(std::chrono::microseconds(2000123));
  CHECK(t.tv_sec == 2);
  CHECK(t.tv_usec == 123);
  const int64_t a = MonotonicMicros();
  CHECK(MonotonicMicros() >= a);
  CHECK(MonotonicMillis() >= a / 1000);
}

}  // namespace
}  // namespace halo
