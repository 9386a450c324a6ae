// Fuzz target: ParseNodeConfig (node/node_config.h) on arbitrary text. It must never crash,
// fail only with kInvalidArgument, and whatever it accepts must satisfy what the node relies
// on when it starts: a listener port in range, positive limits, an http(s) api_addr, at
// least one mount, every mount path ending in '/' with no two overlapping, KV versions 1 or
// 2, and $HALO_ROOT_TOKEN winning over the file's root_token.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/check.h"
#include "node/api_route.h"
#include "node/node_config.h"
#include "test/fuzz/fuzz_support.h"

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halo::fuzz::CheckDeepNestingOnce([](const std::string& deep) {
    HALO_CHECK(!halo::node::ParseNodeConfig(deep, "deep.json", nullptr).ok(), "deep file refused");
  });
  std::string text(reinterpret_cast<const char*>(data), size);
  halo::Result<halo::node::NodeConfig> r = halo::node::ParseNodeConfig(text, "fuzz.json", nullptr);
  if (!r.ok()) {
    halo::fuzz::CheckRefusal(r.status());
    return 0;
  }
  const halo::node::NodeConfig& c = *r;
  HALO_CHECK(c.listener.port >= 0 && c.listener.port <= 65535, "listener port in range");
  HALO_CHECK(c.listener.max_request_size >= 1, "max_request_size positive");
  HALO_CHECK(c.listener.max_request_duration_ms > 0, "max_request_duration positive");
  HALO_CHECK(StartsWith(c.api_addr, "http://") || StartsWith(c.api_addr, "https://"),
             "api_addr is an http(s) URL");
  HALO_CHECK(!c.cluster_name.empty(), "cluster_name set");
  HALO_CHECK(!c.mounts.empty(), "at least one mount");
  for (size_t i = 0; i < c.mounts.size(); ++i) {
    const halo::node::MountConfig& m = c.mounts[i];
    HALO_CHECK(!m.path.empty() && m.path.back() == '/' && m.path[0] != '/', "mount path shape");
    HALO_CHECK(!StartsWith(m.path, "sys/"), "sys/ is reserved");
    HALO_CHECK(m.kv_version == 1 || m.kv_version == 2, "kv version 1 or 2");
    for (size_t j = 0; j < i; ++j) {
      HALO_CHECK(!StartsWith(m.path, c.mounts[j].path) && !StartsWith(c.mounts[j].path, m.path),
                 "mounts do not overlap");
    }
    // The node routes a request under each mount to that mount.
    halo::node::Route route = halo::node::RoutePath("/v1/" + m.path + "x", false, c.mounts);
    HALO_CHECK(
        route.kind == halo::node::RouteKind::kMount && route.mount == &m && route.rel_path == "x",
        "a mount's paths route to it");
  }

  halo::Result<halo::node::NodeConfig> env =
      halo::node::ParseNodeConfig(text, "fuzz.json", "env-token");
  HALO_CHECK(env.ok() && env->root_token == "env-token", "HALO_ROOT_TOKEN wins");
  return 0;
}
