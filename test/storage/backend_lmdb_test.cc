// LmdbBackend specifics beyond the conformance suite: group commit, map-full errors.
#include "storage/lmdb_backend.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>

#include "test/storage/backend_fixtures.h"

namespace halo::storage {
namespace {

using halo::testing::PollUntil;
using halo::testing::TempDir;

std::unique_ptr<LmdbBackend> MustOpenLmdb(const BackendOptions& o) {
  auto b = LmdbBackend::Open(o);
  REQUIRE_MESSAGE(b.ok(), b.status().ToString());
  return std::move(b).value();
}

// Queues `n` single-key updates at once and waits for all; returns the commits they took.
uint64_t CommitsFor(LmdbBackend& b, int n) {
  uint64_t before = b.CommitCount();
  std::atomic<int> ok{0}, done{0};
  for (int i = 0; i < n; ++i) {
    b.UpdateAsync(
        1, [i](Txn& txn) { return txn.Put("gc/" + std::to_string(i), "v"); },
        [&](Status st) {
          if (st.ok()) ok++;
          done++;
        });
  }
  REQUIRE(PollUntil([&] { return done.load() == n; }, std::chrono::seconds(60)));
  CHECK(ok.load() == n);
  return b.CommitCount() - before;
}

TEST_CASE("lmdb: concurrent updates share commits (group commit)") {
  TempDir dir;
  auto b = MustOpenLmdb(BackendOptions{.type = "lmdb", .path = dir.Join("db")});
  uint64_t commits = CommitsFor(*b, 200);
  MESSAGE("200 queued updates took " << commits << " commits with group commit");
  CHECK(commits < 200);
  CHECK(b->List("gc/")->size() == 200);
}

TEST_CASE("lmdb: group_commit=false commits each update alone") {
  TempDir dir;
  BackendOptions o{.type = "lmdb", .path = dir.Join("db")};
  o.group_commit = false;
  auto b = MustOpenLmdb(o);
  CHECK(CommitsFor(*b, 30) == 30);
}

TEST_CASE("lmdb: a full map fails the update with a clear error, others go on") {
  TempDir dir;
  BackendOptions o{.type = "lmdb", .path = dir.Join("db")};
  o.map_size_bytes = uint64_t{1} << 20;  // 1 MiB
  auto b = MustOpenLmdb(o);
  REQUIRE(b->Put("small", "ok", 1).ok());
  Status st = b->Put("huge", std::string(4 << 20, 'x'), 1);
  CHECK(st.code() == Status::Code::kTooLarge);
  CHECK(st.message().find("map_size_mb") != std::string::npos);
  CHECK(b->Get("huge").status().IsNotFound());
  // In a group, only the update that overflowed fails.
  std::atomic<int> done{0};
  Status big, small;
  b->UpdateAsync(
      1, [](Txn& txn) { return txn.Put("huge", std::string(4 << 20, 'x')); },
      [&](Status s) {
        big = s;
        done++;
      });
  b->UpdateAsync(
      1, [](Txn& txn) { return txn.Put("small2", "ok"); },
      [&](Status s) {
        small = s;
        done++;
      });
  REQUIRE(PollUntil([&] { return done.load() == 2; }, std::chrono::seconds(30)));
  CHECK(big.code() == Status::Code::kTooLarge);
  CHECK(small.ok());
  CHECK(*b->Get("small2") == "ok");
  CHECK(*b->Get("small") == "ok");
}

TEST_CASE("lmdb: an update ignoring a write error still fails") {
  TempDir dir;
  BackendOptions o{.type = "lmdb", .path = dir.Join("db")};
  o.map_size_bytes = uint64_t{1} << 20;
  auto b = MustOpenLmdb(o);
  Status st = b->Update(1, [](Txn& txn) {
    (void)txn.Put("huge", std::string(4 << 20, 'x'));
    return Status::Ok();
  });
  CHECK(st.code() == Status::Code::kTooLarge);
  CHECK(b->Get("huge").status().IsNotFound());
}

TEST_CASE("lmdb: open errors name the path") {
  TempDir dir;
  std::string file = halo::testing::WriteFile(dir.Join("plain"), "not a dir");
  auto b = LmdbBackend::Open(BackendOptions{.type = "lmdb", .path = dir.Join("plain")});
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find(dir.Join("plain")) != std::string::npos);
}

}  // namespace
}  // namespace halo::storage
