// KV v1: OpenBao's unversioned key/value secrets engine (builtin/logical/kv passthrough.go)
// over a storage Backend. Every path below the mount is a secret:
//
//   GET <path>          200 with the stored map as "data"; lease_duration is the stored
//                       "ttl" (or "lease") when it parses, else 32 days (OpenBao's default)
//   POST/PUT <path>     stores the JSON body (any object with at least one key); 204
//   DELETE <path>       204 whether or not it existed
//   LIST <dir>/         {"keys":[..]} of one level, folders with a trailing '/'; 404 if none
//   SCAN <dir>/         every key below dir, recursively
//
// PATCH answers 405 (as OpenBao's v1 has no patch). The value stored under
// <storage_prefix><path> is the body's JSON with keys sorted; see kv/FORMAT.md.
#pragma once

#include <memory>

#include "kv/common.h"
#include "kv/request.h"

namespace halo::kv {

// OpenBao's default lease TTL (768h), reported as a KV v1 read's lease_duration.
inline constexpr int64_t kKvV1DefaultLeaseSeconds = 768 * 3600;

// REQUIRES: options.backend is set.
std::unique_ptr<SecretsEngine> NewKvV1Engine(KvEngineOptions options);

}  // namespace halo::kv
