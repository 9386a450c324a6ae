// Fixtures for the storage conformance suite: one per Backend implementation. Each owns a
// temp dir and opens backends through the factory, exactly as a node would.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <memory>
#include <string>

#include "storage/backend.h"
#include "storage/backend_factory.h"
#include "test/support/postgres_server.h"
#include "test/support/redis_server.h"
#include "test/support/subprocess.h"

namespace halo::storage::testing {

struct FixtureBase {
  halo::testing::TempDir root{"halo-storage"};
  std::string Dir() const { return root.Join("data"); }
};

struct InmemFixture : FixtureBase {
  static constexpr const char* kType = "inmem";
  static constexpr bool kPersistent = false;  // reopen loses data; no other processes
  BackendOptions Options() const { return BackendOptions{.type = "inmem"}; }
};

struct LmdbFixture : FixtureBase {
  static constexpr const char* kType = "lmdb";
  static constexpr bool kPersistent = true;
  BackendOptions Options() const {
    BackendOptions o{.type = "lmdb", .path = Dir()};
    o.map_size_bytes = uint64_t{256} << 20;
    return o;
  }
};

struct FileFixture : FixtureBase {
  static constexpr const char* kType = "file";
  static constexpr bool kPersistent = true;
  BackendOptions Options() const { return BackendOptions{.type = "file", .path = Dir()}; }
};

struct RedisFixture : FixtureBase {
  static constexpr const char* kType = "redis";
  static constexpr bool kPersistent = true;
  redis::RedisOptions redis = halo::testing::SharedRedisServer().Options();
  BackendOptions Options() const {
    BackendOptions o{.type = "redis"};
    o.redis = redis;
    return o;
  }
};

// A table of its own on the shared PostgreSQL server (test/support/postgres_server.h).
struct PostgresFixture : FixtureBase {
  static constexpr const char* kType = "postgresql";
  static constexpr bool kPersistent = true;
  pg::PgOptions postgresql = NewOptions();
  BackendOptions Options() const {
    BackendOptions o{.type = "postgresql"};
    o.postgresql = postgresql;
    return o;
  }
  static pg::PgOptions NewOptions() {
    static int next = 0;
    pg::PgOptions o;
    o.connection_url = halo::testing::SharedPostgresServer().connection_url();
    o.table = "kv_" + std::to_string(getpid()) + "_" + std::to_string(++next);
    o.max_parallel = 4;
    return o;
  }
};

// Opens a backend of fixture type F, failing the test on error.
template <class F>
std::unique_ptr<Backend> MustOpen(const F& fixture) {
  auto backend = OpenBackend(fixture.Options());
  REQUIRE_MESSAGE(backend.ok(), backend.status().ToString());
  return std::move(backend).value();
}

// Opens a backend from a (type, path) pair passed to a child process.
inline std::unique_ptr<Backend> OpenForChild(const std::string& type, const std::string& path) {
  BackendOptions o{.type = type, .path = path};
  if (type == "lmdb") o.map_size_bytes = uint64_t{256} << 20;
  auto backend = OpenBackend(o);
  if (!backend.ok()) return nullptr;
  return std::move(backend).value();
}

}  // namespace halo::storage::testing

TYPE_TO_STRING_AS("inmem", halo::storage::testing::InmemFixture);
TYPE_TO_STRING_AS("lmdb", halo::storage::testing::LmdbFixture);
TYPE_TO_STRING_AS("file", halo::storage::testing::FileFixture);
TYPE_TO_STRING_AS("redis", halo::storage::testing::RedisFixture);
TYPE_TO_STRING_AS("postgresql", halo::storage::testing::PostgresFixture);

// The backends every conformance case runs against (test names end in "<inmem>" etc.).
#define HALO_ALL_BACKENDS                                                            \
  ::halo::storage::testing::InmemFixture, ::halo::storage::testing::LmdbFixture,     \
      ::halo::storage::testing::FileFixture, ::halo::storage::testing::RedisFixture, \
      ::halo::storage::testing::PostgresFixture
// The backends whose data outlives the object and is shared between processes.
#define HALO_PERSISTENT_BACKENDS \
  ::halo::storage::testing::LmdbFixture, ::halo::storage::testing::FileFixture
