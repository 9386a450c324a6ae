#include "common/ids.h"

#include "common/hex.h"

namespace halo {

uint64_t Fnv1a(std::string_view text, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string UuidText(uint64_t hi, uint64_t lo) {
  std::string out;
  AppendUuidText(hi, lo, &out);
  return out;
}

void AppendUuidText(uint64_t hi, uint64_t lo, std::string* out) {
  char buf[36];
  size_t n = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) buf[n++] = '-';
    uint64_t word = i < 16 ? hi : lo;
    buf[n++] = HexDigit(static_cast<unsigned>(word >> (60 - 4 * (i % 16))));
  }
  out->append(buf, n);
}

}  // namespace halo
