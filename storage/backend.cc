#include "storage/backend.h"

#include <string>

namespace halo::storage {

Status Backend::Put(std::string_view key, std::string_view value, uint64_t epoch) {
  return Update(epoch, [key, value](Txn& txn) { return txn.Put(key, value); });
}

Status Backend::Delete(std::string_view key, uint64_t epoch) {
  return Update(epoch, [key](Txn& txn) { return txn.Delete(key); });
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  if (key.size() > kMaxKeySize) {
    return Status::InvalidArgument("key of " + std::to_string(key.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxKeySize));
  }
  return Status::Ok();
}

Status StaleEpoch(uint64_t epoch, uint64_t recorded) {
  return Status::Conflict("stale fencing epoch " + std::to_string(epoch) +
                          " (newest recorded epoch is " + std::to_string(recorded) + ")");
}

}  // namespace halo::storage
