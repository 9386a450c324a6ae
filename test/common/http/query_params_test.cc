#include "common/http/url.h"

#include <doctest/doctest.h>

namespace halo::http {
namespace {

TEST_CASE("QueryParams parses and decodes") {
  Result<QueryParams> q = QueryParams::Parse("a=1&b=x%20y+z&&flag&a=2&e=");
  REQUIRE(q.ok());
  CHECK(q->Get("a") == "1");
  CHECK(q->Get("b") == "x y z");
  CHECK(q->Has("flag"));
  CHECK(q->Get("flag") == "");
  CHECK(q->Get("e") == "");
  CHECK_FALSE(q->Has("zz"));
  CHECK(q->pairs().size() == 5);
  CHECK(*q->GetBool("flag", false));
  CHECK(*q->GetBool("missing", true));
  CHECK(*q->GetInt("a", 9) == 1);
  CHECK(*q->GetInt("missing", 9) == 9);
  CHECK_FALSE(q->GetInt("b", 0).ok());
  CHECK_FALSE(q->GetInt("e", 0).ok());
}

TEST_CASE("QueryParams rejects bad escapes") {
  CHECK_FALSE(QueryParams::Parse("a=%").ok());
  CHECK_FALSE(QueryParams::Parse("a=%4").ok());
  CHECK_FALSE(QueryParams::Parse("a=%zz").ok());
  CHECK(QueryParams::Parse("a=%41").ok());
  CHECK(QueryParams::Parse("a=%zz").status().message() == "bad percent-escape in \"%zz\"");
  CHECK(*PercentDecode("%2F%2f", false) == "//");
  CHECK(*PercentDecode("a+b", false) == "a+b");
  // The lenient form keeps what it cannot decode.
  CHECK(QueryParams::ParseLenient("a=%zz&b=1").Get("a") == "%zz");
}

TEST_CASE("QueryParams::Without drops every pair with those names") {
  QueryParams q =
      QueryParams::ParseLenient("list=true&a=1&scan&list=0&b=2").Without({"list", "scan"});
  REQUIRE(q.pairs().size() == 2);
  CHECK(q.pairs()[0].first == "a");
  CHECK(q.pairs()[1].first == "b");
}

TEST_CASE("ParseGoBool") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(ParseGoBool(t) == true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) CHECK(ParseGoBool(f) == false);
  for (const char* bad : {"", "yes", "tRUE", "2"}) CHECK_FALSE(ParseGoBool(bad).has_value());
}

}  // namespace
}  // namespace halo::http
