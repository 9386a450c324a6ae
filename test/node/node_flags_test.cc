#include "node/node_flags.h"

#include <doctest/doctest.h>

namespace halo::node {
namespace {

TEST_CASE("ParseNodeFlags") {
  CHECK(ParseNodeFlags({"--config", "a.json"})->config_path == "a.json");
  CHECK(ParseNodeFlags({"--config=b.json"})->config_path == "b.json");
  CHECK(ParseNodeFlags({"-config=c.json"})->config_path == "c.json");
  CHECK(ParseNodeFlags({"-config", "d.json"})->config_path == "d.json");
  CHECK(ParseNodeFlags({"--help"})->help);
  CHECK(ParseNodeFlags({"--version"})->version);
  CHECK(ParseNodeFlags({"--check-config", "--config", "e.json"})->check_config);
  CHECK_FALSE(ParseNodeFlags({"--config", "e.json"})->check_config);
  CHECK_FALSE(ParseNodeFlags({"--check-config"}).ok());  // it needs the file
  Result<NodeFlags> none = ParseNodeFlags({});
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("--config") != std::string::npos);
  CHECK_FALSE(ParseNodeFlags({"--config"}).ok());
  Result<NodeFlags> bad = ParseNodeFlags({"--config", "x", "--bogus"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("--bogus") != std::string::npos);
}

}  // namespace
}  // namespace halo::node
