#include "lock/lock_backend.h"

#include <random>

#include "common/hex.h"

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
  const uint64_t a = rng();
  const uint64_t b = rng();
  return HexU64(a) + HexU64(b);
}

}  // namespace halo::lock
