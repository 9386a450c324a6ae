#include "common/redis/halo_library.h"

#include "common/logging.h"

namespace halo::redis {

const std::string_view kHaloLibrary = R"lua(#!lua name=halo

-- Raises the epoch at keys[1] to `epoch`; returns the recorded epoch if `epoch` is older.
local function fence(key, epoch)
  local cur = tonumber(redis.call('GET', key) or '0')
  if epoch < cur then return cur end
  if epoch > cur then redis.call('SET', key, epoch) end
  return nil
end

-- keys: epoch, index, data keys...; args: epoch, prefix length, then per data key an op
-- ('p' or 'd') and a value.
redis.register_function('halo_commit', function(keys, args)
  local stale = fence(keys[1], tonumber(args[1]))
  if stale then return redis.error_reply('STALE ' .. stale) end
  -- Every commit's effects (the AOF, the replication stream) carry the epoch it ran under.
  redis.call('SET', keys[1], args[1])
  local plen = tonumber(args[2])
  for i = 3, #keys do
    local op = args[(i - 3) * 2 + 3]
    local member = string.sub(keys[i], plen + 1)
    if op == 'p' then
      redis.call('SET', keys[i], args[(i - 3) * 2 + 4])
      redis.call('ZADD', keys[2], 0, member)
    else
      redis.call('DEL', keys[i])
      redis.call('ZREM', keys[2], member)
    end
  end
  return #keys - 2
end)

redis.register_function('halo_record_epoch', function(keys, args)
  local stale = fence(keys[1], tonumber(args[1]))
  if stale then return redis.error_reply('STALE ' .. stale) end
  return 1
end)

-- keys: lock, lock-epoch; args: token, value, ttl ms, min epoch, client tag, dead token.
-- Takes a free lock, or one still held by `dead token` (whose connection is gone).
redis.register_function('halo_lock_acquire', function(keys, args)
  local cur = redis.call('HGET', keys[1], 'token')
  if cur and (args[6] == '' or cur ~= args[6]) then return {0, cur} end
  local e = tonumber(redis.call('GET', keys[2]) or '0')
  local m = tonumber(args[4])
  if m > e then e = m end
  e = e + 1
  redis.call('SET', keys[2], e)
  redis.call('DEL', keys[1])
  redis.call('HSET', keys[1], 'token', args[1], 'value', args[2], 'epoch', e, 'client', args[5])
  redis.call('PEXPIRE', keys[1], args[3])
  return {1, e}
end)

-- keys: lock; args: token, ttl ms, client tag.
redis.register_function('halo_lock_renew', function(keys, args)
  if redis.call('HGET', keys[1], 'token') ~= args[1] then return 0 end
  redis.call('PEXPIRE', keys[1], args[2])
  redis.call('HSET', keys[1], 'client', args[3])
  return 1
end)

-- keys: lock; args: token.
redis.register_function('halo_lock_release', function(keys, args)
  if redis.call('HGET', keys[1], 'token') ~= args[1] then return 0 end
  redis.call('DEL', keys[1])
  return 1
end)
)lua";

namespace {

Result<std::string> ConfigValue(RedisConn& conn, std::string_view name, std::string_view what) {
  ASSIGN_OR_RETURN(RedisReply r, conn.Command({"CONFIG", "GET", name}));
  if (r.is_error()) {
    return Status::InvalidArgument(std::string(what) + ": cannot read the server's " +
                                   std::string(name) + " (CONFIG GET: " + r.str +
                                   "); set allow_unsafe_persistence: true to skip the check");
  }
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) return std::string();
  return r.elements[1].str;
}

}  // namespace

Status PrepareServer(RedisConn& conn, const RedisOptions& options, std::string_view what) {
  RETURN_IF_ERROR(conn.EnsureConnected());
  if (!options.allow_unsafe_persistence) {
    ASSIGN_OR_RETURN(std::string aof, ConfigValue(conn, "appendonly", what));
    ASSIGN_OR_RETURN(std::string fsync, ConfigValue(conn, "appendfsync", what));
    if (aof != "yes" || fsync != "always") {
      return Status::InvalidArgument(
          std::string(what) + ": the Redis server at " + conn.server() + " has appendonly " + aof +
          ", appendfsync " + fsync +
          ": an acknowledged write could be lost in a crash; set appendonly yes and "
          "appendfsync always on the server, or allow_unsafe_persistence: true");
    }
  } else {
    LOG_WARN("%.*s: allow_unsafe_persistence is set: Redis persistence is not checked",
             static_cast<int>(what.size()), what.data());
  }
  ASSIGN_OR_RETURN(RedisReply r, conn.Command({"FUNCTION", "LOAD", "REPLACE", kHaloLibrary}));
  if (r.is_error()) {
    return Status::InvalidArgument(std::string(what) + ": FUNCTION LOAD on " + conn.server() +
                                   " failed (Redis 7.0 or newer is required): " + r.str);
  }
  return Status::Ok();
}

}  // namespace halo::redis
