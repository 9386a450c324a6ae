// The "halo" Redis Function library: every atomic step halo takes in Redis (a fenced commit
// group, recording an epoch, the lease lock's acquire/renew/release). Loaded with
// FUNCTION LOAD REPLACE when a backend opens, so it is persisted and replicated with the
// data (no script cache to lose on restart or failover).
//
// Keys (P = key_prefix): P "k:" key (a value), P "index" (sorted set of every key, score 0,
// read with ZRANGE BYLEX), P "epoch" (highest storage epoch), P "lock" (hash: token, value,
// epoch, client), P "lock-epoch" (the lock's epoch counter).
#pragma once

#include <string_view>

#include "common/redis/redis_conn.h"

namespace halo::redis {

extern const std::string_view kHaloLibrary;

// Loads the library and checks persistence: refuses `appendonly no` or an `appendfsync`
// other than `always` unless options.allow_unsafe_persistence (kFailedPrecondition-style
// kInvalidArgument naming `what` and the setting). kUnavailable when the server is
// unreachable.
Status PrepareServer(RedisConn& conn, const RedisOptions& options, std::string_view what);

}  // namespace halo::redis
