#include "lock/lock_config.h"

#include "lock/flock_backend.h"
#include "lock/lease_table.h"
#include "lock/mem_lease_backend.h"
#include "lock/postgresql_lock_backend.h"
#include "lock/redis_lock_backend.h"

namespace halo::lock {
namespace {

// "ha_storage.flock" (the block's own path), for messages about the block as a whole.
std::string BlockName(const ConfigObject& obj) {
  std::string p = obj.KeyPath("");
  if (!p.empty() && p.back() == '.') p.pop_back();
  return p.empty() ? "lock config" : p;
}

}  // namespace

std::string LockPathForDataDir(std::string_view dir) {
  std::string path(dir);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) path = ".";
  if (path != "/") path += '/';
  return path + kLockFileName;
}

LockOptions FlockOptionsForDataDir(std::string_view dir) {
  LockOptions o;
  o.type = "flock";
  o.flock.path = LockPathForDataDir(dir);
  o.elector.renew_every = seconds(1);
  return o;
}

Status ParseElectorTiming(ConfigObject& obj, ElectorOptions* out) {
  RETURN_IF_ERROR(obj.GetDuration("ttl", &out->ttl));
  RETURN_IF_ERROR(obj.GetDuration("renew_interval", &out->renew_every));
  RETURN_IF_ERROR(obj.GetDuration("renew_deadline", &out->renew_deadline));
  RETURN_IF_ERROR(obj.GetDuration("retry_interval", &out->retry));
  RETURN_IF_ERROR(obj.GetDuration("retry_jitter", &out->jitter));
  RETURN_IF_ERROR(obj.GetDuration("op_timeout", &out->op_timeout));
  RETURN_IF_ERROR(obj.GetDuration("stepdown_backoff", &out->stepdown_backoff));
  RETURN_IF_ERROR(obj.GetDuration("max_wait", &out->max_wait));
  RETURN_IF_ERROR(obj.GetDuration("liveness_timeout", &out->liveness_timeout));
  return Status::Ok();
}

Result<LockOptions> ParseLockConfig(std::string_view type, ConfigObject& obj) {
  RETURN_IF_ERROR(obj.CheckIsObject());
  LockOptions o;
  o.type = std::string(type);
  if (type == "flock") {
    o.elector.renew_every = seconds(1);
    RETURN_IF_ERROR(obj.GetString("path", &o.flock.path));
    if (o.flock.path.empty()) {
      return Status::InvalidArgument(obj.KeyPath("path") + ": required (the lock file)");
    }
    RETURN_IF_ERROR(obj.GetBool("allow_network_fs", &o.flock.allow_network_fs));
  } else if (type == "inmem") {
    RETURN_IF_ERROR(obj.GetString("name", &o.inmem.name));
    if (o.inmem.name.empty()) {
      return Status::InvalidArgument(obj.KeyPath("name") + ": must not be empty");
    }
  } else if (type == "redis") {
    // OpenBao's lease timing (its PostgreSQL lock): ElectorOptions' defaults.
    RETURN_IF_ERROR(redis::ParseRedisOptions(obj, &o.redis));
  } else if (type == "postgresql") {
    // OpenBao's own PostgreSQL lease timing: ElectorOptions' defaults.
    RETURN_IF_ERROR(pg::ParsePgOptions(obj, &o.postgresql));
  } else {
    return Status::InvalidArgument(BlockName(obj) + ": unknown HA lock type \"" +
                                   std::string(type) +
                                   "\" (expected flock, inmem, redis or postgresql)");
  }
  RETURN_IF_ERROR(ParseElectorTiming(obj, &o.elector));
  // One bound for the lock's statements and the elector's calls (the same key).
  if (type == "postgresql") o.postgresql.op_timeout = o.elector.op_timeout;
  RETURN_IF_ERROR(obj.Finish());
  Status timing = o.elector.ValidateTiming();
  if (!timing.ok()) return Status::InvalidArgument(BlockName(obj) + ": " + timing.message());
  return o;
}

Result<LockBackendPtr> OpenLockBackend(const LockOptions& options, Clock* clock) {
  if (options.type == "flock") {
    ASSIGN_OR_RETURN(std::unique_ptr<FlockBackend> b, FlockBackend::Open(options.flock, clock));
    return LockBackendPtr(std::move(b));
  }
  if (options.type == "inmem") {
    return LockBackendPtr(
        std::make_unique<MemLeaseBackend>(SharedLeaseTable(options.inmem.name, clock)));
  }
  if (options.type == "redis") {
    ASSIGN_OR_RETURN(std::unique_ptr<RedisLockBackend> b, RedisLockBackend::Open(options.redis));
    return LockBackendPtr(std::move(b));
  }
  if (options.type == "postgresql") {
    ASSIGN_OR_RETURN(std::unique_ptr<PostgresLockBackend> b,
                     PostgresLockBackend::Open(options.postgresql));
    return LockBackendPtr(std::move(b));
  }
  return Status::InvalidArgument("unknown HA lock type \"" + options.type + "\"");
}

}  // namespace halo::lock
