#include "node/head_check.h"

#include "common/check.h"
#include "node/api_response.h"

namespace halo::node {
namespace {

// The methods a mount's engine has an operation for (ClassifyOperation in api_route.h).
bool MountMethod(std::string_view m) {
  return m == "GET" || m == "LIST" || m == "SCAN" || m == "POST" || m == "PUT" || m == "PATCH" ||
         m == "DELETE";
}

}  // namespace

HeadVerdict DecideHead(RouteKind route, std::string_view method, bool authorized) {
  auto allow = [](bool ok) { return ok ? HeadVerdict::kProceed : HeadVerdict::kMethodNotAllowed; };
  switch (route) {
    case RouteKind::kHealth:
      return allow(method == "GET" || method == "HEAD");
    case RouteKind::kLeader:
    case RouteKind::kSealStatus:
      return allow(method == "GET");
    default:
      break;
  }
  if (!authorized) return HeadVerdict::kPermissionDenied;
  switch (route) {
    case RouteKind::kSysMounts:
    case RouteKind::kUiMounts:
      return allow(method == "GET");
    case RouteKind::kStepDown:
      return allow(method == "PUT" || method == "POST");
    case RouteKind::kMount:
      return allow(MountMethod(method));
    default:
      return HeadVerdict::kNotFound;
  }
}

http::Response HeadRefusal(HeadVerdict verdict, const Route& route) {
  switch (verdict) {
    case HeadVerdict::kPermissionDenied:
      return PermissionDenied();
    case HeadVerdict::kNotFound:
      return NoHandler(route.api_path);
    case HeadVerdict::kMethodNotAllowed:
      return MethodNotAllowed();
    case HeadVerdict::kProceed:
      break;
  }
  HALO_CHECK(false, "HeadRefusal called for a request that proceeds");
  return {};
}

}  // namespace halo::node
