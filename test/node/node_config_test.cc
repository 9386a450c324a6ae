#include "node/node_config.h"

#include <doctest/doctest.h>

#include <string>

namespace halo::node {
namespace {

constexpr const char* kMinimal = R"({
  "storage": {"inmem": {}},
  "listener": {"tcp": {"address": "127.0.0.1:8210"}},
  "root_token": "root"
})";

Result<NodeConfig> Parse(const std::string& text, const char* env = nullptr) {
  return ParseNodeConfig(text, "test.json", env);
}

// The config text with `extra` (a `"key": value` fragment) added at the top level.
std::string With(const std::string& extra) {
  std::string text = kMinimal;
  text.insert(text.find('{') + 1, "\n  " + extra + ",");
  return text;
}

TEST_CASE("NodeConfig: minimal config gets OpenBao-like defaults") {
  Result<NodeConfig> c = Parse(kMinimal);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->storage.type == "inmem");
  CHECK(c->listener.host == "127.0.0.1");
  CHECK(c->listener.port == 8210);
  CHECK(c->api_addr == "http://127.0.0.1:8210");
  CHECK(c->cluster_addr == "https://127.0.0.1:8211");
  CHECK(c->root_token == "root");
  CHECK_FALSE(c->disable_standby_reads);
  CHECK_FALSE(c->disable_request_forwarding);
  CHECK(c->listener.max_request_size == 32 << 20);
  CHECK(c->limits.max_body_bytes_in_flight == int64_t{128} << 20);
  REQUIRE(c->mounts.size() == 2);
  CHECK(c->mounts[0].path == "secret/");
  CHECK(c->mounts[0].kv_version == 2);
  CHECK(c->mounts[1].path == "kv/");
  CHECK(c->mounts[1].kv_version == 1);
}

TEST_CASE("NodeConfig: every key is read") {
  std::string text = R"({
    "storage": {"inmem": {}},
    "ha_storage": {"flock": {"path": "/tmp/x.lock"}},
    "listener": [{"tcp": {"address": "[::1]:0", "max_request_size": 1024,
                          "max_request_duration": "5s", "tls_disable": true}}],
    "api_addr": "http://node1.example:8200",
    "cluster_addr": "https://node1.example:8201",
    "cluster_name": "c1",
    "disable_standby_reads": true,
    "disable_request_forwarding": true,
    "root_token": "file-token",
    "mounts": {"a": {"type": "kv", "options": {"version": "2"}}, "b/": {"type": "kv-v1"}},
    "log_level": "debug",
    "node_name": "n1",
    "leader_check_interval": "20ms"
  })";
  Result<NodeConfig> c = Parse(text, "env-token");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->ha_storage_set);
  CHECK(c->lock.type == "flock");
  CHECK(c->lock.flock.path == "/tmp/x.lock");
  CHECK(c->lock.elector.stepdown_backoff == std::chrono::seconds(10));
  CHECK(c->listener.host == "::1");
  CHECK(c->listener.port == 0);
  CHECK(c->listener.max_request_size == 1024);
  CHECK(c->listener.max_request_duration_ms == 5000);
  CHECK(c->api_addr == "http://node1.example:8200");
  CHECK(c->cluster_addr == "https://node1.example:8201");
  CHECK(c->cluster_name == "c1");
  CHECK(c->disable_standby_reads);
  CHECK(c->disable_request_forwarding);
  CHECK(c->root_token == "env-token");  // HALO_ROOT_TOKEN wins
  REQUIRE(c->mounts.size() == 2);
  CHECK(c->mounts[0].path == "a/");
  CHECK(c->mounts[0].kv_version == 2);
  CHECK(c->mounts[1].kv_version == 1);
  CHECK(c->log_level == LogLevel::kDebug);
  CHECK(c->log_tag == "n1");
  CHECK(c->leader_check_interval_ms == 20);
}

