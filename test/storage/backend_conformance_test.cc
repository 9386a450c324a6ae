// The storage conformance suite: every case runs unchanged against every Backend
// (HALO_ALL_BACKENDS). Multi-process cases live in backend_multiprocess_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/storage/backend_fixtures.h"

namespace halo::storage::testing {
namespace {

using Keys = std::vector<std::string>;

std::string MustGet(Backend& b, std::string_view key) {
  auto r = b.Get(key);
  REQUIRE_MESSAGE(r.ok(), std::string(key) << ": " << r.status().ToString());
  return *r;
}

Keys MustList(Backend& b, std::string_view prefix) {
  auto r = b.List(prefix);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST_CASE_TEMPLATE("storage: get, put, overwrite, delete", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  CHECK(b->Name() == F::kType);
  CHECK(b->Get("a").status().IsNotFound());
  REQUIRE(b->Put("a", "1", 1).ok());
  CHECK(MustGet(*b, "a") == "1");
  REQUIRE(b->Put("a", "two", 1).ok());
  CHECK(MustGet(*b, "a") == "two");
  REQUIRE(b->Put("empty", "", 1).ok());
  CHECK(MustGet(*b, "empty").empty());
  REQUIRE(b->Delete("a", 1).ok());
  CHECK(b->Get("a").status().IsNotFound());
  CHECK(b->Delete("a", 1).ok());  // deleting a missing key is OK
  CHECK(b->Delete("never", 1).ok());
}

TEST_CASE_TEMPLATE("storage: invalid keys are rejected", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  std::string too_long(kMaxKeySize + 1, 'k');
  CHECK(b->Put("", "v", 1).code() == Status::Code::kInvalidArgument);
  CHECK(b->Put(too_long, "v", 1).code() == Status::Code::kInvalidArgument);
  CHECK(b->Get("").status().code() == Status::Code::kInvalidArgument);
  CHECK(b->Get(too_long).status().code() == Status::Code::kInvalidArgument);
  CHECK(b->Delete("", 1).code() == Status::Code::kInvalidArgument);
  CHECK(MustList(*b, "").empty());
}

TEST_CASE_TEMPLATE("storage: list is sorted and filtered by prefix", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  Keys keys = {"b", "a/2", "a/1", "a", "ab", "a/10", "c", "a/1/x", "\xff", "a/\x01", "a0"};
  for (const auto& k : keys) REQUIRE(b->Put(k, "v:" + k, 1).ok());
  Keys all = keys;
  std::sort(all.begin(), all.end());
  CHECK(MustList(*b, "") == all);
  CHECK(MustList(*b, "a/") == Keys{"a/\x01", "a/1", "a/1/x", "a/10", "a/2"});
  CHECK(MustList(*b, "a/1") == Keys{"a/1", "a/1/x", "a/10"});
  CHECK(MustList(*b, "a") == Keys{"a", "a/\x01", "a/1", "a/1/x", "a/10", "a/2", "a0", "ab"});
  CHECK(MustList(*b, "zz").empty());
  CHECK(MustList(*b, "b/").empty());
  CHECK(MustList(*b, "\xff") == Keys{"\xff"});
  REQUIRE(b->Delete("a/1", 1).ok());
  CHECK(MustList(*b, "a/1") == Keys{"a/1/x", "a/10"});
  for (const auto& k : MustList(*b, "")) CHECK(MustGet(*b, k) == "v:" + k);
}

TEST_CASE_TEMPLATE("storage: update sees its own writes", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  REQUIRE(b->Put("x/old", "o", 1).ok());
  REQUIRE(b->Put("x/gone", "g", 1).ok());
  Status st = b->Update(1, [](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Put("x/new", "n"));
    auto v = txn.Get("x/new");
    if (!v.ok() || *v != "n") return Status::Internal("own put not visible");
    v = txn.Get("x/old");
    if (!v.ok() || *v != "o") return Status::Internal("committed value not visible");
    RETURN_IF_ERROR(txn.Delete("x/gone"));
    if (!txn.Get("x/gone").status().IsNotFound()) return Status::Internal("own delete not seen");
    RETURN_IF_ERROR(txn.Put("x/old", "o2"));
    auto list = txn.List("x/");
    if (!list.ok()) return list.status();
    if (*list != Keys{"x/new", "x/old"}) return Status::Internal("own writes not listed");
    if (txn.Put("", "v").ok()) return Status::Internal("empty key accepted in txn");
    return Status::Ok();
  });
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(MustGet(*b, "x/new") == "n");
  CHECK(MustGet(*b, "x/old") == "o2");
  CHECK(b->Get("x/gone").status().IsNotFound());
  CHECK(MustList(*b, "x/") == Keys{"x/new", "x/old"});
}

TEST_CASE_TEMPLATE("storage: a failing update rolls back only itself", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  REQUIRE(b->Put("keep", "1", 1).ok());
  Status st = b->Update(1, [](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Put("r/a", "a"));
    RETURN_IF_ERROR(txn.Delete("keep"));
    return Status::Conflict("cas mismatch");
  });
  CHECK(st.code() == Status::Code::kConflict);
  CHECK(st.message() == "cas mismatch");  // the fn's status comes back unchanged
  CHECK(b->Get("r/a").status().IsNotFound());
  CHECK(MustGet(*b, "keep") == "1");

