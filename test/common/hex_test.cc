#include "common/hex.h"

#include <doctest/doctest.h>

namespace halo {
namespace {

TEST_CASE("hex: digit values, digits, fixed-width encodings") {
  CHECK(HexDigitValue('0') == 0);
  CHECK(HexDigitValue('9') == 9);
  CHECK(HexDigitValue('a') == 10);
  CHECK(HexDigitValue('F') == 15);
  CHECK(HexDigitValue('g') == -1);
  CHECK(HexDigitValue('%') == -1);
  CHECK(HexDigit(11) == 'b');
  CHECK(HexDigit(11, HexCase::kUpper) == 'B');
  CHECK(HexDigit(0x1f) == 'f');
  CHECK(HexU64(0) == "0000000000000000");
  CHECK(HexU64(0xff) == "00000000000000ff");
  CHECK(HexU64(0xdeadbeef01234567ull, HexCase::kUpper) == "DEADBEEF01234567");
  CHECK(HexEncode(std::string("\x00\x7f\xff", 3)) == "007fff");
  CHECK(HexEncode("") == "");
}

}  // namespace
}  // namespace halo