// Each bad config must fail with a message naming the key.
TEST_CASE("NodeConfig: bad configs are errors naming the key") {
  struct Case {
    std::string text;
    std::string expect;
  };
  std::vector<Case> cases = {
      {With(R"("bogus": 1)"), "bogus: unknown key"},
      {With(R"("cluster_secret": "short")"), "cluster_secret: at least 16"},
      {With(R"("cluster_secret": 5)"), "cluster_secret"},
      {With(R"("api_addr": "127.0.0.1:8200")"), "api_addr"},
      {With(R"("api_addr": "http://h:1/path")"), "api_addr"},
      {With(R"("disable_standby_reads": "yes")"), "disable_standby_reads"},
      {With(R"("log_level": "loud")"), "log_level"},
      {With(R"("cluster_name": "")"), "cluster_name"},
      {With(R"("mounts": {"sys/": {"type": "kv"}})"), "mounts.sys/"},
      {With(R"("mounts": {"a/": {"type": "pki"}})"), "mounts.a/.type"},
      {With(R"("mounts": {"a/": {"type": "kv", "options": {"version": "3"}}})"),
       "mounts.a/.options.version"},
      {With(R"("mounts": {"a/": {"type": "kv", "extra": 1}})"), "mounts.a/.extra"},
      {With(R"("mounts": {"a/": {"type": "kv"}, "a/b/": {"type": "kv"}})"), "overlaps"},
      {With(R"("leader_check_interval": "0ms")"), "leader_check_interval"},
      {With(R"("limits": {"max_leader_waiters": -1})"), "limits.max_leader_waiters"},
      {With(R"("limits": {"max_leader_waiters_per_client": "many"})"),
       "limits.max_leader_waiters_per_client"},
      {With(R"("limits": {"max_body_bytes_in_flight": 1048576})"),
       "limits.max_body_bytes_in_flight: must be at least listener.tcp.max_request_size"},
      {With(R"("limits": {"max_body_bytes_in_flight": 0})"), "limits.max_body_bytes_in_flight"},
      {With(R"("limits": {"max_bodies": 1})"), "limits.max_bodies: unknown key"},
      {With(R"("ha_storage": {})"), "ha_storage"},
      {With(R"("ha_storage": {"flock": {}})"), "ha_storage.flock.path"},
      {With(R"("ha_storage": {"flock": {"path": "/x", "ttl": "soon"}})"), "ha_storage.flock.ttl"},
      {With(R"("ha_storage": {"zk": {}})"), "ha_storage.zk"},
      {R"({"listener": {"tcp": {"address": "127.0.0.1:1"}}, "root_token": "r"})",
       "storage: missing"},
      {R"({"storage": {"nosuch": {}}, "root_token": "r"})", "storage.nosuch"},
      {R"({"storage": {"inmem": {}}})", "root_token"},
      {R"({"storage": {"inmem": {}}, "root_token": "r",
           "listener": {"tcp": {"address": "127.0.0.1"}}})",
       "listener.tcp.address"},
      {R"({"storage": {"inmem": {}}, "root_token": "r",
           "listener": {"tcp": {"address": "127.0.0.1:99999"}}})",
       "listener.tcp.address"},
      {R"({"storage": {"inmem": {}}, "root_token": "r",
           "listener": {"tcp": {"address": "127.0.0.1:1", "tls_disable": false}}})",
       "listener.tcp.tls_disable"},
      {R"({"storage": {"inmem": {}}, "root_token": "r",
           "listener": {"tcp": {"address": "127.0.0.1:1", "port": 3}}})",
       "listener.tcp.port: unknown key"},
      {R"({"storage": {"inmem": {}}, "root_token": "r", "listener": {"udp": {}}})", "listener"},
      {R"({"storage": {"inmem": {}}, "root_token": "r",)", "test.json:1"},
      {R"([1, 2])", "expected a JSON object"},
  };
  for (const Case& c : cases) {
    Result<NodeConfig> r = Parse(c.text);
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.status().message().find(c.expect) != std::string::npos, r.status().message());
    CHECK(r.status().message().find("test.json") != std::string::npos);
  }
}

TEST_CASE("NodeConfig: limits.max_body_bytes_in_flight") {
  Result<NodeConfig> c = Parse(With(R"("limits": {"max_body_bytes_in_flight": 67108864})"));
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->limits.max_body_bytes_in_flight == 64 << 20);
  // Raising the body limit past the bound without raising the bound is an error too.
  Result<NodeConfig> big = Parse(R"({"storage": {"inmem": {}}, "root_token": "r",
      "listener": {"tcp": {"address": "127.0.0.1:1", "max_request_size": 268435456}}})");
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("limits.max_body_bytes_in_flight") != std::string::npos);
}

