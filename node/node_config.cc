#include "node/node_config.h"

#include <cstdlib>
#include <optional>

#include "common/json_config.h"
#include "lock/lock_config.h"

namespace halo::node {
namespace {

Status ParseListener(ConfigObject& root, ListenerConfig* out) {
  if (!root.Has("listener")) {
    return ParseHostPort(out->address, &out->host, &out->port);
  }
  root.MarkKnown("listener");
  const rapidjson::Value& raw = root.raw()["listener"];
  const rapidjson::Value* obj = &raw;
  std::string path = "listener";
  if (raw.IsArray()) {
    if (raw.Size() != 1) {
      return Status::InvalidArgument("listener: exactly one listener is supported");
    }
    obj = &raw[0];
    path = "listener[0]";
  }
  ConfigObject listener(*obj, path);
  RETURN_IF_ERROR(listener.CheckIsObject());
  if (!listener.Has("tcp")) return Status::InvalidArgument(path + ".tcp: missing");
  ASSIGN_OR_RETURN(ConfigObject tcp, listener.GetObject("tcp"));
  RETURN_IF_ERROR(listener.Finish());

  RETURN_IF_ERROR(tcp.GetString("address", &out->address));
  Status st = ParseHostPort(out->address, &out->host, &out->port);
  if (!st.ok()) return Status::InvalidArgument(tcp.KeyPath("address") + ": " + st.message());
  RETURN_IF_ERROR(tcp.GetInt("max_request_size", &out->max_request_size, 1, int64_t{1} << 32));
  RETURN_IF_ERROR(tcp.GetDurationMs("max_request_duration", &out->max_request_duration_ms));
  if (out->max_request_duration_ms <= 0) {
    return Status::InvalidArgument(tcp.KeyPath("max_request_duration") + ": must be positive");
  }
  RETURN_IF_ERROR(net::ParseTlsListener(tcp, &out->tls));
  return tcp.Finish();
}

Status ParseLimits(ConfigObject& root, const ListenerConfig& listener, NodeLimitsConfig* out) {
  std::optional<ConfigObject> limits;
  if (root.Has("limits")) {
    ASSIGN_OR_RETURN(limits, root.GetObject("limits"));
    RETURN_IF_ERROR(limits->GetInt("max_body_bytes_in_flight", &out->max_body_bytes_in_flight, 1,
                                   int64_t{1} << 40));
    RETURN_IF_ERROR(limits->GetInt("max_leader_waiters", &out->max_leader_waiters, 0, 1'000'000));
    RETURN_IF_ERROR(limits->GetInt("max_leader_waiters_per_client",
                                   &out->max_leader_waiters_per_client, 0, 1'000'000));
  }
  if (out->max_body_bytes_in_flight < listener.max_request_size) {
    // A body of the allowed size could never be admitted.
    return Status::InvalidArgument(
        "limits.max_body_bytes_in_flight: must be at least "
        "listener.tcp.max_request_size (" +
        std::to_string(listener.max_request_size) + ")");
  }
  return limits ? limits->Finish() : Status::Ok();
}

Status ParseMount(const std::string& mount_path, ConfigObject& block, MountConfig* out) {
  std::string type;
  if (!block.Has("type")) return Status::InvalidArgument(block.KeyPath("type") + ": missing");
  RETURN_IF_ERROR(block.GetString("type", &type));
  if (type == "kv-v2") {
    out->kv_version = 2;
  } else if (type == "kv-v1") {
    out->kv_version = 1;
  } else if (type == "kv") {
    out->kv_version = 1;  // OpenBao: "kv" without options.version is version 1
  } else {
    return Status::InvalidArgument(block.KeyPath("type") + ": unknown mount type \"" + type +
                                   "\" (expected kv, kv-v1 or kv-v2)");
  }
  if (block.Has("options")) {
    ASSIGN_OR_RETURN(ConfigObject options, block.GetObject("options"));
    std::string version;
    RETURN_IF_ERROR(options.GetString("version", &version));
    if (!version.empty()) {
      if (type != "kv") {
        return Status::InvalidArgument(options.KeyPath("version") +
                                       ": only allowed with type \"kv\"");
      }
      if (version != "1" && version != "2") {
        return Status::InvalidArgument(options.KeyPath("version") + ": expected \"1\" or \"2\"");
      }
      out->kv_version = version == "2" ? 2 : 1;
    }
    RETURN_IF_ERROR(options.Finish());
  }
  out->path = mount_path;
  return block.Finish();
}

Status ValidateMountPath(const std::string& where, std::string* path) {
  if (path->empty()) return Status::InvalidArgument(where + ": empty mount path");
  if (path->back() != '/') path->push_back('/');
  if ((*path)[0] == '/' || path->find("//") != std::string::npos) {
    return Status::InvalidArgument(where + ": bad mount path \"" + *path + "\"");
  }
  if (*path == "sys/" || path->rfind("sys/", 0) == 0) {
    return Status::InvalidArgument(where + ": \"sys/\" is reserved");
  }
  for (char c : *path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == '%') {
      return Status::InvalidArgument(where + ": bad character in mount path \"" + *path + "\"");
    }
  }
  return Status::Ok();
}

Status ParseMounts(ConfigObject& root, std::vector<MountConfig>* out) {
  if (!root.Has("mounts")) {
    *out = {{"secret/", 2}, {"kv/", 1}};
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(ConfigObject mounts, root.GetObject("mounts"));
  out->clear();
  for (const std::string& key : mounts.Keys()) {
    ASSIGN_OR_RETURN(ConfigObject block, mounts.GetObject(key));
    MountConfig mount;
    std::string path = key;
    RETURN_IF_ERROR(ValidateMountPath(mounts.KeyPath(key), &path));
    RETURN_IF_ERROR(ParseMount(path, block, &mount));
    for (const MountConfig& other : *out) {
      if (path.rfind(other.path, 0) == 0 || other.path.rfind(path, 0) == 0) {
        return Status::InvalidArgument(mounts.KeyPath(key) + ": overlaps mount \"" + other.path +
                                       "\"");
      }
    }
    out->push_back(std::move(mount));
  }
  if (out->empty()) return Status::InvalidArgument("mounts: no mounts configured");
  return mounts.Finish();
}

Status ParseHaStorage(ConfigObject& root, NodeConfig* out) {
  if (!root.Has("ha_storage")) {
    if (out->storage.type == "lmdb") {
      out->lock = lock::FlockOptionsForDataDir(out->storage.path);
    } else if (out->storage.type == "redis") {
      out->lock.type = "redis";  // a lease in the same server, same keys prefix
      out->lock.redis = out->storage.redis;
    } else if (out->storage.type == "postgresql" && out->storage.postgresql.ha_enabled) {
      out->lock.type = "postgresql";  // OpenBao's ha_enabled: the lease table beside the data
      out->lock.postgresql = out->storage.postgresql;
      out->lock.postgresql.op_timeout = out->lock.elector.op_timeout;  // the elector's bound
    } else if (storage::ProvidesHaLock(out->storage)) {
      out->lock.type = out->storage.type;  // inmem: an in-process lease
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(ConfigObject ha, root.GetObject("ha_storage"));
  std::vector<std::string> keys = ha.Keys();
  if (keys.size() != 1) {
    return Status::InvalidArgument("ha_storage: expected exactly one lock type, found " +
                                   std::to_string(keys.size()));
  }
  ASSIGN_OR_RETURN(ConfigObject block, ha.GetObject(keys[0]));
  ASSIGN_OR_RETURN(out->lock, lock::ParseLockConfig(keys[0], block));
  RETURN_IF_ERROR(ha.Finish());
  out->ha_storage_set = true;
  return Status::Ok();
}

Status ValidateUrl(const std::string& key, const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos ||
      (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0)) {
    return Status::InvalidArgument(key + ": expected a full URL like \"http://127.0.0.1:8200\"");
  }
  std::string_view rest = std::string_view(url).substr(scheme_end + 3);
  if (rest.empty() || rest[0] == '/') return Status::InvalidArgument(key + ": missing host");
  if (rest.find_first_of("/?# ") != std::string_view::npos) {
    return Status::InvalidArgument(key + ": expected scheme://host:port with no path");
  }
  return Status::Ok();
}

// OpenBao's default: the api_addr's host with port+1 and scheme https.
std::string DefaultClusterAddr(const std::string& api_addr) {
  std::string host_port = api_addr.substr(api_addr.find("://") + 3);
  std::string host;
  int port = 0;
  if (!ParseHostPort(host_port, &host, &port).ok()) return "";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "https://" + host + ":" + std::to_string(port + 1);
}

Status ParseTop(ConfigObject& root, NodeConfig* out) {
  if (!root.Has("storage")) return Status::InvalidArgument("storage: missing");
  ASSIGN_OR_RETURN(ConfigObject storage, root.GetObject("storage"));
  ASSIGN_OR_RETURN(out->storage, storage::ParseStorageConfig(storage));
  RETURN_IF_ERROR(ParseHaStorage(root, out));
  RETURN_IF_ERROR(ParseListener(root, &out->listener));
  RETURN_IF_ERROR(ParseLimits(root, out->listener, &out->limits));
  if (root.Has("cluster_tls")) {
    ASSIGN_OR_RETURN(ConfigObject ctls, root.GetObject("cluster_tls"));
    out->cluster_tls_enabled = true;
    RETURN_IF_ERROR(net::ParseTlsClient(ctls, &out->cluster_tls));
  }

  RETURN_IF_ERROR(root.GetString("api_addr", &out->api_addr));
  if (out->api_addr.empty()) {
    out->api_addr_from_listener = true;
    std::string host = out->listener.host.empty() ? "127.0.0.1" : out->listener.host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    out->api_addr = std::string(out->listener.tls.enabled ? "https://" : "http://") + host + ":" +
                    std::to_string(out->listener.port);
  }
  RETURN_IF_ERROR(ValidateUrl("api_addr", out->api_addr));
  RETURN_IF_ERROR(root.GetString("cluster_addr", &out->cluster_addr));
  if (out->cluster_addr.empty()) {
    out->cluster_addr = DefaultClusterAddr(out->api_addr);
  } else {
    RETURN_IF_ERROR(ValidateUrl("cluster_addr", out->cluster_addr));
  }
  RETURN_IF_ERROR(root.GetString("cluster_name", &out->cluster_name));
  if (out->cluster_name.empty()) return Status::InvalidArgument("cluster_name: empty");
  RETURN_IF_ERROR(root.GetBool("disable_standby_reads", &out->disable_standby_reads));
  RETURN_IF_ERROR(root.GetBool("disable_request_forwarding", &out->disable_request_forwarding));
  RETURN_IF_ERROR(root.GetString("root_token", &out->root_token));
  RETURN_IF_ERROR(root.GetString("cluster_secret", &out->cluster_secret));
  if (root.Has("cluster_secret") && out->cluster_secret.size() < 16) {
    return Status::InvalidArgument("cluster_secret: at least 16 characters");
  }
  RETURN_IF_ERROR(ParseMounts(root, &out->mounts));

  std::string level;
  RETURN_IF_ERROR(root.GetString("log_level", &level));
  if (!level.empty()) {
    Result<LogLevel> parsed = ParseLogLevel(level);
    if (!parsed.ok()) {
      return Status::InvalidArgument("log_level: " + parsed.status().message());
    }
    out->log_level = *parsed;
  }
  RETURN_IF_ERROR(root.GetString("node_name", &out->log_tag));
  root.MarkKnown("comment");  // free text, ignored (JSON has no comments)
  RETURN_IF_ERROR(root.GetDurationMs("leader_check_interval", &out->leader_check_interval_ms));
  if (out->leader_check_interval_ms < 1 || out->leader_check_interval_ms > 60'000) {
    return Status::InvalidArgument("leader_check_interval: must be between 1ms and 60s");
  }
  return root.Finish();
}

}  // namespace

Status ParseHostPort(std::string_view address, std::string* host, int* port) {
  std::string_view port_text;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return Status::InvalidArgument("expected [v6]:port, got \"" + std::string(address) + "\"");
    }
    *host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos || address.find(':') != colon) {
      return Status::InvalidArgument("expected host:port, got \"" + std::string(address) + "\"");
    }
    *host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  if (host->empty() || port_text.empty() || port_text.size() > 5) {
    return Status::InvalidArgument("expected host:port, got \"" + std::string(address) + "\"");
  }
  int value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("bad port in \"" + std::string(address) + "\"");
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) {
    return Status::InvalidArgument("port out of range in \"" + std::string(address) + "\"");
  }
  *port = value;
  return Status::Ok();
}

Result<NodeConfig> ParseNodeConfig(std::string_view text, std::string_view what,
                                   const char* env_root_token) {
  ASSIGN_OR_RETURN(rapidjson::Document doc, ParseJson(text, what));
  ConfigObject root(doc, "");
  Status st = root.CheckIsObject();
  NodeConfig config;
  if (st.ok()) st = ParseTop(root, &config);
  if (!st.ok()) return Status::InvalidArgument(std::string(what) + ": " + st.message());
  if (env_root_token != nullptr && env_root_token[0] != '\0') config.root_token = env_root_token;
  if (config.root_token.empty()) {
    return Status::InvalidArgument(std::string(what) +
                                   ": root_token: missing (set it, or HALO_ROOT_TOKEN)");
  }
  return config;
}

Result<NodeConfig> LoadNodeConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseNodeConfig(text, path, std::getenv("HALO_ROOT_TOKEN"));
}

}  // namespace halo::node