  // Many concurrent updates, so backends that group them commit several per transaction:
  // the odd ones write and then fail; only the even ones may be visible.
  constexpr int kN = 200;
  std::atomic<int> done{0};
  std::vector<Status> results(kN);
  for (int i = 0; i < kN; ++i) {
    b->UpdateAsync(
        1,
        [i](Txn& txn) -> Status {
          std::string k = "g/" + std::to_string(1000 + i);
          RETURN_IF_ERROR(txn.Put(k, std::to_string(i)));
          RETURN_IF_ERROR(txn.Put("g/last", std::to_string(i)));
          if (i % 2) return Status::InvalidArgument("odd " + std::to_string(i));
          return Status::Ok();
        },
        [&, i](Status s) {
          results[i] = std::move(s);
          done.fetch_add(1);
        });
  }
  REQUIRE(halo::testing::PollUntil([&] { return done.load() == kN; }, std::chrono::seconds(60)));
  for (int i = 0; i < kN; ++i) {
    std::string k = "g/" + std::to_string(1000 + i);
    if (i % 2) {
      CHECK(results[i].code() == Status::Code::kInvalidArgument);
      CHECK(b->Get(k).status().IsNotFound());
    } else {
      CHECK(results[i].ok());
      CHECK(MustGet(*b, k) == std::to_string(i));
    }
  }
  CHECK(std::stoi(MustGet(*b, "g/last")) % 2 == 0);
  CHECK(MustList(*b, "g/").size() == kN / 2 + 1);
}

TEST_CASE_TEMPLATE("storage: fencing refuses a stale epoch", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  CHECK(*b->MaxEpoch() == 0);
  // Writer A (epoch 5) is active and writes.
  REQUIRE(b->Put("fence/a", "from-5", 5).ok());
  CHECK(*b->MaxEpoch() == 5);
  // Writer B takes over with epoch 7, records it, writes.
  REQUIRE(b->RecordEpoch(7).ok());
  CHECK(*b->MaxEpoch() == 7);
  REQUIRE(b->Put("fence/b", "from-7", 7).ok());
  // A, paused meanwhile, tries again: refused, nothing of it visible.
  bool ran = false;
  Status st = b->Update(5, [&](Txn& txn) -> Status {
    ran = true;
    RETURN_IF_ERROR(txn.Put("fence/a", "late"));
    return txn.Put("fence/c", "late");
  });
  CHECK(st.code() == Status::Code::kConflict);
  CHECK_FALSE(ran);
  CHECK(b->Put("fence/c", "late", 6).code() == Status::Code::kConflict);
  CHECK(b->Delete("fence/b", 6).code() == Status::Code::kConflict);
  CHECK(MustGet(*b, "fence/a") == "from-5");
  CHECK(MustGet(*b, "fence/b") == "from-7");
  CHECK(b->Get("fence/c").status().IsNotFound());
  CHECK(b->RecordEpoch(6).code() == Status::Code::kConflict);
  CHECK(b->RecordEpoch(7).ok());  // the same epoch again is fine
  CHECK(*b->MaxEpoch() == 7);
  // A higher epoch in a write raises the recorded one; a failed update does not.
  CHECK_FALSE(b->Update(9, [](Txn&) { return Status::Internal("fail"); }).ok());
  CHECK(*b->MaxEpoch() == 7);
  REQUIRE(b->Put("fence/d", "from-8", 8).ok());
  CHECK(*b->MaxEpoch() == 8);
  CHECK(b->Put("fence/e", "x", 7).code() == Status::Code::kConflict);

  // Async path: stale writes are refused there too.
  std::atomic<int> codes{-1};
  b->UpdateAsync(
      3, [](Txn& txn) { return txn.Put("fence/f", "x"); },
      [&](Status s) { codes.store(static_cast<int>(s.code())); });
  REQUIRE(halo::testing::PollUntil([&] { return codes.load() >= 0; }, std::chrono::seconds(30)));
  CHECK(codes.load() == static_cast<int>(Status::Code::kConflict));
  CHECK(b->Get("fence/f").status().IsNotFound());
}

TEST_CASE_TEMPLATE("storage: UpdateAsync calls done once on a backend thread", F,
                   HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  std::atomic<int> calls{0};
  std::atomic<bool> other_thread{false};
  std::thread::id me = std::this_thread::get_id();
  b->UpdateAsync(
      1, [](Txn& txn) { return txn.Put("async", "1"); },
      [&](Status s) {
        CHECK(s.ok());
        other_thread.store(std::this_thread::get_id() != me);
        calls.fetch_add(1);
      });
  REQUIRE(halo::testing::PollUntil([&] { return calls.load() == 1; }, std::chrono::seconds(30)));
  CHECK(other_thread.load());
  CHECK(MustGet(*b, "async") == "1");
  // Pending async updates complete before the backend is destroyed.
  std::atomic<int> pending{0};
  for (int i = 0; i < 20; ++i) {
    b->UpdateAsync(
        1, [i](Txn& txn) { return txn.Put("async/" + std::to_string(i), "v"); },
        [&](Status s) {
          CHECK(s.ok());
          pending.fetch_add(1);
        });
  }
  b.reset();
  CHECK(pending.load() == 20);
  CHECK(calls.load() == 1);
}

TEST_CASE_TEMPLATE("storage: concurrent writers and readers", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 25;
  std::atomic<bool> stop{false};
  std::atomic<int> reader_errors{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto list = b->List("w/");
        if (!list.ok() || !std::is_sorted(list->begin(), list->end())) reader_errors++;
        if (list.ok() && !list->empty()) {
          auto v = b->Get(list->back());
          if (!v.ok() || v->empty()) reader_errors++;
        }
      }
    });
  }
  std::vector<std::thread> writers;
  std::atomic<int> write_errors{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string k = "w/" + std::to_string(w) + "/" + std::to_string(i);
        if (!b->Put(k, "value-" + k, 1).ok()) write_errors++;
      }
    });
  }
  for (auto& t : writers) t.join();
  stop.store(true);
  for (auto& t : readers) t.join();
  CHECK(write_errors.load() == 0);
  CHECK(reader_errors.load() == 0);
  Keys keys = MustList(*b, "w/");
  CHECK(keys.size() == kWriters * kPerWriter);
  for (const auto& k : keys) CHECK(MustGet(*b, k) == "value-" + k);
}

