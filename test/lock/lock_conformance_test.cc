// One conformance suite for every LockBackend: run unchanged against flock (real files,
// holder death = a real child process SIGKILLed) and the in-memory lease (FakeClock; holder
// death = the client vanishes and its TTL runs out) and Redis (a real redis-server; holder
// death = a child process SIGKILLed, whose closed connection lets a standby take over).
#include <doctest/doctest.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "lock/flock_backend.h"
#include "lock/lease_table.h"
#include "lock/lock_backend.h"
#include "lock/mem_lease_backend.h"
#include "lock/postgresql_lock_backend.h"
#include "lock/redis_lock_backend.h"
#include "test/fakes/fake_clock.h"
#include "test/support/postgres_server.h"
#include "test/support/redis_server.h"
#include "test/support/subprocess.h"

namespace halo::lock {
namespace {

constexpr Duration kTtl = seconds(15);
constexpr Duration kTimeout = seconds(2);

AcquireRequest Req(const std::string& value, Duration wait = Duration::zero(),
                   uint64_t min_epoch = 0) {
  return AcquireRequest{NewLockToken(), value, kTtl, wait, min_epoch};
}

std::optional<Holder> ReadHolderOrFail(LockBackend& b) {
  Result<std::optional<Holder>> h = b.ReadHolder(kTimeout);
  REQUIRE(h.ok());
  return *h;
}

// A process that takes the flock lock and holds it until killed.
TEST_CASE("child:lock_hold") {
  HALO_CHILD_ROLE_GUARD();
  auto b = FlockBackend::Open(FlockOptions{halo::testing::ChildArg(0)});
  REQUIRE(b.ok());
  Result<Lease> lease = (*b)->TryAcquire(Req(halo::testing::ChildArg(1), seconds(30)), kTimeout);
  REQUIRE(lease.ok());
  halo::testing::HoldUntilKilled();
}

struct FlockHarness {
  halo::testing::TempDir dir{"halo-lock"};
  std::string path = dir.Join("halo.lock");
  halo::testing::Subprocess holder;

  LockBackendPtr Open() {
    Result<std::unique_ptr<FlockBackend>> b = FlockBackend::Open(FlockOptions{path});
    REQUIRE(b.ok());
    return std::move(b).value();
  }
  // A holder in another process; returns once its value is published.
  uint64_t StartDoomedHolder(const std::string& value) {
    holder = halo::testing::SpawnChildRole("lock_hold", {path, value});
    REQUIRE(holder.started());
    LockBackendPtr probe = Open();
    std::optional<Holder> seen;
    REQUIRE(halo::testing::PollUntil(
        [&] {
          seen = ReadHolderOrFail(*probe);
          return seen && seen->value == value;
        },
        std::chrono::seconds(30)));
    return seen->epoch;
  }
  void KillDoomedHolder() { holder.Stop(SIGKILL); }
  void AfterAbandon() {}  // closing the file dropped the lock
  // The holder's lock stops counting without it releasing: the lock file is replaced.
  void LoseLock() {
    std::string fresh = dir.Join("fresh");
    halo::testing::WriteFile(fresh, "");
    REQUIRE(::rename(fresh.c_str(), path.c_str()) == 0);
  }
  // Epochs restart in a replaced file, so a taker carries the loser's epoch as min_epoch.
  static constexpr bool kLoseResetsEpoch = true;
};

// A process that takes the Redis lock and holds it (renewing) until killed.
TEST_CASE("child:redis_lock_hold") {
  HALO_CHILD_ROLE_GUARD();
  redis::RedisOptions o;
  o.address = halo::testing::ChildArg(0);
  o.key_prefix = halo::testing::ChildArg(1);
  auto b = RedisLockBackend::Open(o);
  REQUIRE(b.ok());
  Result<Lease> lease = (*b)->TryAcquire(Req(halo::testing::ChildArg(2)), kTimeout);
  REQUIRE(lease.ok());
  halo::testing::HoldUntilKilled();
}

struct RedisHarness {
  halo::testing::RedisServer& server = halo::testing::SharedRedisServer();
  redis::RedisOptions options = server.Options();
  halo::testing::Subprocess holder;

