// LockValue: what the active node advertises in the HA lock, so that standbys and the
// router can find it. Stored in the lock as one line of compact JSON:
//
//   {"api_addr":"http://127.0.0.1:8201","node_id":"node1"}
//
// `api_addr` is required (a standby forwards or 307-redirects writes to it); `node_id` and
// `cluster_addr` are optional. Unknown members are ignored when parsing (newer writers may
// add fields). The encoded form is at most kMaxLockValueSize bytes and never contains a
// newline. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace halo::lock {

struct LockValue {
  std::string api_addr;
  std::string node_id;       // empty = not set
  std::string cluster_addr;  // empty = not set
  bool operator==(const LockValue&) const = default;
};

// kInvalidArgument if api_addr is empty or the result would be too long.
Result<std::string> EncodeLockValue(const LockValue& v);
// kInvalidArgument if `text` is not a JSON object with a string "api_addr".
Result<LockValue> ParseLockValue(std::string_view text);

}  // namespace halo::lock
