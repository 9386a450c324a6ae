#include <doctest/doctest.h>

#include "common/json_config.h"

namespace halo {
namespace {

TEST_CASE("ParseJson names the place of a syntax error") {
  Result<rapidjson::Document> doc = ParseJson("{\n  \"a\": 1,\n  \"b\": }", "x.json");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.status().message().find("x.json:3:") == 0);
}

TEST_CASE("ConfigObject reads typed keys and reports unknown ones by path") {
  auto doc = ParseJson(R"({"listener":{"tcp":{"address":"127.0.0.1:1","tls_disable":true}},
                            "ttl":"2s","n":5,"typo":1})",
                       "c");
  REQUIRE(doc.ok());
  ConfigObject top(*doc, "");
  Result<ConfigObject> listener = top.GetObject("listener");
  REQUIRE(listener.ok());
  Result<ConfigObject> tcp = listener->GetObject("tcp");
  REQUIRE(tcp.ok());
  std::string addr;
  CHECK(tcp->GetString("address", &addr).ok());
  CHECK(addr == "127.0.0.1:1");
  int64_t n = 0;
  CHECK(tcp->GetInt("address", &n, 0, 10).message() == "listener.tcp.address: expected an integer");
  Status unknown = tcp->Finish();
  CHECK(unknown.message() == "listener.tcp.tls_disable: unknown key");
  int64_t ttl = 0;
  CHECK(top.GetDurationMs("ttl", &ttl).ok());
  CHECK(ttl == 2000);
  CHECK(top.GetInt("n", &n, 0, 3).message() == "n: 5 is out of range [0, 3]");
  CHECK(top.Finish().message() == "typo: unknown key");
}

TEST_CASE("ParseDurationMs") {
  CHECK(*ParseDurationMs("250ms") == 250);
  CHECK(*ParseDurationMs("1.5s") == 1500);
  CHECK(*ParseDurationMs("1m") == 60000);
  CHECK(*ParseDurationMs("40") == 40);
  CHECK_FALSE(ParseDurationMs("2 weeks").ok());
  CHECK_FALSE(ParseDurationMs("-1s").ok());
  CHECK_FALSE(ParseDurationMs("").ok());
}

}  // namespace
}  // namespace halo
