#include "storage/backend_factory.h"

#include <doctest/doctest.h>

#include <string>

namespace halo::storage {
namespace {

Result<BackendOptions> ParseStorage(const std::string& json) {
  auto doc = ParseJson(json, "test");
  REQUIRE_MESSAGE(doc.ok(), doc.status().ToString());
  ConfigObject root(*doc, "");
  auto storage = root.GetObject("storage");
  if (!storage.ok()) return storage.status();
  return ParseStorageConfig(*storage);
}

TEST_CASE("backend factory: parses each engine's block") {
  auto lmdb = ParseStorage(R"({"storage": {"lmdb": {"path": "/var/lib/halo",
      "map_size_mb": 64, "group_commit": false, "max_batch": 16}}})");
  REQUIRE_MESSAGE(lmdb.ok(), lmdb.status().ToString());
  CHECK(lmdb->type == "lmdb");
  CHECK(lmdb->path == "/var/lib/halo");
  CHECK(lmdb->map_size_bytes == (uint64_t{64} << 20));
  CHECK_FALSE(lmdb->group_commit);
  CHECK(lmdb->max_batch == 16);
  CHECK(ProvidesHaLock(*lmdb));
  CHECK(LockFilePath(*lmdb) == "/var/lib/halo/halo.lock");

  auto lmdb_default = ParseStorage(R"({"storage": {"lmdb": {"path": "/d"}}})");
  REQUIRE(lmdb_default.ok());
  CHECK(lmdb_default->map_size_bytes == (uint64_t{1} << 30));
  CHECK(lmdb_default->group_commit);

  auto file = ParseStorage(R"({"storage": {"file": {"path": "/f"}}})");
  REQUIRE(file.ok());
  CHECK(file->type == "file");
  CHECK_FALSE(ProvidesHaLock(*file));

  auto inmem = ParseStorage(R"({"storage": {"inmem": {}}})");
  REQUIRE(inmem.ok());
  CHECK(inmem->type == "inmem");
  CHECK(ProvidesHaLock(*inmem));
  auto backend = OpenBackend(*inmem);
  REQUIRE(backend.ok());
  CHECK((*backend)->Name() == "inmem");
}

TEST_CASE("backend factory: errors name the offending key") {
  auto r = ParseStorage(R"({"storage": {"lmdb": {"path": "/d", "map_sise_mb": 1}}})");
  CHECK(r.status().message() == "storage.lmdb.map_sise_mb: unknown key");
  r = ParseStorage(R"({"storage": {"lmdb": {"map_size_mb": 1}}})");
  CHECK(r.status().message() == "storage.lmdb.path: missing");
  r = ParseStorage(R"({"storage": {"lmdb": {"path": "/d", "map_size_mb": 0}}})");
  CHECK(r.status().message().find("storage.lmdb.map_size_mb") == 0);
  r = ParseStorage(R"({"storage": {"file": {"path": 3}}})");
  CHECK(r.status().message().find("storage.file.path") == 0);
  r = ParseStorage(R"({"storage": {"file": {"path": "/f", "map_size_mb": 3}}})");
  CHECK(r.status().message() == "storage.file.map_size_mb: unknown key");
  r = ParseStorage(R"({"storage": {"inmem": {"x": 1}}})");
  CHECK(r.status().message() == "storage.inmem.x: unknown key");
  r = ParseStorage(R"({"storage": {"rocks": {}}})");
  CHECK(r.status().message().find("storage.rocks: unknown storage type") == 0);
  r = ParseStorage(R"({"storage": {}})");
  CHECK(r.status().message().find("storage: expected exactly one storage type") == 0);
  r = ParseStorage(R"({"storage": {"inmem": {}, "file": {"path": "/f"}}})");
  CHECK_FALSE(r.ok());
  r = ParseStorage(R"({"storage": {"inmem": 3}})");
  CHECK(r.status().message().find("storage.inmem") == 0);
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("backend factory: the redis block, every key and each error") {
  auto r = ParseStorage(R"({"storage": {"redis": {"address": "10.0.0.5:6380",
      "username": "halo", "password": "pw", "db": 2, "key_prefix": "c1/", "op_timeout": "750ms",
      "min_replicas_acked": 1, "replica_wait_timeout": "2s", "read_from_replicas": true,
      "allow_unsafe_persistence": true}}})");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->type == "redis");
  CHECK(r->redis.address == "10.0.0.5:6380");
  CHECK(r->redis.username == "halo");
  CHECK(r->redis.password == "pw");
  CHECK(r->redis.db == 2);
  CHECK(r->redis.key_prefix == "c1/");
  CHECK(r->redis.op_timeout == milliseconds(750));
  CHECK(r->redis.min_replicas_acked == 1);
  CHECK(r->redis.replica_wait_timeout == seconds(2));
  CHECK(r->redis.read_from_replicas);
  CHECK(r->redis.allow_unsafe_persistence);
  CHECK(ProvidesHaLock(*r));

  auto d = ParseStorage(R"({"storage": {"redis": {"address": "127.0.0.1:6379"}}})");
  REQUIRE(d.ok());
  CHECK(d->redis.key_prefix == "halo/");
  CHECK(d->redis.op_timeout == seconds(2));
  CHECK(d->redis.min_replicas_acked == 0);
  CHECK_FALSE(d->redis.read_from_replicas);
  CHECK_FALSE(d->redis.allow_unsafe_persistence);

  auto s = ParseStorage(R"({"storage": {"redis": {"sentinels": ["10.0.0.1:26379",
      "10.0.0.2:26379"], "master_name": "halo"}}})");
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  CHECK(s->redis.sentinels.size() == 2);
  CHECK(s->redis.master_name == "halo");

  struct Bad {
    const char* block;
    const char* message_start;
  } cases[] = {
      {R"({"address": "127.0.0.1:6379", "adress": 1})", "storage.redis.adress: unknown key"},
      {R"({})", "storage.redis.address: set exactly one of address or sentinels"},
      {R"({"address": "h:1", "sentinels": ["h:2"], "master_name": "m"})",
       "storage.redis.address: set exactly one"},
      {R"({"address": "localhost"})", "storage.redis.address: expected host:port"},
      {R"({"address": "h:99999"})", "storage.redis.address: "},
      {R"({"sentinels": ["h:26379"]})", "storage.redis.master_name: required with sentinels"},
      {R"({"address": "h:1", "master_name": "m"})", "storage.redis.master_name: only with"},
      {R"({"address": "h:1", "username": "u"})", "storage.redis.password: required"},
      {R"({"address": "h:1", "db": -1})", "storage.redis.db"},
      {R"({"address": "h:1", "op_timeout": "0s"})", "storage.redis.op_timeout"},
      {R"({"address": "h:1", "min_replicas_acked": 65})", "storage.redis.min_replicas_acked"},
      {R"({"address": "h:1", "read_from_replicas": "yes"})", "storage.redis.read_from_replicas"},
  };
  for (const Bad& c : cases) {
    auto bad = ParseStorage(std::string(R"({"storage": {"redis": )") + c.block + "}}");
    CAPTURE(c.block);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find(c.message_start) == 0);
  }
}

