#include "node/head_check.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kv/json.h"

namespace halo::node {
namespace {

using V = HeadVerdict;

TEST_CASE("DecideHead: route, method and token from the head alone") {
  struct Case {
    RouteKind route;
    const char* method;
    bool authorized;
    V expect;
  };
  const std::vector<Case> cases = {
      // Local sys endpoints: no token needed; other methods 405.
      {RouteKind::kHealth, "GET", false, V::kProceed},
      {RouteKind::kHealth, "HEAD", false, V::kProceed},
      {RouteKind::kHealth, "PUT", false, V::kMethodNotAllowed},
      {RouteKind::kHealth, "PUT", true, V::kMethodNotAllowed},
      {RouteKind::kLeader, "GET", false, V::kProceed},
      {RouteKind::kLeader, "POST", false, V::kMethodNotAllowed},
      {RouteKind::kSealStatus, "GET", false, V::kProceed},
      {RouteKind::kSealStatus, "DELETE", true, V::kMethodNotAllowed},
      // Everything else: the token first, even for a method or route that does not exist.
      {RouteKind::kMount, "PUT", false, V::kPermissionDenied},
      {RouteKind::kMount, "BREW", false, V::kPermissionDenied},
      {RouteKind::kNotFound, "PUT", false, V::kPermissionDenied},
      {RouteKind::kStepDown, "PUT", false, V::kPermissionDenied},
      {RouteKind::kSysMounts, "GET", false, V::kPermissionDenied},
      // With the token: the route's methods, else 405; no route is 404.
      {RouteKind::kMount, "GET", true, V::kProceed},
      {RouteKind::kMount, "LIST", true, V::kProceed},
      {RouteKind::kMount, "SCAN", true, V::kProceed},
      {RouteKind::kMount, "POST", true, V::kProceed},
      {RouteKind::kMount, "PUT", true, V::kProceed},
      {RouteKind::kMount, "PATCH", true, V::kProceed},
      {RouteKind::kMount, "DELETE", true, V::kProceed},
      {RouteKind::kMount, "OPTIONS", true, V::kMethodNotAllowed},
      {RouteKind::kMount, "BREW", true, V::kMethodNotAllowed},
      {RouteKind::kStepDown, "PUT", true, V::kProceed},
      {RouteKind::kStepDown, "POST", true, V::kProceed},
      {RouteKind::kStepDown, "GET", true, V::kMethodNotAllowed},
      {RouteKind::kSysMounts, "GET", true, V::kProceed},
      {RouteKind::kSysMounts, "PUT", true, V::kMethodNotAllowed},
      {RouteKind::kUiMounts, "GET", true, V::kProceed},
      {RouteKind::kUiMounts, "POST", true, V::kMethodNotAllowed},
      {RouteKind::kNotFound, "PUT", true, V::kNotFound},
      {RouteKind::kNotFound, "GET", true, V::kNotFound},
  };
  for (const Case& c : cases) {
    INFO(static_cast<int>(c.route) << " " << c.method << " authorized=" << c.authorized);
    CHECK(DecideHead(c.route, c.method, c.authorized) == c.expect);
  }
}

TEST_CASE("HeadRefusal: OpenBao's status and {\"errors\":[...]} for each refusal") {
  Route route;
  route.api_path = "nope/x";
  http::Response denied = HeadRefusal(V::kPermissionDenied, route);
  CHECK(denied.status == 403);
  CHECK(denied.body == "{\"errors\":[\"permission denied\"]}\n");
  http::Response missing = HeadRefusal(V::kNotFound, route);
  CHECK(missing.status == 404);
  CHECK(missing.body.find("no handler for route \\\"nope/x\\\"") != std::string::npos);
  http::Response method = HeadRefusal(V::kMethodNotAllowed, route);
  CHECK(method.status == 405);
  CHECK(method.body == "{\"errors\":[]}\n");
  for (const http::Response* r : {&denied, &missing, &method}) {
    CHECK(r->headers.Get("Content-Type").value_or("") == "application/json");
  }
}

}  // namespace
}  // namespace halo::node
