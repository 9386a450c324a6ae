// FlockBackend specifics beyond the conformance suite: blocking waits and their
// interruption, replaced/removed lock files, foreign files, torn records, and forked
// children that must not keep the lock alive.
#include "lock/flock_backend.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "lock/lock_file_record.h"
#include "test/support/subprocess.h"

namespace halo::lock {
namespace {

using halo::testing::ChildArg;
using halo::testing::PollUntil;
using halo::testing::SpawnChildRole;
using halo::testing::Subprocess;
using halo::testing::TempDir;
using halo::testing::WriteFile;
using SteadyClock = std::chrono::steady_clock;

constexpr Duration kTimeout = seconds(2);

AcquireRequest Req(const std::string& value, Duration wait = Duration::zero()) {
  return AcquireRequest{NewLockToken(), value, seconds(15), wait, 0};
}

// Takes the lock for `value` or fails the test.
Lease MustAcquire(FlockBackend& b, const std::string& value) {
  Result<Lease> l = b.TryAcquire(Req(value), kTimeout);
  REQUIRE(l.ok());
  return *l;
}

std::unique_ptr<FlockBackend> OpenOrDie(const std::string& path) {
  Result<std::unique_ptr<FlockBackend>> b = FlockBackend::Open(FlockOptions{path});
  REQUIRE(b.ok());
  return std::move(b).value();
}

// The holder's value, or "" if none (or unreadable).
std::string ReadHolderOr(LockBackend& b) {
  Result<std::optional<Holder>> h = b.ReadHolder(kTimeout);
  if (!h.ok() || !h->has_value()) return "";
  return (*h)->value;
}

double MsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

TEST_CASE("flock: a blocked TryAcquire wakes the moment the holder releases") {
  TempDir dir("halo-lock");
  auto a = OpenOrDie(dir.Join("halo.lock"));
  auto b = OpenOrDie(dir.Join("halo.lock"));
  Lease la = MustAcquire(*a, "a");
  std::atomic<bool> done{false};
  Status got;
  SteadyClock::time_point acquired_at;
  std::thread waiter([&] {
    Result<Lease> lb = b->TryAcquire(Req("b", seconds(30)), kTimeout);
    acquired_at = SteadyClock::now();
    got = lb.ok() ? Status::Ok() : lb.status();
    done = true;
  });
  // The waiter cannot finish while a holds the lock (if it has not blocked yet when a
  // releases, its first try succeeds: the figure stays release -> acquire).
  CHECK(ReadHolderOr(*b) == "a");
  CHECK_FALSE(done.load());
  SteadyClock::time_point released_at = SteadyClock::now();
  REQUIRE(a->Release(la, kTimeout).ok());
  REQUIRE(PollUntil([&] { return done.load(); }, std::chrono::seconds(10)));
  waiter.join();
  CHECK(got.ok());
  double ms = std::chrono::duration<double, std::milli>(acquired_at - released_at).count();
  MESSAGE("flock: release -> blocked waiter acquired (incl. fsync of the epoch) in " << ms
                                                                                     << " ms");
  CHECK(ms < 2000);
}

AcquireRequest StaleReq(const std::string& value, Duration wait, Duration stale_after) {
  AcquireRequest r = Req(value, wait);
  r.stale_after = stale_after;
  return r;
}

TEST_CASE("flock: a holder whose heartbeat stops is displaced; it learns so at its renew") {
  TempDir dir("halo-lock");
  auto a = OpenOrDie(dir.Join("halo.lock"));
  auto b = OpenOrDie(dir.Join("halo.lock"));
  auto c = OpenOrDie(dir.Join("halo.lock"));
  Lease la = MustAcquire(*a, "a");
  REQUIRE(a->Heartbeat().ok());
  // a keeps its kernel lock but never beats again (as a SIGSTOPped process).
  auto t0 = SteadyClock::now();
  Result<Lease> lb = b->TryAcquire(StaleReq("b", seconds(10), milliseconds(300)), kTimeout);
  double ms = MsSince(t0);
  REQUIRE(lb.ok());
  MESSAGE("flock: stalled holder displaced after " << ms << " ms (stale_after 300 ms)");
  CHECK(ms >= 290);
  CHECK(lb->epoch > la.epoch);
  CHECK(ReadHolderOr(*c) == "b");
  // The old holder, running again, finds out at its next renew and drops its lock.
  Status renew = a->Renew(la, seconds(15), kTimeout);
  CHECK(IsNotHeld(renew));
  CHECK(renew.message().find("taken over") != std::string::npos);
  CHECK(ReadHolderOr(*c) == "b");
  // The kernel fast path holds for the new generation: b releases, a waiter gets it at once.
  std::atomic<bool> done{false};
  Result<Lease> lc = Status::Internal("not run");
  std::thread waiter([&] {
    lc = c->TryAcquire(StaleReq("c", seconds(30), milliseconds(300)), kTimeout);
    done = true;
  });
  REQUIRE(b->Heartbeat().ok());
  REQUIRE(b->Release(*lb, kTimeout).ok());
  REQUIRE(PollUntil([&] { return done.load(); }, std::chrono::seconds(10)));
  waiter.join();
  REQUIRE(lc.ok());
  CHECK(lc->epoch > lb->epoch);
  CHECK(ReadHolderOr(*a) == "c");
}

TEST_CASE("flock: a holder that keeps beating is never displaced") {
  TempDir dir("halo-lock");
  auto a = OpenOrDie(dir.Join("halo.lock"));
  auto b = OpenOrDie(dir.Join("halo.lock"));
  Lease la = MustAcquire(*a, "a");
  std::atomic<bool> stop{false};
  std::thread beater([&] {
    while (!stop.load()) {
      a->Heartbeat().ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the beat period
    }
  });
  Status s = b->TryAcquire(StaleReq("b", milliseconds(900), milliseconds(200)), kTimeout).status();
  stop = true;
  beater.join();
  CHECK(IsNotHeld(s));
  CHECK(ReadHolderOr(*b) == "a");
  CHECK(a->Renew(la, seconds(15), kTimeout).ok());
  // Without stale_after a silent holder is never displaced either (older standbys).
  CHECK(IsNotHeld(b->TryAcquire(Req("b", milliseconds(400)), kTimeout).status()));
}

TEST_CASE("flock: Interrupt ends a wait promptly and every later wait") {
  TempDir dir("halo-lock");
  auto a = OpenOrDie(dir.Join("halo.lock"));
  auto b = OpenOrDie(dir.Join("halo.lock"));
  REQUIRE(a->TryAcquire(Req("a"), kTimeout).ok());
  std::atomic<bool> done{false};
  Status got;
  std::thread waiter([&] {
    got = b->TryAcquire(Req("b", seconds(60)), kTimeout).status();
    done = true;
  });
  // Interrupt at some point while the waiter runs; whether it is already blocked or not,
  // the wait must end long before its 60 s.
  auto t0 = SteadyClock::now();
  b->Interrupt();
  REQUIRE(PollUntil([&] { return done.load(); }, std::chrono::seconds(10)));
  waiter.join();
  CHECK(got.code() == Status::Code::kUnavailable);
  MESSAGE("flock: Interrupt -> wait returned in " << MsSince(t0) << " ms");
  t0 = SteadyClock::now();
  Status again = b->TryAcquire(Req("b", seconds(60)), kTimeout).status();
  CHECK(again.code() == Status::Code::kUnavailable);
  CHECK(MsSince(t0) < 5000);
}

TEST_CASE("flock: a bounded wait on a held lock ends with kConflict") {
  TempDir dir("halo-lock");
  auto a = OpenOrDie(dir.Join("halo.lock"));
  auto b = OpenOrDie(dir.Join("halo.lock"));
  REQUIRE(a->TryAcquire(Req("a"), kTimeout).ok());
  auto t0 = SteadyClock::now();
  Status s = b->TryAcquire(Req("b", milliseconds(300)), kTimeout).status();
  double ms = MsSince(t0);
  CHECK(IsNotHeld(s));
  CHECK(ms >= 290);
  CHECK(ms < 10000);
}

TEST_CASE("flock: a removed or replaced lock file ends the holder's lock") {
  TempDir dir("halo-lock");
  std::string path = dir.Join("halo.lock");
  auto a = OpenOrDie(path);
  Lease la = MustAcquire(*a, "a");
  REQUIRE(::unlink(path.c_str()) == 0);
  Status s = a->Renew(la, seconds(15), kTimeout);
  CHECK(IsNotHeld(s));
  CHECK(s.message().find("removed") != std::string::npos);
  CHECK(IsNotHeld(a->Renew(la, seconds(15), kTimeout)));  // and it stays lost
  // The holder reopens the path (a new file) on its next acquire.
  Lease again = MustAcquire(*a, "a");
  CHECK(a->Renew(again, seconds(15), kTimeout).ok());
  auto b = OpenOrDie(path);
  CHECK(ReadHolderOr(*b) == "a");
}

TEST_CASE("flock: a file that is not a halo lock file is refused") {
  TempDir dir("halo-lock");
  std::string path = WriteFile(dir.Join("halo.lock"), "this is somebody else's data\n");
  Result<std::unique_ptr<FlockBackend>> b = FlockBackend::Open(FlockOptions{path});
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Status::Code::kCorruption);
  CHECK(b.status().message().find(path) != std::string::npos);
  Result<std::unique_ptr<FlockBackend>> d = FlockBackend::Open(FlockOptions{dir.path()});
  CHECK_FALSE(d.ok());
  Result<std::unique_ptr<FlockBackend>> e = FlockBackend::Open(FlockOptions{""});
  CHECK(e.status().code() == Status::Code::kInvalidArgument);
  Result<std::unique_ptr<FlockBackend>> f =
      FlockBackend::Open(FlockOptions{dir.Join("no/such/dir/halo.lock")});
  CHECK(f.status().code() == Status::Code::kIoError);
}

TEST_CASE("flock: the lock file is created 0600, never deleted, and keeps the epoch") {
  TempDir dir("halo-lock");
  std::string path = dir.Join("halo.lock");
  {
    auto a = OpenOrDie(path);
    Lease l = MustAcquire(*a, "a");
    REQUIRE(a->Release(l, kTimeout).ok());
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size >= static_cast<off_t>(kLockFileSlotSize));
  auto b = OpenOrDie(path);
  Lease l = MustAcquire(*b, "b");
  CHECK(l.epoch == 2);
}

TEST_CASE("flock: a torn write of the next epoch loses nothing already used") {
  TempDir dir("halo-lock");
  std::string path = dir.Join("halo.lock");
  auto a = OpenOrDie(path);
  for (uint64_t want = 1; want <= 2; ++want) {
    Lease l = MustAcquire(*a, "a");
    REQUIRE(l.epoch == want);
    REQUIRE(a->Release(l, kTimeout).ok());
  }
  // Epoch 1 sits in slot 0, epoch 2 in slot 1. A crash while writing epoch 3 into slot 0
  // leaves it half-written:
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, "halo-lock 1\nepoch 3\nval", 23, 0) == 23);
  ::close(fd);
  auto b = OpenOrDie(path);
  Lease l = MustAcquire(*b, "b");
  CHECK(l.epoch == 3);
  CHECK(ReadHolderOr(*a) == "b");
}

