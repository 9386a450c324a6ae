#include "node/auth.h"

#include <doctest/doctest.h>

namespace halo::node {
namespace {

TEST_CASE("ClientToken: X-Vault-Token wins over Authorization: Bearer") {
  CHECK(ClientToken("abc", "") == "abc");
  CHECK(ClientToken("", "Bearer xyz") == "xyz");
  CHECK(ClientToken("", "bearer  xyz ") == "xyz");
  CHECK(ClientToken("abc", "Bearer xyz") == "abc");
  CHECK(ClientToken("", "Basic dXNlcjpwYXNz").empty());
  CHECK(ClientToken("", "Bearer").empty());
  CHECK(ClientToken("", "").empty());
}

TEST_CASE("TokenMatches") {
  CHECK(TokenMatches("root", "root"));
  CHECK_FALSE(TokenMatches("roo", "root"));
  CHECK_FALSE(TokenMatches("rooT", "root"));
  CHECK_FALSE(TokenMatches("", ""));
}

TEST_CASE("HopMarker: keyed by the cluster secret, never the secret itself") {
  std::string a = HopMarker("cluster-secret-aaaaaaaa", "root");
  CHECK(a.size() == 64);                                           // hex SHA-256
  CHECK(a == HopMarker("cluster-secret-aaaaaaaa", "other-root"));  // the secret decides
  CHECK(a != HopMarker("cluster-secret-bbbbbbbb", "root"));
  CHECK(a.find("cluster-secret") == std::string::npos);
  // No secret: derived from the root token, and not equal to it.
  std::string d = HopMarker("", "root");
  CHECK(d.size() == 64);
  CHECK(d != HopMarker("", "root2"));
  CHECK(d != a);
  CHECK(TokenMatches(d, HopMarker("", "root")));
  CHECK_FALSE(TokenMatches("1", d));
}

}  // namespace
}  // namespace halo::node
