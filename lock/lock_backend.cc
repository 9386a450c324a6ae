#include "lock/lock_backend.h"

#include <random>

namespace halo::lock {

Status ValidateLockValue(std::string_view value) {
  if (value.size() > kMaxLockValueSize) {
    return Status::InvalidArgument("lock value is " + std::to_string(value.size()) +
                                   " bytes (at most " + std::to_string(kMaxLockValueSize) + ")");
  }
  for (char c : value) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return Status::InvalidArgument("lock value must be one line without NUL");
    }
  }
  return Status::Ok();
}

std::string NewLockToken() {
  static thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  static const char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (4 * i)) & 0xf];
    out[16 + i] = kHex[(b >> (4 * i)) & 0xf];
  }
  return out;
}

}  // namespace halo::lock
