#include "node/banner.h"

#include <doctest/doctest.h>

namespace halo::node {
namespace {

NodeConfig Config(const std::string& storage_type) {
  NodeConfig c;
  c.storage.type = storage_type;
  c.storage.path = "/tmp/x";
  c.api_addr = "http://127.0.0.1:8210";
  c.cluster_addr = "https://127.0.0.1:8211";
  c.mounts = {{"secret/", 2}, {"kv/", 1}};
  if (storage_type == "lmdb") c.lock.type = "flock";
  return c;
}

TEST_CASE("Banner: lmdb provides the lock") {
  std::string b = FormatBanner(Config("lmdb"), "127.0.0.1:8210");
  CHECK(b.rfind("==> halo-node server configuration:\n", 0) == 0);
  CHECK(b.find("                 Storage: lmdb (HA available)\n") != std::string::npos);
  CHECK(b.find("HA Storage") == std::string::npos);
  CHECK(b.find("             Api Address: http://127.0.0.1:8210\n") != std::string::npos);
  CHECK(b.find("Cluster Name: halo-cluster\n") != std::string::npos);
  CHECK(b.find("Version: halo v") != std::string::npos);
  CHECK(b.find("HA Mode") == std::string::npos);
  // Keys are sorted.
  CHECK(b.find("Api Address") < b.find("Storage:"));
  CHECK(HaEnabled(Config("lmdb")));
}

TEST_CASE("Banner: split data and lock, and file alone") {
  NodeConfig split = Config("file");
  split.ha_storage_set = true;
  split.lock.type = "flock";
  std::string b = FormatBanner(split, "127.0.0.1:8210");
  CHECK(b.find("                 Storage: file\n") != std::string::npos);
  CHECK(b.find("              HA Storage: flock\n") != std::string::npos);
  CHECK(HaEnabled(split));

  NodeConfig alone = Config("file");
  std::string s = FormatBanner(alone, "127.0.0.1:8210");
  CHECK(s.find("                 Storage: file\n") != std::string::npos);
  CHECK(s.find("HA Mode: disabled") != std::string::npos);
  CHECK_FALSE(HaEnabled(alone));
}

}  // namespace
}  // namespace halo::node
