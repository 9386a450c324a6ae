#include "common/ids.h"

#include <doctest/doctest.h>

namespace halo {
namespace {

TEST_CASE("UuidText and AppendUuidText: 8-4-4-4-12 lower-case hex of hi, lo") {
  CHECK(UuidText(0x0123456789abcdefULL, 0xfedcba9876543210ULL) ==
        "01234567-89ab-cdef-fedc-ba9876543210");
  CHECK(UuidText(0, 0) == "00000000-0000-0000-0000-000000000000");
  std::string out = "id=";
  AppendUuidText(~0ULL, 1, &out);
  CHECK(out == "id=ffffffff-ffff-ffff-0000-000000000001");
}

}  // namespace
}  // namespace halo
