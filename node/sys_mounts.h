// The mount-table endpoints that OpenBao/Vault CLIs and UIs call before touching a KV
// secret, as pure functions of the configured mounts (read-only: halo's mounts come from
// the config file):
//   GET sys/mounts                      every mount, keyed by path (top level and "data")
//   GET sys/internal/ui/mounts          {"data":{"secret":{<path>: mount}, "auth":{}}}
//   GET sys/internal/ui/mounts/<path>   the mount holding <path> ("bao kv" reads its
//                                       options.version to pick the KV v1 or v2 paths)
#pragma once

#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "node/node_config.h"

namespace halo::node {

http::Response HandleSysMounts(const std::vector<MountConfig>& mounts,
                               std::string_view cluster_name);
// `path` is what follows "sys/internal/ui/mounts" ("" or "/secret/foo"). 400 when no mount
// holds the path (as OpenBao's preflight check answers for an unknown path).
http::Response HandleUiMounts(const std::vector<MountConfig>& mounts, std::string_view cluster_name,
                              std::string_view path);

}  // namespace halo::node
