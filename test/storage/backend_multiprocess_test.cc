// Conformance cases that need several processes: readers in other processes see only
// committed data, a writer SIGKILLed mid-write leaves every key whole (old or new value, the
// last acknowledged write present), and fencing between two writer processes. Runs against
// the backends shared between processes (HALO_PERSISTENT_BACKENDS).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test/storage/backend_fixtures.h"

namespace halo::storage::testing {
namespace {

using halo::testing::ChildArg;
using halo::testing::PollUntil;
using halo::testing::SpawnChildRole;
using halo::testing::Subprocess;

constexpr int kBatchKeys = 8;

std::string BatchKey(int i) { return "mp/k/" + std::to_string(i); }
std::string GenKey(long g) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "mp/gen/%08ld", g);
  return buf;
}

bool ExitedOk(Subprocess& p, std::chrono::seconds timeout) {
  int st = 0;
  if (!p.WaitExit(timeout, &st)) return false;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `batches` generations. Generation g sets every mp/k/<i> to g, adds mp/gen/<g> and
// deletes mp/gen/<g-1>, in one update; a second update per generation writes
// mp/uncommitted/<g> and fails. Finally writes mp/done.
TEST_CASE("child:storage-mp-writer") {
  HALO_CHILD_ROLE_GUARD();
  auto b = OpenForChild(ChildArg(0), ChildArg(1));
  REQUIRE(b);
  long batches = std::stol(ChildArg(2));
  for (long g = 1; g <= batches; ++g) {
    Status st = b->Update(1, [g](Txn& txn) -> Status {
      for (int i = 0; i < kBatchKeys; ++i) {
        RETURN_IF_ERROR(txn.Put(BatchKey(i), std::to_string(g)));
      }
      RETURN_IF_ERROR(txn.Put(GenKey(g), "x"));
      return txn.Delete(GenKey(g - 1));
    });
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    st = b->Update(1, [g](Txn& txn) -> Status {
      RETURN_IF_ERROR(txn.Put("mp/uncommitted/" + std::to_string(g), "x"));
      return Status::Conflict("never committed");
    });
    REQUIRE(st.IsConflict());
  }
  REQUIRE(b->Put("mp/done", "1", 1).ok());
}

// Reads until mp/done appears, checking that every observation is a committed state:
// batch keys read in write order never go back in generation, exactly one mp/gen/ key is
// listed once the first batch is in, no mp/uncommitted/ key is ever visible.
TEST_CASE("child:storage-mp-reader") {
  HALO_CHILD_ROLE_GUARD();
  auto b = OpenForChild(ChildArg(0), ChildArg(1));
  REQUIRE(b);
  std::ofstream(ChildArg(2) + ".ready") << "1";
  long rounds = 0, max_gen = 0;
  std::set<long> seen;
  bool done = false;
  while (!done) {
    done = b->Get("mp/done").ok();
    long prev = 0;
    for (int i = 0; i < kBatchKeys; ++i) {
      auto v = b->Get(BatchKey(i));
      long g = v.ok() ? std::stol(*v) : 0;
      REQUIRE_MESSAGE((v.ok() || v.status().IsNotFound()), v.status().ToString());
      REQUIRE_MESSAGE(g >= prev,
                      "torn batch: key " << i << " at generation " << g << " after " << prev);
      REQUIRE(g >= max_gen);  // never older than what this process saw before
      prev = g;
    }
    max_gen = prev;
    seen.insert(prev);
    auto gens = b->List("mp/gen/");
    REQUIRE(gens.ok());
    if (max_gen > 0) {
      REQUIRE_MESSAGE(gens->size() == 1, "mp/gen/ lists " << gens->size() << " keys");
      REQUIRE((*gens)[0] >= GenKey(max_gen));
    } else {
      REQUIRE(gens->size() <= 1);
    }
    auto junk = b->List("mp/uncommitted/");
    REQUIRE(junk.ok());
    REQUIRE_MESSAGE(junk->empty(), "uncommitted key visible: " << (*junk)[0]);
    ++rounds;
  }
  std::ofstream(ChildArg(2)) << rounds << " " << seen.size() << " " << max_gen;
}

TEST_CASE_TEMPLATE("storage: readers in other processes see only committed data", F,
                   HALO_PERSISTENT_BACKENDS) {
  F f;
  { auto init = MustOpen(f); }  // create the store before the children race to
  constexpr int kReaders = 3;
  constexpr long kBatches = 80;
  std::vector<Subprocess> readers;
  std::vector<std::string> outs;
  for (int r = 0; r < kReaders; ++r) {
    outs.push_back(f.root.Join("reader" + std::to_string(r)));
    readers.push_back(SpawnChildRole("storage-mp-reader", {F::kType, f.Dir(), outs.back()}));
  }
  for (const auto& out : outs) {
    REQUIRE(PollUntil([&] { return access((out + ".ready").c_str(), F_OK) == 0; },
                      std::chrono::seconds(30)));
  }
  Subprocess writer =
      SpawnChildRole("storage-mp-writer", {F::kType, f.Dir(), std::to_string(kBatches)});
  CHECK(ExitedOk(writer, std::chrono::seconds(120)));
  for (int r = 0; r < kReaders; ++r) {
    CHECK_MESSAGE(ExitedOk(readers[r], std::chrono::seconds(60)), "reader " << r);
    std::istringstream in(ReadAll(outs[r]));
    long rounds = 0, distinct = 0, last = 0;
    in >> rounds >> distinct >> last;
    MESSAGE(std::string(F::kType) << " reader " << r << ": " << rounds << " consistent reads, "
                                  << distinct << " distinct generations observed");
    CHECK(last == kBatches);
    CHECK(rounds > 0);
  }
  auto b = MustOpen(f);
  CHECK(b->List("mp/uncommitted/")->empty());
  CHECK(*b->List("mp/gen/") == std::vector<std::string>{GenKey(kBatches)});
}

// A value that identifies its generation and key and is only valid when whole.
std::string CrashValue(long g, int i) {
  std::string head = "g=" + std::to_string(g) + " i=" + std::to_string(i) + " ";
  std::string v = head;
  v.reserve(32 << 10);
  while (v.size() < (32 << 10) - 4) v.push_back(static_cast<char>('a' + (v.size() + g) % 26));
  return v + "|end";
}

// Writes generations forever (continuing after what is stored), each a batch of
// kBatchKeys big values; appends each acknowledged generation to the ack file.
TEST_CASE("child:storage-crash-writer") {
  HALO_CHILD_ROLE_GUARD();
  auto b = OpenForChild(ChildArg(0), ChildArg(1));
  REQUIRE(b);
  int ack = ::open(ChildArg(2).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(ack >= 0);
  long g = 0;
  if (auto v = b->Get("c/0"); v.ok()) g = std::stol(v->substr(2));
  while (true) {
    ++g;
    Status st = b->Update(1, [g](Txn& txn) -> Status {
      for (int i = 0; i < kBatchKeys; ++i) {
        RETURN_IF_ERROR(txn.Put("c/" + std::to_string(i), CrashValue(g, i)));
      }
      return Status::Ok();
    });
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    std::string line = std::to_string(g) + "\n";
    REQUIRE(::write(ack, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  }
}

long LastAck(const std::string& path) {
  std::istringstream in(ReadAll(path));
  long g = 0, last = 0;
  while (in >> g) last = g;
  return last;
}

TEST_CASE_TEMPLATE("storage: a writer killed mid-write leaves whole values", F,
                   HALO_PERSISTENT_BACKENDS) {
  F f;
  std::string acks = f.root.Join("acks");
  long last_ack = 0;
  for (int round = 0; round < 5; ++round) {
    Subprocess writer = SpawnChildRole("storage-crash-writer", {F::kType, f.Dir(), acks});
    long target = last_ack + 2 + round;  // vary the point of the kill
    REQUIRE(PollUntil([&] { return LastAck(acks) >= target; }, std::chrono::seconds(60)));
    writer.Signal(SIGKILL);
    int st = 0;
    REQUIRE(writer.WaitExit(std::chrono::seconds(10), &st));
    CHECK(WIFSIGNALED(st));
    last_ack = LastAck(acks);

    auto b = MustOpen(f);
    long gen = -1;
    for (int i = 0; i < kBatchKeys; ++i) {
      auto v = b->Get("c/" + std::to_string(i));
      REQUIRE_MESSAGE(v.ok(), v.status().ToString());
      long g = std::stol(v->substr(2));
      CHECK_MESSAGE(*v == CrashValue(g, i), "key c/" << i << " is torn");
      if (gen < 0) gen = g;
      CHECK_MESSAGE(g == gen, "batch torn: c/" << i << " at " << g << ", c/0 at " << gen);
    }
    CHECK(gen >= last_ack);      // every acknowledged write survived
    CHECK(gen <= last_ack + 1);  // at most the one in flight got in
    MESSAGE(std::string(F::kType) << " crash round " << round << ": acked " << last_ack
                                  << ", found " << gen);
  }
}

// The newer active, in another process: records its epoch and writes.
TEST_CASE("child:storage-fence-newer") {
  HALO_CHILD_ROLE_GUARD();
  auto b = OpenForChild(ChildArg(0), ChildArg(1));
  REQUIRE(b);
  uint64_t epoch = std::stoull(ChildArg(2));
  REQUIRE(b->RecordEpoch(epoch).ok());
  REQUIRE(b->Put("fence/owner", "newer", epoch).ok());
}

TEST_CASE_TEMPLATE("storage: fencing between two writer processes", F, HALO_PERSISTENT_BACKENDS) {
  F f;
  auto old_active = MustOpen(f);
  REQUIRE(old_active->Put("fence/owner", "older", 5).ok());
  // While the old active still has the store open, a newer one takes over elsewhere.
  Subprocess newer = SpawnChildRole("storage-fence-newer", {F::kType, f.Dir(), "9"});
  REQUIRE(ExitedOk(newer, std::chrono::seconds(60)));
  Status st = old_active->Put("fence/owner", "older-again", 5);
  CHECK(st.code() == Status::Code::kConflict);
  CHECK(old_active->Put("fence/other", "x", 8).code() == Status::Code::kConflict);
  CHECK(*old_active->Get("fence/owner") == "newer");
  CHECK(old_active->Get("fence/other").status().IsNotFound());
  CHECK(*old_active->MaxEpoch() == 9);
}

}  // namespace
}  // namespace halo::storage::testing
