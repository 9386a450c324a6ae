// Request routing for the node API: which handler a URL path belongs to (a sys/* endpoint,
// a secrets-engine mount, or nothing), and which logical operation an HTTP method means.
// Whether that operation writes is the engine's decision (kv::SecretsEngine::Writes).
// Pure functions; the mount list comes from NodeConfig.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "common/http/url.h"
#include "kv/request.h"
#include "node/node_config.h"

namespace halo::node {

using kv::KvOp;

enum class RouteKind {
  kHealth,      // sys/health
  kLeader,      // sys/leader
  kSealStatus,  // sys/seal-status
  kStepDown,    // sys/step-down
  kSysMounts,   // sys/mounts
  kUiMounts,    // sys/internal/ui/mounts[/<path>] (rel_path: what follows)
  kMount,       // a secrets engine
  kNotFound,    // anything else (404)
};

struct Route {
  RouteKind kind = RouteKind::kNotFound;
  const MountConfig* mount = nullptr;  // kMount: points into the mounts vector
  std::string api_path;                // below "/v1/" ("secret/data/a"), what error messages show
  std::string rel_path;                // kMount: below the mount ("data/a"); may be empty
};

// `path` is the percent-decoded URL path ("/v1/secret/data/a"). `is_list` appends the '/'
// a list operation implies. REQUIRES: `mounts` outlives the returned Route.
Route RoutePath(std::string_view path, bool is_list, const std::vector<MountConfig>& mounts);

// The operation for a request to a mount, as OpenBao's internal/http/logical.go: GET (list
// with ?list=true, scan with ?scan=true), LIST, SCAN, POST/PUT, PATCH, DELETE. On failure
// fills `error` (405 another method, 400 bad list/scan parameter or both) and returns false.
// The engine itself checks PATCH's Content-Type.
bool ClassifyOperation(std::string_view method, const http::QueryParams& query, KvOp* op,
                       http::Response* error);

}  // namespace halo::node
