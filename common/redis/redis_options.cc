#include "common/redis/redis_options.h"

namespace halo::redis {

Status SplitHostPort(const std::string& what, const std::string& value, std::string* host,
                     int* port) {
  size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    return Status::InvalidArgument(what + ": expected host:port, got \"" + value + "\"");
  }
  std::string h = value.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  for (char c : value.substr(colon + 1)) {
    if (c < '0' || c > '9' || p > 65535) {
      return Status::InvalidArgument(what + ": bad port in \"" + value + "\"");
    }
    p = p * 10 + (c - '0');
  }
  if (p < 1 || p > 65535) {
    return Status::InvalidArgument(what + ": port out of range in \"" + value + "\"");
  }
  *host = h;
  *port = p;
  return Status::Ok();
}

Status ParseRedisOptions(ConfigObject& block, RedisOptions* out) {
  RETURN_IF_ERROR(block.GetString("address", &out->address));
  RETURN_IF_ERROR(block.GetStringList("sentinels", &out->sentinels));
  RETURN_IF_ERROR(block.GetString("master_name", &out->master_name));
  RETURN_IF_ERROR(block.GetString("username", &out->username));
  RETURN_IF_ERROR(block.GetString("password", &out->password));
  RETURN_IF_ERROR(block.GetInt("db", &out->db, 0, 1 << 20));
  RETURN_IF_ERROR(block.GetString("key_prefix", &out->key_prefix));
  RETURN_IF_ERROR(block.GetDuration("op_timeout", &out->op_timeout));
  RETURN_IF_ERROR(block.GetInt("min_replicas_acked", &out->min_replicas_acked, 0, 64));
  RETURN_IF_ERROR(block.GetDuration("replica_wait_timeout", &out->replica_wait_timeout));
  RETURN_IF_ERROR(block.GetBool("read_from_replicas", &out->read_from_replicas));
  RETURN_IF_ERROR(block.GetBool("allow_unsafe_persistence", &out->allow_unsafe_persistence));

  if (out->address.empty() == out->sentinels.empty()) {
    return Status::InvalidArgument(block.KeyPath("address") +
                                   ": set exactly one of address or sentinels");
  }
  std::string host;
  int port = 0;
  if (!out->address.empty()) {
    RETURN_IF_ERROR(SplitHostPort(block.KeyPath("address"), out->address, &host, &port));
    if (!out->master_name.empty()) {
      return Status::InvalidArgument(block.KeyPath("master_name") +
                                     ": only with sentinels (address names the server)");
    }
  } else {
    for (const std::string& s : out->sentinels) {
      RETURN_IF_ERROR(SplitHostPort(block.KeyPath("sentinels"), s, &host, &port));
    }
    if (out->master_name.empty()) {
      return Status::InvalidArgument(block.KeyPath("master_name") +
                                     ": required with sentinels (the monitored master's name)");
    }
  }
  if (!out->username.empty() && out->password.empty()) {
    return Status::InvalidArgument(block.KeyPath("password") + ": required with username");
  }
  if (out->op_timeout < milliseconds(1)) {
    return Status::InvalidArgument(block.KeyPath("op_timeout") + ": must be at least 1ms");
  }
  if (out->min_replicas_acked > 0 && out->replica_wait_timeout < milliseconds(1)) {
    return Status::InvalidArgument(block.KeyPath("replica_wait_timeout") +
                                   ": must be at least 1ms");
  }
  return Status::Ok();
}

}  // namespace halo::redis
