#include "router/request_target.h"

#include <doctest/doctest.h>

#include <string>

namespace halo::router {
namespace {

std::string Norm(std::string_view target) {
  NormalizedTarget t;
  if (!NormalizeTarget(target, &t)) return "<400>";
  return t.path;
}

TEST_CASE("NormalizeTarget merges slashes and resolves dot segments") {
  CHECK(Norm("/v1/secret/data/a") == "/v1/secret/data/a");
  CHECK(Norm("/v1//secret///data/a") == "/v1/secret/data/a");
  CHECK(Norm("/v1/./secret/./data/a") == "/v1/secret/data/a");
  CHECK(Norm("/v1/secret/x/../data/a") == "/v1/secret/data/a");
  CHECK(Norm("/v1/secret/data/a/..") == "/v1/secret/data/");
  CHECK(Norm("/v1/secret/data/.") == "/v1/secret/data/");
  CHECK(Norm("/v1/secret/metadata/dir/") == "/v1/secret/metadata/dir/");
  CHECK(Norm("/v1/secret/metadata/dir//") == "/v1/secret/metadata/dir/");
  CHECK(Norm("/") == "/");
  CHECK(Norm("//") == "/");
  CHECK(Norm("/a/..") == "/");
  CHECK(Norm("/...") == "/...");
  CHECK(Norm("/a/.b/..c") == "/a/.b/..c");
}

TEST_CASE("NormalizeTarget decodes percent escapes before resolving segments") {
  CHECK(Norm("/v1/secret/data/a%20b") == "/v1/secret/data/a b");
  CHECK(Norm("/v1/%73ys/health") == "/v1/sys/health");
  CHECK(Norm("/v1/secret/%2e%2e/sys/seal") == "/v1/sys/seal");
  CHECK(Norm("/v1/secret/%2E/data") == "/v1/secret/data");
  CHECK(Norm("/v1/secret%2fdata%2Fx") == "/v1/secret/data/x");
  CHECK(Norm("/v1/a%25b") == "/v1/a%b");
}

TEST_CASE("NormalizeTarget refuses what cannot be normalised safely") {
  CHECK(Norm("") == "<400>");
  CHECK(Norm("v1/sys/health") == "<400>");
  CHECK(Norm("*") == "<400>");
  CHECK(Norm("example.com:443") == "<400>");
  CHECK(Norm("/..") == "<400>");
  CHECK(Norm("/v1/../../etc") == "<400>");
  CHECK(Norm("/v1/%2e%2e/%2e%2e/x") == "<400>");
  CHECK(Norm("/v1/a%zz") == "<400>");
  CHECK(Norm("/v1/a%2") == "<400>");
  CHECK(Norm("/v1/a%") == "<400>");
  CHECK(Norm("/v1/a%00b") == "<400>");
  CHECK(Norm("/v1/a%0d%0aX: y") == "<400>");
  CHECK(Norm("/v1/a%7f") == "<400>");
  CHECK(Norm("/v1/a b") == "<400>");
  CHECK(Norm(std::string_view("/v1/a\0b", 7)) == "<400>");
  CHECK(Norm("/v1/a\tb") == "<400>");
  CHECK(Norm("/v1/a#frag") == "<400>");
  CHECK(Norm("/v1/a?x=1\x01") == "<400>");
}

TEST_CASE("NormalizeTarget accepts absolute-form") {
  CHECK(Norm("http://vault.example:8200/v1/sys/health") == "/v1/sys/health");
  CHECK(Norm("HTTPS://h/v1//x/") == "/v1/x/");
  CHECK(Norm("http://h") == "/");
  CHECK(Norm("http:///v1/x") == "<400>");
  CHECK(Norm("ftp://h/x") == "<400>");
}

TEST_CASE("NormalizeTarget keeps the raw query and spots list=true") {
  NormalizedTarget t;
  REQUIRE(NormalizeTarget("/v1/secret/metadata/?list=true", &t));
  CHECK(t.path == "/v1/secret/metadata/");
  CHECK(t.query == "list=true");
  CHECK(t.list);
  REQUIRE(NormalizeTarget("/v1/x?a=1&list=1&b=%20", &t));
  CHECK(t.list);
  CHECK(t.query == "a=1&list=1&b=%20");
  REQUIRE(NormalizeTarget("/v1/x?list=false", &t));
  CHECK_FALSE(t.list);
  REQUIRE(NormalizeTarget("/v1/x?blist=true", &t));
  CHECK_FALSE(t.list);
  REQUIRE(NormalizeTarget("/v1/x", &t));
  CHECK_FALSE(t.list);
  CHECK(t.query.empty());
}

TEST_CASE("ApiPath strips /v1/") {
  CHECK(ApiPath("/v1/sys/health") == "sys/health");
  CHECK(ApiPath("/v1") == "");
  CHECK(ApiPath("/v1/") == "");
  CHECK(ApiPath("/ui/x") == "ui/x");
  CHECK(ApiPath("/v10/x") == "v10/x");
}

}  // namespace
}  // namespace halo::router