TEST_CASE("NodeConfig: the lock is implied by lmdb and inmem, absent for file") {
  Result<NodeConfig> lmdb = Parse(R"({"storage": {"lmdb": {"path": "/d"}}, "root_token": "r"})");
  REQUIRE_MESSAGE(lmdb.ok(), lmdb.status().ToString());
  CHECK_FALSE(lmdb->ha_storage_set);
  CHECK(lmdb->lock.type == "flock");
  CHECK(lmdb->lock.flock.path == "/d/halo.lock");
  Result<NodeConfig> file = Parse(R"({"storage": {"file": {"path": "/d"}}, "root_token": "r"})");
  REQUIRE(file.ok());
  CHECK(file->lock.type.empty());
  Result<NodeConfig> mem = Parse(kMinimal);
  REQUIRE(mem.ok());
  CHECK(mem->lock.type == "inmem");
}

TEST_CASE("NodeConfig: postgresql implies its lock with ha_enabled; ha_storage postgresql") {
  Result<NodeConfig> ha = Parse(R"({"storage": {"postgresql": {"connection_url": "host=db",
      "ha_enabled": "true", "ha_table": "locks"}}, "root_token": "r"})");
  REQUIRE_MESSAGE(ha.ok(), ha.status().ToString());
  CHECK(ha->lock.type == "postgresql");
  CHECK(ha->lock.postgresql.connection_url == "host=db");
  CHECK(ha->lock.postgresql.ha_table == "locks");
  CHECK(ha->lock.elector.ttl == seconds(15));  // OpenBao's lease timing
  Result<NodeConfig> alone = Parse(R"({"storage": {"postgresql": {"connection_url": "host=db"}},
      "root_token": "r"})");
  REQUIRE(alone.ok());
  CHECK(alone->lock.type.empty());  // no ha_enabled: one node, always active
  Result<NodeConfig> split = Parse(R"({"storage": {"lmdb": {"path": "/d"}}, "root_token": "r",
      "ha_storage": {"postgresql": {"connection_url": "host=db", "ttl": "5s",
      "renew_interval": "1s", "renew_deadline": "3s", "op_timeout": "1s",
      "keepalive_count": 2}}})");
  REQUIRE_MESSAGE(split.ok(), split.status().ToString());
  CHECK(split->ha_storage_set);
  CHECK(split->lock.type == "postgresql");
  CHECK(split->lock.elector.ttl == seconds(5));
  CHECK(split->lock.postgresql.keepalive_count == 2);
  CHECK(split->lock.postgresql.op_timeout == seconds(1));  // statement_timeout = the elector's
  CHECK(ha->lock.postgresql.op_timeout == ha->lock.elector.op_timeout);
  CHECK(ha->storage.postgresql.op_timeout == seconds(10));
  Result<NodeConfig> bad = Parse(R"({"storage": {"lmdb": {"path": "/d"}}, "root_token": "r",
      "ha_storage": {"postgresql": {"ha_table": "locks"}}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ha_storage.postgresql.connection_url: required") !=
        std::string::npos);
}

TEST_CASE("NodeConfig: HALO_ROOT_TOKEN alone is enough") {
  Result<NodeConfig> c = Parse(R"({"storage": {"inmem": {}}})", "tok");
  REQUIRE(c.ok());
  CHECK(c->root_token == "tok");
  CHECK(c->api_addr == "http://127.0.0.1:8200");
}

TEST_CASE("ParseHostPort") {
  std::string host;
  int port = -1;
  CHECK(ParseHostPort("0.0.0.0:80", &host, &port).ok());
  CHECK(host == "0.0.0.0");
  CHECK(port == 80);
  CHECK(ParseHostPort("[::]:443", &host, &port).ok());
  CHECK(host == "::");
  CHECK(port == 443);
  CHECK_FALSE(ParseHostPort("", &host, &port).ok());
  CHECK_FALSE(ParseHostPort(":80", &host, &port).ok());
  CHECK_FALSE(ParseHostPort("h:", &host, &port).ok());
  CHECK_FALSE(ParseHostPort("h:8x", &host, &port).ok());
  CHECK_FALSE(ParseHostPort("::1:80", &host, &port).ok());
  CHECK_FALSE(ParseHostPort("[::1]80", &host, &port).ok());
}

}  // namespace
}  // namespace halo::node