  LockBackendPtr Open() {
    auto b = RedisLockBackend::Open(options);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    return std::move(b).value();
  }
  uint64_t StartDoomedHolder(const std::string& value) {
    holder = halo::testing::SpawnChildRole("redis_lock_hold",
                                           {options.address, options.key_prefix, value});
    REQUIRE(holder.started());
    LockBackendPtr probe = Open();
    std::optional<Holder> seen;
    REQUIRE(halo::testing::PollUntil(
        [&] {
          seen = ReadHolderOrFail(*probe);
          return seen && seen->value == value;
        },
        std::chrono::seconds(30)));
    return seen->epoch;
  }
  void KillDoomedHolder() { holder.Stop(SIGKILL); }
  // The dropped client's connection is closed; wait until the server has seen it go.
  void AfterAbandon() {
    std::string tag = server.Cli({"HGET", options.key_prefix + "lock", "client"});
    std::string id = tag.substr(tag.rfind(':') + 1);  // "<run_id>:<client id>"
    REQUIRE(!id.empty());
    REQUIRE(halo::testing::PollUntil(
        [&] {
          return server.Cli({"CLIENT", "LIST", "ID", id}).empty();
        },
        std::chrono::seconds(10)));
  }
  // The lease ends without the holder knowing (as when it expires).
  void LoseLock() { server.Cli({"DEL", options.key_prefix + "lock"}); }
  static constexpr bool kLoseResetsEpoch = false;
};

// A process that takes the PostgreSQL lock and holds it until killed.
TEST_CASE("child:pg_lock_hold") {
  HALO_CHILD_ROLE_GUARD();
  pg::PgOptions o;
  o.connection_url = halo::testing::ChildArg(0);
  o.ha_table = halo::testing::ChildArg(1);
  auto b = PostgresLockBackend::Open(o);
  REQUIRE(b.ok());
  Result<Lease> lease = (*b)->TryAcquire(Req(halo::testing::ChildArg(2)), kTimeout);
  REQUIRE(lease.ok());
  halo::testing::HoldUntilKilled();
}

// A lock table of its own on the shared PostgreSQL server; holder death = a child process
// SIGKILLed, whose ended session frees the advisory lock at once.
struct PostgresHarness {
  halo::testing::PostgresServer& server = halo::testing::SharedPostgresServer();
  pg::PgOptions options = NewOptions(server);
  halo::testing::Subprocess holder;

  static pg::PgOptions NewOptions(halo::testing::PostgresServer& s) {
    static int next = 0;
    pg::PgOptions o;
    o.connection_url = s.connection_url();
    o.ha_table = "locks_" + std::to_string(getpid()) + "_" + std::to_string(++next);
    return o;
  }
  LockBackendPtr Open() {
    auto b = PostgresLockBackend::Open(options);
    REQUIRE_MESSAGE(b.ok(), b.status().ToString());
    return std::move(b).value();
  }
  uint64_t StartDoomedHolder(const std::string& value) {
    holder = halo::testing::SpawnChildRole("pg_lock_hold",
                                           {options.connection_url, options.ha_table, value});
    REQUIRE(holder.started());
    LockBackendPtr probe = Open();
    std::optional<Holder> seen;
    REQUIRE(halo::testing::PollUntil(
        [&] {
          seen = ReadHolderOrFail(*probe);
          return seen && seen->value == value;
        },
        std::chrono::seconds(30)));
    return seen->epoch;
  }
  void KillDoomedHolder() { holder.Stop(SIGKILL); }
  // The dropped backend's session ends; wait until the server no longer lists its lock.
  void AfterAbandon() {
    REQUIRE(halo::testing::PollUntil(
        [&] {
          return server
                     .Sql(
                         "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                         "objsubid = 2 AND granted")
                     .output == "0";
        },
        std::chrono::seconds(10)));
  }
  // The lease runs out without the holder knowing; its session lives on.
  void LoseLock() {
    REQUIRE(server
                .Sql("UPDATE \"" + options.ha_table +
                     "\" SET valid_until = now() - interval '1 second'")
                .status == 0);
  }
  static constexpr bool kLoseResetsEpoch = false;
};

struct LeaseHarness {
  FakeClock clock;
  std::shared_ptr<LeaseTable> table = std::make_shared<LeaseTable>(&clock);
  LockBackendPtr doomed;

