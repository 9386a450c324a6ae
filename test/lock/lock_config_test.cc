#include "lock/lock_config.h"

#include <doctest/doctest.h>

#include "lock/elector_options.h"
#include "test/support/subprocess.h"

namespace halo::lock {
namespace {

// Parses `json` as the block of `type` under "ha_storage".
Result<LockOptions> Parse(std::string_view type, const std::string& json) {
  Result<rapidjson::Document> doc = ParseJson(json, "test");
  REQUIRE(doc.ok());
  ConfigObject obj(*doc, "ha_storage." + std::string(type));
  return ParseLockConfig(type, obj);
}

std::string ErrorOf(std::string_view type, const std::string& json) {
  Result<LockOptions> r = Parse(type, json);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  return r.status().message();
}

TEST_CASE("lock config: flock with defaults") {
  Result<LockOptions> o = Parse("flock", R"({"path": "/var/lib/halo/halo.lock"})");
  REQUIRE(o.ok());
  CHECK(o->type == "flock");
  CHECK(o->flock.path == "/var/lib/halo/halo.lock");
  CHECK_FALSE(o->flock.allow_network_fs);
  CHECK(o->elector.renew_every == seconds(1));
  CHECK(o->elector.ttl == seconds(15));
  CHECK(o->elector.renew_deadline == seconds(10));
  CHECK(o->elector.retry == seconds(1));
  CHECK(o->elector.stepdown_backoff == seconds(10));
  CHECK(o->elector.value.empty());
}

TEST_CASE("lock config: every timing key") {
  Result<LockOptions> o = Parse("inmem", R"({"name": "t", "ttl": "30s", "renew_interval": "5s",
      "renew_deadline": "20s", "retry_interval": 2000, "retry_jitter": "500ms",
      "op_timeout": "3s", "stepdown_backoff": "1m", "max_wait": "250ms"})");
  REQUIRE(o.ok());
  CHECK(o->inmem.name == "t");
  CHECK(o->elector.ttl == seconds(30));
  CHECK(o->elector.renew_every == seconds(5));
  CHECK(o->elector.renew_deadline == seconds(20));
  CHECK(o->elector.retry == seconds(2));
  CHECK(o->elector.jitter == milliseconds(500));
  CHECK(o->elector.op_timeout == seconds(3));
  CHECK(o->elector.stepdown_backoff == seconds(60));
  CHECK(o->elector.max_wait == milliseconds(250));
}

TEST_CASE("lock config: errors name the key") {
  CHECK(ErrorOf("flock", R"({})") == "ha_storage.flock.path: required (the lock file)");
  CHECK(ErrorOf("flock", R"({"path": "/x", "pth": 1})") == "ha_storage.flock.pth: unknown key");
  CHECK(ErrorOf("flock", R"({"path": 7})").find("ha_storage.flock.path") == 0);
  CHECK(ErrorOf("flock", R"({"path": "/x", "ttl": "soon"})").find("ha_storage.flock.ttl") == 0);
  CHECK(ErrorOf("flock", R"({"path": "/x", "ttl": "5s"})").find("renew_deadline") !=
        std::string::npos);
  CHECK(ErrorOf("inmem", R"({"renew_interval": "9s"})").find("renew_interval") !=
        std::string::npos);
  CHECK(ErrorOf("inmem", R"({"op_timeout": "3s"})").find("op_timeout") != std::string::npos);
  CHECK(ErrorOf("inmem", R"({"name": ""})") == "ha_storage.inmem.name: must not be empty");
  CHECK(ErrorOf("zookeeper", R"({})").find("unknown HA lock type") != std::string::npos);
  CHECK(ErrorOf("flock", R"([])").find("expected a JSON object") != std::string::npos);
}

TEST_CASE("lock config: the lock file beside a data directory") {
  CHECK(LockPathForDataDir("/var/lib/halo") == "/var/lib/halo/halo.lock");
  CHECK(LockPathForDataDir("/var/lib/halo/") == "/var/lib/halo/halo.lock");
  CHECK(LockPathForDataDir("data") == "data/halo.lock");
  CHECK(LockPathForDataDir("/") == "/halo.lock");
  LockOptions o = FlockOptionsForDataDir("/d");
  CHECK(o.type == "flock");
  CHECK(o.flock.path == "/d/halo.lock");
  CHECK(o.elector.ValidateTiming().ok());
}

TEST_CASE("lock config: OpenLockBackend") {
  halo::testing::TempDir dir("halo-lock");
  Result<LockBackendPtr> f = OpenLockBackend(FlockOptionsForDataDir(dir.path()));
  REQUIRE(f.ok());
  CHECK((*f)->Name() == "flock");
  CHECK_FALSE((*f)->HasTtl());
  LockOptions mem;
  mem.type = "inmem";
  mem.inmem.name = "lock-config-test";
  Result<LockBackendPtr> m1 = OpenLockBackend(mem);
  Result<LockBackendPtr> m2 = OpenLockBackend(mem);
  REQUIRE(m1.ok());
  REQUIRE(m2.ok());
  CHECK((*m1)->HasTtl());
  // Same name, same table: they contend.
  AcquireRequest req{NewLockToken(), "x", seconds(15), Duration::zero(), 0};
  Result<Lease> l = (*m1)->TryAcquire(req, seconds(1));
  REQUIRE(l.ok());
  req.token = NewLockToken();
  CHECK(IsNotHeld((*m2)->TryAcquire(req, seconds(1)).status()));
  CHECK((*m1)->Release(*l, seconds(1)).ok());
  LockOptions bad;
  bad.type = "etcd";
  CHECK_FALSE(OpenLockBackend(bad).ok());
}

TEST_CASE("elector options: defaults are valid; each rule is enforced with its name") {
  ElectorOptions o;
  o.value = "v";
  CHECK(o.Validate().ok());
  auto fails = [](ElectorOptions x, const char* needle) {
    Status s = x.Validate();
    CHECK_FALSE(s.ok());
    CHECK_MESSAGE(s.message().find(needle) != std::string::npos, s.message());
  };
  ElectorOptions x = o;
  x.value = "";
  fails(x, "value");
  x = o;
  x.value = "a\nb";
  fails(x, "value");
  x = o;
  x.renew_deadline = seconds(15);  // == ttl
  fails(x, "renew_deadline");
  x = o;
  x.renew_every = milliseconds(8334);  // 1.2 x 8.334 s > 10 s
  fails(x, "1.2 x renew_interval");
  x = o;
  x.op_timeout = milliseconds(2600);  // 10 + 5.2 > 15
  fails(x, "op_timeout");
  x = o;
  x.jitter = seconds(1);
  fails(x, "retry_jitter");
  x = o;
  x.retry = Duration::zero();
  fails(x, "retry_interval");
  x = o;
  x.stepdown_backoff = seconds(-1);
  fails(x, "stepdown_backoff");
  x = o;
  x.max_wait = Duration::zero();
  fails(x, "max_wait");
  x = o;
  x.renew_every = milliseconds(8333);  // 1.2 x 8.333 s = 9.9996 s < 10 s: OK
  CHECK(x.Validate().ok());
}

}  // namespace
}  // namespace halo::lock
