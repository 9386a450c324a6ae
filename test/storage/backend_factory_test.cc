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

}  // namespace
}  // namespace halo::storage
