// Opening a storage Backend from configuration.
//
// A node config names its engine with a one-key object, documented in storage/README.md:
//   "storage": {"lmdb": {"path": "/var/lib/halo", "map_size_mb": 1024}}
//   "storage": {"file": {"path": "/var/lib/halo-file"}}
//   "storage": {"inmem": {}}
//   "storage": {"redis": {"address": "127.0.0.1:6379"}}
//   "storage": {"postgresql": {"connection_url": "postgres://u@127.0.0.1/openbao"}}
// ParseBackendOptions reads one engine's block; ParseStorageConfig reads the whole
// "storage" object. Errors name the offending key by its full path; unknown keys are errors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/json_config.h"
#include "common/postgresql/pg_options.h"
#include "common/redis/redis_options.h"
#include "common/result.h"
#include "storage/backend.h"

namespace halo::storage {

struct BackendOptions {
  std::string type;  // "lmdb", "file", "inmem", "redis" or "postgresql"
  std::string path;  // lmdb, file: the data directory (created if missing)

  // lmdb only.
  uint64_t map_size_bytes = uint64_t{1} << 30;  // "map_size_mb"; the database's size limit
  bool group_commit = true;  // "group_commit": false commits (and fsyncs) each update alone
  int max_batch = 1024;      // "max_batch": most updates committed in one transaction

  redis::RedisOptions redis;  // redis only: the server and its keys
  pg::PgOptions postgresql;   // postgresql only: the server and its tables
};

// Reads the block for engine `type` (e.g. the value of "lmdb"). kInvalidArgument naming the
// key for a wrong or unknown key, or an unknown type.
Result<BackendOptions> ParseBackendOptions(std::string_view type, ConfigObject& block);

// Reads a "storage"-style object holding exactly one engine block.
Result<BackendOptions> ParseStorageConfig(ConfigObject& storage);

// Opens (creating if needed) the backend described by `options`.
Result<std::unique_ptr<Backend>> OpenBackend(const BackendOptions& options);

// Whether this storage can also provide the HA lock (the startup banner's "(HA available)"):
// lmdb yes (an flock lock file beside the data, see LockFilePath), file no (it needs an
// ha_storage), inmem yes but only within one process (tests), redis yes, postgresql when
// its ha_enabled is set (OpenBao's key).
bool ProvidesHaLock(const BackendOptions& options);

// For lmdb: the lock file the HA lock should flock ("<path>/halo.lock").
std::string LockFilePath(const BackendOptions& options);

}  // namespace halo::storage
