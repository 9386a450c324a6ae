#include "common/http/error_body.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace halo::http {
namespace {

// The single error string after parsing `body` back with RapidJSON.
std::vector<std::string> Parsed(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  std::vector<std::string> out;
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember("errors"));
  REQUIRE(d["errors"].IsArray());
  for (const auto& v : d["errors"].GetArray()) {
    REQUIRE(v.IsString());
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

TEST_CASE("ErrorBody: OpenBao's shape, one message or several") {
  CHECK(ErrorBody("no active node") == R"({"errors":["no active node"]})");
  CHECK(ErrorBody(std::vector<std::string>{}) == R"({"errors":[]})");
  CHECK(ErrorBody(std::vector<std::string>{"a", "b"}) == R"({"errors":["a","b"]})");
  CHECK(ErrorBody("") == R"({"errors":[""]})");
}

TEST_CASE("ErrorBody: quotes, backslashes and control characters are escaped") {
  CHECK(ErrorBody("say \"hi\"") == R"({"errors":["say \"hi\""]})");
  CHECK(ErrorBody("C:\\dir") == R"({"errors":["C:\\dir"]})");
  CHECK(ErrorBody("a\nb\tc\rd") == R"({"errors":["a\nb\tc\rd"]})");
  CHECK(ErrorBody(std::string("a\x01", 2)) == R"({"errors":["a\u0001"]})");
  CHECK(ErrorBody(std::string("nul\0here", 8)) == R"({"errors":["nul\u0000here"]})");
  const std::string nasty("\"\\\b\f\x1f\x7f</", 8);
  CHECK(Parsed(ErrorBody(nasty)) == std::vector<std::string>{nasty});
}

TEST_CASE("ErrorBody: non-ASCII UTF-8 is kept as it is and round-trips") {
  const std::string utf8 = "cl\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91";  // "clé € 🔑"
  CHECK(ErrorBody(utf8) == "{\"errors\":[\"" + utf8 + "\"]}");
  CHECK(Parsed(ErrorBody(std::vector<std::string>{utf8, "x"})) ==
        std::vector<std::string>{utf8, "x"});
}

}  // namespace
}  // namespace halo::http
