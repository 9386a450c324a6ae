// RedisOptions: how to reach a Redis server, shared by the Redis storage backend
// (storage/redis_backend.h) and the Redis HA lock (lock/redis_lock_backend.h). The config
// keys are documented in storage/README.md ("redis").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json_config.h"
#include "common/result.h"

namespace halo::redis {

struct RedisOptions {
  std::string address;                 // "host:port" of the server; or sentinels below
  std::vector<std::string> sentinels;  // "host:port" of each Sentinel
  std::string master_name;             // the Sentinel master set's name
  std::string username;                // ACL user (with password); empty: AUTH password
  std::string password;
  int64_t db = 0;
  std::string key_prefix = "halo/";  // every key halo writes starts with it
  Duration op_timeout = seconds(2);  // connect and each reply
  int64_t min_replicas_acked = 0;    // WAIT for this many replicas after each commit group
  Duration replica_wait_timeout = seconds(1);
  bool read_from_replicas = false;  // reads may be stale by the replication lag
  bool allow_unsafe_persistence = false;
};

// Reads the keys above present in `block` into `out` (absent keys keep their value); does
// not call Finish(). kInvalidArgument naming the key: neither or both of address and
// sentinels, sentinels without master_name, a bad host:port, out-of-range numbers.
Status ParseRedisOptions(ConfigObject& block, RedisOptions* out);

// "host:port" -> parts; kInvalidArgument naming `what` on a bad value.
Status SplitHostPort(const std::string& what, const std::string& value, std::string* host,
                     int* port);

}  // namespace halo::redis
