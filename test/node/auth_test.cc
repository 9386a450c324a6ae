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

}  // namespace
}  // namespace halo::node
