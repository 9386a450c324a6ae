#include "node/banner.h"

#include <cstdio>
#include <map>

#include "node/version.h"

namespace halo::node {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool HaEnabled(const NodeConfig& config) { return !config.lock.type.empty(); }

std::string FormatBanner(const NodeConfig& config, const std::string& listen_address) {
  std::map<std::string, std::string> lines;
  lines["Api Address"] = config.api_addr;
  lines["Cluster Address"] = config.cluster_addr;
  lines["Cluster Name"] = config.cluster_name;
  lines["Listener 1"] = "tcp (addr: \"" + listen_address + "\", max_request_size: \"" +
                        std::to_string(config.listener.max_request_size) + "\", tls: \"" +
                        (config.listener.tls.enabled ? "enabled" : "disabled") + "\")";
  lines["Log Level"] = LevelName(config.log_level);
  std::string mounts;
  for (const MountConfig& m : config.mounts) {
    if (!mounts.empty()) mounts += ", ";
    mounts += m.path + " (kv v" + std::to_string(m.kv_version) + ")";
  }
  lines["Mounts"] = mounts;
  lines["Request Forwarding"] = config.disable_request_forwarding ? "disabled (307)" : "enabled";
  lines["Standby Reads"] = config.disable_standby_reads ? "disabled" : "enabled";
  std::string storage = config.storage.type;
  if (config.ha_storage_set) {
    lines["HA Storage"] = config.lock.type;
  } else if (storage::ProvidesHaLock(config.storage)) {
    storage += " (HA available)";
  }
  lines["Storage"] = storage;
  lines["Version"] = std::string("halo v") + kHaloVersion;
  if (!HaEnabled(config)) {
    lines["HA Mode"] = "disabled: single node, always active (storage \"" + config.storage.type +
                       "\" has no HA lock and no ha_storage is set)";
  }

  std::string out = "==> halo-node server configuration:\n\n";
  char line[512];
  for (const auto& [key, value] : lines) {
    std::snprintf(line, sizeof(line), "%24s: ", key.c_str());
    out += line;
    out += value;
    out += "\n";
  }
  out += "\n";
  return out;
}

}  // namespace halo::node