// Takes the lock, forks a child that just sleeps (as a daemon's helper child would), writes
// the child's pid to ChildArg(1), and holds until killed.
TEST_CASE("child:lock_fork_holder") {
  HALO_CHILD_ROLE_GUARD();
  auto b = FlockBackend::Open(FlockOptions{ChildArg(0)});
  REQUIRE(b.ok());
  REQUIRE((*b)->TryAcquire(Req("forker", seconds(30)), kTimeout).ok());
  pid_t pid = ::fork();
  if (pid == 0) halo::testing::HoldUntilKilled();
  REQUIRE(pid > 0);
  std::ofstream(ChildArg(1) + ".tmp") << pid << "\n";
  REQUIRE(::rename((ChildArg(1) + ".tmp").c_str(), ChildArg(1).c_str()) == 0);
  halo::testing::HoldUntilKilled();
}

TEST_CASE("flock: a forked child does not keep a dead holder's lock alive") {
  TempDir dir("halo-lock");
  std::string path = dir.Join("halo.lock");
  std::string pid_file = dir.Join("grandchild.pid");
  Subprocess holder = SpawnChildRole("lock_fork_holder", {path, pid_file});
  REQUIRE(holder.started());
  pid_t grandchild = 0;
  REQUIRE(PollUntil(
      [&] {
        std::ifstream in(pid_file);
        return static_cast<bool>(in >> grandchild);
      },
      std::chrono::seconds(30)));
  REQUIRE(grandchild > 0);
  auto b = OpenOrDie(path);
  CHECK(ReadHolderOr(*b) == "forker");
  holder.Stop(SIGKILL);
  CHECK(::kill(grandchild, 0) == 0);  // the forked child lives on...
  Result<Lease> l = b->TryAcquire(Req("b", seconds(10)), kTimeout);
  CHECK(l.ok());  // ...but does not hold the lock
  ::kill(grandchild, SIGKILL);
}

}  // namespace
}  // namespace halo::lock
