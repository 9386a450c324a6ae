// Options of the lock backends and the combined LockOptions produced by ParseLockConfig
// (lock/lock_config.h). Plain structs; see lock/README.md for the config keys.
#pragma once

#include <string>

#include "common/postgresql/pg_options.h"
#include "common/redis/redis_options.h"
#include "lock/elector_options.h"

namespace halo::lock {

struct FlockOptions {
  std::string path;  // the lock file; created if missing, never deleted ("path")
  // Accept NFS/CIFS/SMB, whose flock emulation is not a kernel-local lock
  // ("allow_network_fs").
  bool allow_network_fs = false;
};

struct InmemLockOptions {
  // Backends opened with the same name in one process share one lease table. For tests and
  // single-process experiments only: it coordinates nothing across processes ("name").
  std::string name = "default";
};

struct LockOptions {
  std::string type;  // "flock" | "inmem" | "redis" | "postgresql"
  FlockOptions flock;
  InmemLockOptions inmem;
  redis::RedisOptions redis;
  pg::PgOptions postgresql;
  // Timing read from the same block; `value` is left empty for the node to fill in.
  ElectorOptions elector;
};

}  // namespace halo::lock
