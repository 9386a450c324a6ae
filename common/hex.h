// Hexadecimal digits, in one place: the value of a hex digit (for %XX decoding), the digit
// for a nibble, and fixed-width lowercase encodings of integers and byte strings (lock
// tokens, checksums). Pure, header-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace halo {

enum class HexCase { kLower, kUpper };

// 0-15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The digit for the low four bits of `nibble`.
constexpr char HexDigit(unsigned nibble, HexCase hex_case = HexCase::kLower) {
  return (hex_case == HexCase::kLower ? "0123456789abcdef" : "0123456789ABCDEF")[nibble & 0xf];
}

// `v` as exactly 16 hex digits, most significant first ("00000000000000ff").
inline std::string HexU64(uint64_t v, HexCase hex_case = HexCase::kLower) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = HexDigit(static_cast<unsigned>(v & 0xf), hex_case);
    v >>= 4;
  }
  return out;
}

// Two hex digits per byte, high nibble first.
inline std::string HexEncode(std::string_view bytes, HexCase hex_case = HexCase::kLower) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(HexDigit(c >> 4, hex_case));
    out.push_back(HexDigit(c, hex_case));
  }
  return out;
}

}  // namespace halo
