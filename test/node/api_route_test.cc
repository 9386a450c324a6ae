#include "node/api_route.h"

#include <doctest/doctest.h>

namespace halo::node {
namespace {

const std::vector<MountConfig> kMounts = {{"secret/", 2}, {"kv/", 1}};

TEST_CASE("RoutePath: sys endpoints, mounts, unknown paths") {
  CHECK(RoutePath("/v1/sys/health", false, kMounts).kind == RouteKind::kHealth);
  CHECK(RoutePath("/v1/sys/leader", false, kMounts).kind == RouteKind::kLeader);
  CHECK(RoutePath("/v1/sys/seal-status", false, kMounts).kind == RouteKind::kSealStatus);
  CHECK(RoutePath("/v1/sys/step-down", false, kMounts).kind == RouteKind::kStepDown);
  CHECK(RoutePath("/v1/sys/mounts", false, kMounts).kind == RouteKind::kSysMounts);
  CHECK(RoutePath("/v1/sys/mounts/x", false, kMounts).kind == RouteKind::kNotFound);
  CHECK(RoutePath("/v1/sys/internal/ui/mounts", false, kMounts).kind == RouteKind::kUiMounts);
  Route ui = RoutePath("/v1/sys/internal/ui/mounts/secret/a", false, kMounts);
  CHECK(ui.kind == RouteKind::kUiMounts);
  CHECK(ui.rel_path == "/secret/a");
  CHECK(RoutePath("/v1/sys/internal/ui/mountsx", false, kMounts).kind == RouteKind::kNotFound);
  CHECK(RoutePath("/v1/sys/policy", false, kMounts).kind == RouteKind::kNotFound);
  CHECK(RoutePath("/v2/secret/data/a", false, kMounts).kind == RouteKind::kNotFound);
  CHECK(RoutePath("/", false, kMounts).kind == RouteKind::kNotFound);
  CHECK(RoutePath("", false, kMounts).kind == RouteKind::kNotFound);
  CHECK(RoutePath("/v1/secretx/a", false, kMounts).kind == RouteKind::kNotFound);

  Route r = RoutePath("/v1/secret/data/a/b", false, kMounts);
  CHECK(r.kind == RouteKind::kMount);
  CHECK(r.mount == &kMounts[0]);
  CHECK(r.rel_path == "data/a/b");
  CHECK(r.api_path == "secret/data/a/b");

  Route list = RoutePath("/v1/kv", true, kMounts);  // a list appends the '/'
  CHECK(list.kind == RouteKind::kMount);
  CHECK(list.mount == &kMounts[1]);
  CHECK(list.rel_path.empty());
  CHECK(RoutePath("/v1/kv", false, kMounts).kind == RouteKind::kNotFound);
}

TEST_CASE("ClassifyOperation maps methods as OpenBao does") {
  auto op_of = [](std::string_view method, std::string_view query, KvOp* op) {
    http::Response err;
    Result<http::QueryParams> q = http::QueryParams::Parse(query);
    REQUIRE(q.ok());
    bool ok = ClassifyOperation(method, *q, op, &err);
    return ok ? 0 : err.status;
  };
  KvOp op;
  CHECK(op_of("GET", "", &op) == 0);
  CHECK(op == KvOp::kRead);
  CHECK(op_of("GET", "list=true", &op) == 0);
  CHECK(op == KvOp::kList);
  CHECK(op_of("LIST", "", &op) == 0);
  CHECK(op == KvOp::kList);
  CHECK(op_of("GET", "scan=1", &op) == 0);
  CHECK(op == KvOp::kScan);
  CHECK(op_of("PUT", "", &op) == 0);
  CHECK(op == KvOp::kWrite);
  CHECK(op_of("POST", "", &op) == 0);
  CHECK(op == KvOp::kWrite);
  CHECK(op_of("PATCH", "", &op) == 0);
  CHECK(op == KvOp::kPatch);
  CHECK(op_of("DELETE", "", &op) == 0);
  CHECK(op == KvOp::kDelete);
  CHECK(op_of("GET", "list=maybe", &op) == 400);
  CHECK(op_of("GET", "list=true&scan=true", &op) == 400);
  CHECK(op_of("OPTIONS", "", &op) == 405);
  CHECK(op_of("TRACE", "", &op) == 405);
  CHECK(op_of("HEAD", "", &op) == 405);
}

}  // namespace
}  // namespace halo::node
