#include "node/api_route.h"

#include "node/api_response.h"

namespace halo::node {

Route RoutePath(std::string_view path, bool is_list, const std::vector<MountConfig>& mounts) {
  Route route;
  constexpr std::string_view kPrefix = "/v1/";
  if (path.substr(0, kPrefix.size()) != kPrefix) {
    route.api_path = std::string(path);
    return route;
  }
  route.api_path = std::string(path.substr(kPrefix.size()));
  if (is_list && (route.api_path.empty() || route.api_path.back() != '/')) {
    route.api_path.push_back('/');
  }
  const std::string& p = route.api_path;
  if (p == "sys/health") {
    route.kind = RouteKind::kHealth;
  } else if (p == "sys/leader") {
    route.kind = RouteKind::kLeader;
  } else if (p == "sys/seal-status") {
    route.kind = RouteKind::kSealStatus;
  } else if (p == "sys/step-down") {
    route.kind = RouteKind::kStepDown;
  } else if (p == "sys/mounts") {
    route.kind = RouteKind::kSysMounts;
  } else if (p.rfind("sys/internal/ui/mounts", 0) == 0 && (p.size() == 22 || p[22] == '/')) {
    route.kind = RouteKind::kUiMounts;
    route.rel_path = p.substr(22);
  } else {
    for (const MountConfig& mount : mounts) {
      if (p.compare(0, mount.path.size(), mount.path) == 0) {
        route.kind = RouteKind::kMount;
        route.mount = &mount;
        route.rel_path = p.substr(mount.path.size());
        break;
      }
    }
  }
  return route;
}

bool ClassifyOperation(std::string_view method, const http::QueryParams& query, KvOp* op,
                       http::Response* error) {
  if (method == "GET") {
    Result<bool> list = query.GetBool("list", false);
    Result<bool> scan = query.GetBool("scan", false);
    if (!list.ok() || !scan.ok()) {
      *error = ErrorReply(400, (!list.ok() ? list.status() : scan.status()).message());
      return false;
    }
    if (*list && *scan) {
      *error = ErrorReply(400, "list and scan cannot be used together");
      return false;
    }
    *op = *list ? KvOp::kList : *scan ? KvOp::kScan : KvOp::kRead;
  } else if (method == "LIST") {
    *op = KvOp::kList;
  } else if (method == "SCAN") {
    *op = KvOp::kScan;
  } else if (method == "POST" || method == "PUT") {
    *op = KvOp::kWrite;
  } else if (method == "PATCH") {
    *op = KvOp::kPatch;
  } else if (method == "DELETE") {
    *op = KvOp::kDelete;
  } else {
    *error = MethodNotAllowed();
    return false;
  }
  return true;
}

}  // namespace halo::node