TEST_CASE_TEMPLATE("storage: big values and binary data", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  std::string big = RandomBytes(8 << 20, 7);
  std::string nuls("\0\0a\0", 4);
  REQUIRE(b->Put("big", big, 1).ok());
  REQUIRE(b->Put("nuls", nuls, 1).ok());
  CHECK(MustGet(*b, "big") == big);
  CHECK(MustGet(*b, "nuls") == nuls);
  REQUIRE(b->Put("big", "small now", 1).ok());
  CHECK(MustGet(*b, "big") == "small now");
}

// Keys that would escape or collide if mapped naively to paths.
Keys OddKeys() {
  Keys keys = {"../x",
               "..",
               ".",
               "a//b",
               "a/",
               "/a",
               "/",
               "//",
               "a/./b",
               "a/../b",
               "%2F",
               "%",
               "a/b",
               "a",
               "a%2Fb",
               "_a",
               "d",
               "k",
               "CON",
               "x\\y",
               "sp ace",
               "\n",
               std::string("nul\0byte", 8),
               std::string("\0", 1),
               "\xff\xfe",
               "-",
               "~",
               std::string(kMaxKeySize, 'L'),
               std::string(kMaxKeySize, '/'),
               std::string(kMaxKeySize, '.'),
               std::string(kMaxKeySize, '\xee'),
               std::string(kMaxKeySize - 1, 'L'),
               std::string(600, 'L') + "/tail"};
  std::string dots;
  for (int i = 0; i < 300; ++i) dots += "../";
  keys.push_back(dots + "etc");
  return keys;
}

