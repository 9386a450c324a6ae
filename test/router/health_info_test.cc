#include "router/health_info.h"

#include <doctest/doctest.h>

namespace halo::router {
namespace {

TEST_CASE("ParseHealthResponse: codes and bodies") {
  Result<HealthInfo> h =
      ParseHealthResponse(200, R"({"initialized":true,"sealed":false,"standby":false})");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kActive);
  h = ParseHealthResponse(429, R"({"initialized":true,"sealed":false,"standby":true})");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kStandby);
  h = ParseHealthResponse(503, R"({"initialized":true,"sealed":true,"standby":true})");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kSealed);
  h = ParseHealthResponse(501, R"({"initialized":false,"sealed":true,"standby":true})");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kUninitialized);
  // HEAD-style: no body, the code decides.
  h = ParseHealthResponse(429, "");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kStandby);
  // The body wins over a code that contradicts it (standbyok=true style 200).
  h = ParseHealthResponse(200, R"({"initialized":true,"sealed":false,"standby":true})");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kStandby);
  // A code that means nothing and no usable body.
  CHECK_FALSE(ParseHealthResponse(404, "not found").ok());
  CHECK_FALSE(ParseHealthResponse(500, "{}").ok());
  // An odd code with a full body is still understood.
  h = ParseHealthResponse(299, R"({"initialized":true,"sealed":false,"standby":true})");
  REQUIRE(h.ok());
  CHECK(h->role == NodeRole::kStandby);
}

TEST_CASE("ParseLeaderResponse") {
  Result<LeaderInfo> l = ParseLeaderResponse(
      200, R"({"ha_enabled":true,"is_self":true,"leader_address":"http://127.0.0.1:8210",)"
           R"("leader_cluster_address":"","index":7})");
  REQUIRE(l.ok());
  CHECK(l->ha_enabled);
  CHECK(l->is_self);
  CHECK(l->leader_address == "http://127.0.0.1:8210");
  CHECK(l->index == 7);
  l = ParseLeaderResponse(200, R"({"ha_enabled":true,"is_self":false,"leader_address":""})");
  REQUIRE(l.ok());
  CHECK(l->leader_address.empty());
  CHECK(l->index == -1);
  CHECK(ParseLeaderResponse(503, R"({"errors":["Vault is sealed"]})").status().code() ==
        Status::Code::kUnavailable);
  CHECK_FALSE(ParseLeaderResponse(200, "[1]").ok());
}

TEST_CASE("AuthorityOf") {
  CHECK(AuthorityOf("http://127.0.0.1:8210") == "127.0.0.1:8210");
  CHECK(AuthorityOf("https://u@h:1/x?y") == "h:1");
  CHECK(AuthorityOf("h:2") == "h:2");
}

}  // namespace
}  // namespace halo::router
