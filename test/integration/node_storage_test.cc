// Integration: the storage and lock combinations of the startup banner. `file` storage alone
// runs one always-active node without HA; `file` with an `ha_storage` flock lock is a
// cluster (OpenBao's data/lock split).
#include <doctest/doctest.h>

#include "test/node/local_cluster.h"

namespace halo::node::testing {
namespace {

const char kSecret[] = R"({"data":{"k":"v"}})";

TEST_CASE("node storage: file without ha_storage is a single non-HA node, and says so") {
  ClusterOptions options;
  options.nodes = 1;
  options.storage_json = R"("storage": {"file": {"path": "%DIR%/files"}})";
  LocalCluster c(options);
  REQUIRE(c.Start());
  std::string log = c.log(0);
  CHECK(log.find("                 Storage: file\n") != std::string::npos);
  CHECK(log.find("HA Storage") == std::string::npos);
  CHECK(log.find("HA Mode: disabled") != std::string::npos);
  CHECK(log.find("HA is not enabled") != std::string::npos);
  CHECK(c.Health(0) == 200);
  auto leader = c.Call(0, "GET", "/v1/sys/leader");
  REQUIRE(leader.ok());
  CHECK(leader->body.find("\"ha_enabled\":false") != std::string::npos);
  CHECK(leader->body.find("\"index\":") != std::string::npos);
  auto w = c.Call(0, "PUT", "/v1/secret/data/a", kSecret);
  REQUIRE(w.ok());
  CHECK(w->status == 200);
  CHECK(JsonString(c.Call(0, "GET", "/v1/secret/data/a")->body, {"data", "data", "k"}) == "v");
  // Step-down does nothing on a node without HA.
  CHECK(c.Call(0, "PUT", "/v1/sys/step-down")->status == 204);
  CHECK(c.Health(0) == 200);
  auto seal = c.Call(0, "GET", "/v1/sys/seal-status");
  CHECK(JsonString(seal->body, {"storage_type"}) == "file");
}

TEST_CASE("node storage: file data with an flock ha_storage is an HA cluster") {
  ClusterOptions options;
  options.nodes = 2;
  options.storage_json = R"("storage": {"file": {"path": "%DIR%/files"}},
  "ha_storage": {"flock": {"path": "%DIR%/ha.lock"}})";
  LocalCluster c(options);
  REQUIRE(c.Start());
  std::string log = c.log(0);
  CHECK(log.find("                 Storage: file\n") != std::string::npos);
  CHECK(log.find("              HA Storage: flock\n") != std::string::npos);
  int active = c.Active();
  REQUIRE(active >= 0);
  int standby = 1 - active;
  CHECK(c.Health(standby) == 429);
  auto w = c.Call(standby, "PUT", "/v1/secret/data/split", kSecret);  // forwarded
  REQUIRE(w.ok());
  CHECK(w->status == 200);
  for (int i = 0; i < 2; ++i) {
    auto r = c.Call(i, "GET", "/v1/secret/data/split");
    REQUIRE(r.ok());
    CHECK(JsonString(r->body, {"data", "data", "k"}) == "v");
  }
  c.Kill(active);
  REQUIRE(c.WaitActive(active, std::chrono::seconds(10)) == standby);
  CHECK(JsonString(c.Call(standby, "GET", "/v1/secret/data/split")->body, {"data", "data", "k"}) ==
        "v");
}

}  // namespace
}  // namespace halo::node::testing