TEST_CASE("backend factory: the postgresql block, OpenBao's string forms and each error") {
  auto r = ParseStorage(R"({"storage": {"postgresql": {
      "connection_url": "postgres://openbao:pw@db:5432/openbao?sslmode=verify-full",
      "table": "vault_kv_store", "ha_enabled": "true", "ha_table": "vault_ha_locks",
      "max_parallel": "128", "skip_create_table": true, "op_timeout": "3s",
      "keepalive_idle": "2s", "keepalive_interval": "1s", "keepalive_count": 4}}})");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->type == "postgresql");
  CHECK(r->postgresql.connection_url.find("sslmode=verify-full") != std::string::npos);
  CHECK(r->postgresql.table == "vault_kv_store");
  CHECK(r->postgresql.ha_enabled);
  CHECK(r->postgresql.ha_table == "vault_ha_locks");
  CHECK(r->postgresql.max_parallel == 128);
  CHECK(r->postgresql.skip_create_table);
  CHECK(r->postgresql.op_timeout == seconds(3));
  CHECK(r->postgresql.keepalive_idle == seconds(2));
  CHECK(r->postgresql.keepalive_count == 4);
  CHECK(ProvidesHaLock(*r));

  auto d = ParseStorage(R"({"storage": {"postgresql": {"connection_url": "host=db"}}})");
  REQUIRE(d.ok());
  CHECK(d->postgresql.table == "openbao_kv_store");
  CHECK(d->postgresql.ha_table == "openbao_ha_locks");
  CHECK_FALSE(d->postgresql.ha_enabled);
  CHECK_FALSE(ProvidesHaLock(*d));  // OpenBao: no ha_enabled, no HA
  CHECK(d->postgresql.op_timeout == seconds(10));

  const std::pair<const char*, const char*> bad[] = {
      {R"({})", "storage.postgresql.connection_url: required"},
      {R"({"connection_url": "x", "table": "kv; DROP TABLE x"})", "storage.postgresql.table"},
      {R"({"connection_url": "x", "ha_table": "9locks"})", "storage.postgresql.ha_table"},
      {R"({"connection_url": "x", "ha_enabled": "yes"})", "storage.postgresql.ha_enabled"},
      {R"({"connection_url": "x", "max_parallel": "0"})", "storage.postgresql.max_parallel"},
      {R"({"connection_url": "x", "max_parallel": "lots"})", "storage.postgresql.max_parallel"},
      {R"({"connection_url": "x", "op_timeout": "10ms"})", "storage.postgresql.op_timeout"},
      {R"({"connection_url": "x", "keepalive_idle": "100ms"})", "keepalive_idle"},
      {R"({"connection_url": "x", "address": "db:5432"})", "address"},
  };
  for (const auto& [block, want] : bad) {
    auto e = ParseStorage(std::string(R"({"storage": {"postgresql": )") + block + "}}");
    REQUIRE_FALSE_MESSAGE(e.ok(), block);
    CHECK_MESSAGE(e.status().message().find(want) != std::string::npos,
                  block << " -> " << e.status().message());
  }
}

}  // namespace
}  // namespace halo::storage
