#include "common/http/url.h"

#include <doctest/doctest.h>

namespace halo::http {
namespace {

TEST_CASE("PercentDecode") {
  CHECK(PercentDecode("a%20b%2Fc") == std::optional<std::string>("a b/c"));
  CHECK(PercentDecode("a+b") == std::optional<std::string>("a+b"));
  CHECK(PercentDecode("a+b", true) == std::optional<std::string>("a b"));
  CHECK(PercentDecode("%e2%82%AC") == std::optional<std::string>("\xe2\x82\xac"));
  CHECK_FALSE(PercentDecode("%").has_value());
  CHECK_FALSE(PercentDecode("%4").has_value());
  CHECK_FALSE(PercentDecode("%zz").has_value());
  CHECK_FALSE(PercentDecode("ab%").has_value());
}

TEST_CASE("SplitTarget") {
  std::string path, query;
  CHECK(SplitTarget("GET", "/v1/secret/data/a?version=2", &path, &query).ok());
  CHECK(path == "/v1/secret/data/a");
  CHECK(query == "version=2");
  CHECK(SplitTarget("GET", "/a?", &path, &query).ok());
  CHECK(path == "/a");
  CHECK(query.empty());
  CHECK(SplitTarget("GET", "/a%3Fb?c=%3F", &path, &query).ok());
  CHECK(path == "/a?b");
  CHECK(query == "c=%3F");
  CHECK(SplitTarget("GET", "https://h:8200/x/y?z", &path, &query).ok());
  CHECK(path == "/x/y");
  CHECK(query == "z");
  CHECK(SplitTarget("OPTIONS", "*", &path, &query).ok());
  CHECK_FALSE(SplitTarget("GET", "*", &path, &query).ok());
  CHECK_FALSE(SplitTarget("GET", "/a#b", &path, &query).ok());
  CHECK_FALSE(SplitTarget("GET", "/a%0", &path, &query).ok());
  CHECK_FALSE(SplitTarget("GET", "/a%00b", &path, &query).ok());
  CHECK_FALSE(SplitTarget("GET", "a/b", &path, &query).ok());
  CHECK_FALSE(SplitTarget("GET", "", &path, &query).ok());
}

TEST_CASE("Query parameters") {
  auto q = QueryParams::ParseLenient("list=true&a=1&a=2&flag&x=a+b%21&&=v&bad=%zz").pairs();
  REQUIRE(q.size() == 7);
  CHECK(q[0] == std::pair<std::string, std::string>("list", "true"));
  CHECK(q[2].second == "2");
  CHECK(q[3] == std::pair<std::string, std::string>("flag", ""));
  CHECK(q[4].second == "a b!");
  CHECK(q[5].first.empty());
  CHECK(q[6].second == "%zz");
  CHECK(QueryParam("a=1&a=2", "a") == std::optional<std::string>("1"));
  CHECK_FALSE(QueryParam("a=1", "b").has_value());
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    CHECK(QueryFlag(std::string("list=") + t, "list"));
  }
  for (const char* f : {"0", "false", "yes", "", "tru"}) {
    CHECK_FALSE(QueryFlag(std::string("list=") + f, "list"));
  }
  CHECK_FALSE(QueryFlag("", "list"));
}

}  // namespace
}  // namespace halo::http