TEST_CASE_TEMPLATE("storage: odd keys round-trip and stay distinct", F, HALO_ALL_BACKENDS) {
  F f;
  auto b = MustOpen(f);
  Keys keys = OddKeys();
  // One transaction for all (each Put would cost several fsyncs on the file backend).
  Status st = b->Update(1, [&](Txn& txn) -> Status {
    for (size_t i = 0; i < keys.size(); ++i) {
      RETURN_IF_ERROR(txn.Put(keys[i], "value " + std::to_string(i)).Annotate(std::to_string(i)));
    }
    return Status::Ok();
  });
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  REQUIRE(b->Put(keys[0], "value 0", 1).ok());  // and one through the single-key path
  for (size_t i = 0; i < keys.size(); ++i) {
    CHECK_MESSAGE(MustGet(*b, keys[i]) == "value " + std::to_string(i), "key #" << i);
  }
  Keys sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(MustList(*b, "") == sorted);
  Keys under_a;
  for (const auto& k : sorted) {
    if (k.rfind("a/", 0) == 0) under_a.push_back(k);
  }
  CHECK(MustList(*b, "a/") == under_a);
  Keys long_l;
  for (const auto& k : sorted) {
    if (k.rfind(std::string(500, 'L'), 0) == 0) long_l.push_back(k);
  }
  CHECK(long_l.size() == 3);
  CHECK(MustList(*b, std::string(500, 'L')) == long_l);
  REQUIRE(b->Delete(keys[0], 1).ok());
  REQUIRE(b->Update(1, [&](Txn& txn) -> Status {
             for (size_t i = 2; i < keys.size(); i += 2) RETURN_IF_ERROR(txn.Delete(keys[i]));
             return Status::Ok();
           }).ok());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i % 2) {
      CHECK(MustGet(*b, keys[i]) == "value " + std::to_string(i));
    } else {
      CHECK(b->Get(keys[i]).status().IsNotFound());
    }
  }
  // Nothing was written outside the data directory.
  b.reset();
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(f.root.path())) {
    entries.push_back(e.path().filename().string());
  }
  CHECK((entries.empty() || entries == std::vector<std::string>{"data"}));
}

TEST_CASE_TEMPLATE("storage: data and epoch survive reopen", F, HALO_ALL_BACKENDS) {
  F f;
  if (!F::kPersistent) return;
  {
    auto b = MustOpen(f);
    REQUIRE(b->RecordEpoch(4).ok());
    REQUIRE(b->Update(4, [](Txn& txn) -> Status {
               RETURN_IF_ERROR(txn.Put("p/1", "one"));
               RETURN_IF_ERROR(txn.Put("p/2", "two"));
               return txn.Put("p/3", "three");
             }).ok());
    REQUIRE(b->Delete("p/2", 4).ok());
  }
  auto b = MustOpen(f);
  CHECK(*b->MaxEpoch() == 4);
  CHECK(MustList(*b, "p/") == Keys{"p/1", "p/3"});
  CHECK(MustGet(*b, "p/3") == "three");
  CHECK(b->Put("p/4", "x", 3).code() == Status::Code::kConflict);
  REQUIRE(b->Put("p/4", "x", 4).ok());
}

}  // namespace
}  // namespace halo::storage::testing