  LockBackendPtr Open() { return std::make_unique<MemLeaseBackend>(table); }
  uint64_t StartDoomedHolder(const std::string& value) {
    doomed = Open();
    Result<Lease> l = doomed->TryAcquire(Req(value), kTimeout);
    REQUIRE(l.ok());
    return l->epoch;
  }
  // The client vanishes without releasing; its lease runs out.
  void KillDoomedHolder() {
    doomed.reset();
    clock.Advance(kTtl);
  }
  void LoseLock() { clock.Advance(kTtl); }
  void AfterAbandon() { clock.Advance(kTtl); }
  static constexpr bool kLoseResetsEpoch = false;
};

TEST_CASE_TEMPLATE("lock conformance: acquire, read holder, renew, release", H, FlockHarness,
                   LeaseHarness, RedisHarness, PostgresHarness) {
  H h;
  LockBackendPtr a = h.Open(), reader = h.Open();
  CHECK_FALSE(ReadHolderOrFail(*reader).has_value());
  AcquireRequest req = Req("node-a");
  Result<Lease> lease = a->TryAcquire(req, kTimeout);
  REQUIRE(lease.ok());
  CHECK(lease->epoch >= 1);
  CHECK(lease->token == req.token);
  std::optional<Holder> holder = ReadHolderOrFail(*reader);
  REQUIRE(holder.has_value());
  CHECK(holder->value == "node-a");
  CHECK(holder->epoch == lease->epoch);
  CHECK(a->Renew(*lease, kTtl, kTimeout).ok());
  CHECK(a->Release(*lease, kTimeout).ok());
  CHECK_FALSE(ReadHolderOrFail(*reader).has_value());
  CHECK(IsNotHeld(a->Renew(*lease, kTtl, kTimeout)));
  CHECK(a->Release(*lease, kTimeout).ok());  // releasing twice is fine
}

TEST_CASE_TEMPLATE("lock conformance: contention and release hand-over", H, FlockHarness,
                   LeaseHarness, RedisHarness, PostgresHarness) {
  H h;
  LockBackendPtr a = h.Open(), b = h.Open();
  Result<Lease> la = a->TryAcquire(Req("node-a"), kTimeout);
  REQUIRE(la.ok());
  Result<Lease> lb = b->TryAcquire(Req("node-b"), kTimeout);
  REQUIRE_FALSE(lb.ok());
  CHECK(IsNotHeld(lb.status()));
  CHECK(ReadHolderOrFail(*b)->value == "node-a");
  REQUIRE(a->Release(*la, kTimeout).ok());
  lb = b->TryAcquire(Req("node-b"), kTimeout);
  REQUIRE(lb.ok());
  CHECK(lb->epoch > la->epoch);
  CHECK(ReadHolderOrFail(*a)->value == "node-b");
  // A's stale lease neither renews nor releases B's lock.
  CHECK(IsNotHeld(a->Renew(*la, kTtl, kTimeout)));
  CHECK(a->Release(*la, kTimeout).ok());
  CHECK(ReadHolderOrFail(*a)->value == "node-b");
  Result<Lease> again = a->TryAcquire(Req("node-a"), kTimeout);
  CHECK(IsNotHeld(again.status()));
}

TEST_CASE_TEMPLATE("lock conformance: holder death frees the lock", H, FlockHarness, LeaseHarness,
                   RedisHarness, PostgresHarness) {
  H h;
  uint64_t dead_epoch = h.StartDoomedHolder("doomed");
  LockBackendPtr b = h.Open();
  CHECK(IsNotHeld(b->TryAcquire(Req("node-b"), kTimeout).status()));
  h.KillDoomedHolder();
  Duration wait = b->CanWait() ? Duration(seconds(10)) : Duration::zero();
  Result<Lease> lb = b->TryAcquire(Req("node-b", wait), kTimeout);
  REQUIRE(lb.ok());
  CHECK(lb->epoch > dead_epoch);
  CHECK(ReadHolderOrFail(*b)->value == "node-b");
}

TEST_CASE_TEMPLATE("lock conformance: a lost lock renews as kConflict; epochs still rise", H,
                   FlockHarness, LeaseHarness, RedisHarness, PostgresHarness) {
  H h;
  LockBackendPtr a = h.Open(), b = h.Open();
  Result<Lease> la = a->TryAcquire(Req("node-a"), kTimeout);
  REQUIRE(la.ok());
  h.LoseLock();
  uint64_t floor = H::kLoseResetsEpoch ? la->epoch : 0;
  Result<Lease> lb = b->TryAcquire(Req("node-b", Duration::zero(), floor), kTimeout);
  REQUIRE(lb.ok());
  CHECK(lb->epoch > la->epoch);
  Status renew = a->Renew(*la, kTtl, kTimeout);
  CHECK(IsNotHeld(renew));
  CHECK(ReadHolderOrFail(*a)->value == "node-b");
  CHECK(a->Release(*la, kTimeout).ok());
  CHECK(ReadHolderOrFail(*a)->value == "node-b");  // A's release did not free B's lock
}

TEST_CASE_TEMPLATE("lock conformance: epochs increase across reopen; min_epoch is honoured", H,
                   FlockHarness, LeaseHarness, RedisHarness, PostgresHarness) {
  H h;
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    LockBackendPtr a = h.Open();  // a fresh client (flock: a fresh open of the file)
    Result<Lease> l = a->TryAcquire(Req("node-a"), kTimeout);
    REQUIRE(l.ok());
    CHECK(l->epoch > last);
    last = l->epoch;
    if (i == 1) {  // dropped without release: closed (flock) / left to expire (lease)
      a.reset();
      h.AfterAbandon();
      continue;
    }
    REQUIRE(a->Release(*l, kTimeout).ok());
  }
  LockBackendPtr b = h.Open();
  Result<Lease> l = b->TryAcquire(Req("node-b", Duration::zero(), last + 100), kTimeout);
  REQUIRE(l.ok());
  CHECK(l->epoch == last + 101);
  REQUIRE(b->Release(*l, kTimeout).ok());
  l = b->TryAcquire(Req("node-b"), kTimeout);
  REQUIRE(l.ok());
  CHECK(l->epoch == last + 102);
}

TEST_CASE_TEMPLATE("lock conformance: bad values are refused", H, FlockHarness, LeaseHarness,
                   RedisHarness, PostgresHarness) {
  H h;
  LockBackendPtr a = h.Open();
  CHECK(a->TryAcquire(Req("two\nlines"), kTimeout).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK(a->TryAcquire(Req(std::string(kMaxLockValueSize + 1, 'x')), kTimeout).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK_FALSE(ReadHolderOrFail(*a).has_value());
}

TEST_CASE("redis lock: a crashed holder's lock is taken at once; a live one only after its TTL") {
  RedisHarness h;
  // Live holder that stops renewing: its connection stays open, so only the TTL frees it.
  LockBackendPtr a = h.Open(), b = h.Open();
  AcquireRequest short_lease = Req("node-a");
  short_lease.ttl = seconds(2);
  Result<Lease> la = a->TryAcquire(short_lease, kTimeout);
  REQUIRE(la.ok());
  auto start = std::chrono::steady_clock::now();
  CHECK(IsNotHeld(b->TryAcquire(Req("node-b"), kTimeout).status()));
  Result<Lease> lb = b->TryAcquire(Req("node-b", seconds(10)), kTimeout);
  REQUIRE(lb.ok());
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= milliseconds(1500));  // not before the lease ran out
  CHECK(lb->epoch > la->epoch);
  REQUIRE(b->Release(*lb, kTimeout).ok());

  // Crashed holder (its process SIGKILLed): taken long before the 15 s TTL.
  uint64_t dead = h.StartDoomedHolder("doomed");
  h.KillDoomedHolder();
  start = std::chrono::steady_clock::now();
  Result<Lease> lc = b->TryAcquire(Req("node-b", seconds(10)), kTimeout);
  REQUIRE(lc.ok());
  auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  MESSAGE("redis lock: a SIGKILLed holder's lock taken after " << took.count() << " ms");
  CHECK(took < seconds(2));
  CHECK(lc->epoch > dead);
}

TEST_CASE("redis lock: a server without appendfsync always is refused, unless allowed") {
  halo::testing::RedisServer unsafe({"--appendonly", "no"});
  unsafe.Start();
  redis::RedisOptions o = unsafe.Options();
  auto b = RedisLockBackend::Open(o);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("ha_storage.redis") == 0);
  CHECK(b.status().message().find("appendonly no") != std::string::npos);
  CHECK(b.status().message().find("allow_unsafe_persistence") != std::string::npos);
  o.allow_unsafe_persistence = true;
  CHECK(RedisLockBackend::Open(o).ok());
}

}  // namespace
}  // namespace halo::lock
