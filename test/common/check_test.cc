#include "common/check.h"

#include <doctest/doctest.h>

#include <string>

namespace halo {
namespace {

TEST_CASE("HALO_CHECK: a true condition does nothing and the message is not evaluated") {
  int evaluated = 0;
  auto message = [&] {
    ++evaluated;
    return std::string("never built");
  };
  HALO_CHECK(1 + 1 == 2, message());
  HALO_CHECK(true, "a literal message");
  if (evaluated == 0) HALO_CHECK(evaluated == 0, std::string("usable as one statement"));
  CHECK(evaluated == 0);
}

}  // namespace
}  // namespace halo
