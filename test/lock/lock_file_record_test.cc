#include "lock/lock_file_record.h"

#include <doctest/doctest.h>

namespace halo::lock {
namespace {

TEST_CASE("lock file record: round trip, fixed size") {
  LockFileRecord rec{42, R"({"api_addr":"http://127.0.0.1:8201","node_id":"n1"})"};
  std::string slot = EncodeLockFileSlot(rec);
  CHECK(slot.size() == kLockFileSlotSize);
  CHECK(slot.rfind("halo-lock 1\nepoch 42\nvalue {", 0) == 0);
  Result<LockFileRecord> back = DecodeLockFileSlot(slot);
  REQUIRE(back.ok());
  CHECK(*back == rec);
  Result<LockFileRecord> empty_value = DecodeLockFileSlot(EncodeLockFileSlot({7, ""}));
  REQUIRE(empty_value.ok());
  CHECK(empty_value->epoch == 7);
  CHECK(empty_value->value.empty());
}

TEST_CASE("lock file record: empty slots and damaged slots") {
  CHECK(DecodeLockFileSlot("").status().IsNotFound());
  CHECK(DecodeLockFileSlot(std::string(kLockFileSlotSize, '\0')).status().IsNotFound());
  std::string slot = EncodeLockFileSlot({5, "v"});
  // Any single changed byte in the record is caught.
  size_t body = slot.find('\0');
  for (size_t i = 0; i < body; ++i) {
    std::string bad = slot;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CHECK_MESSAGE(!DecodeLockFileSlot(bad).ok(), "byte " << i);
  }
  std::string trailing = slot;
  trailing[kLockFileSlotSize - 1] = 'x';
  CHECK(DecodeLockFileSlot(trailing).status().code() == Status::Code::kCorruption);
  CHECK(DecodeLockFileSlot(slot.substr(0, body - 3)).status().code() == Status::Code::kCorruption);
  CHECK(DecodeLockFileSlot("garbage").status().code() == Status::Code::kCorruption);
  CHECK(DecodeLockFileSlot("halo-lock 1\nepoch 99999999999999999999999\nvalue x\nsum 0\n")
            .status()
            .code() == Status::Code::kCorruption);
}

TEST_CASE("lock file: the newest valid slot wins; the next write goes to the other") {
  Result<LockFileState> empty = DecodeLockFile("");
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->current.has_value());
  CHECK(empty->next_slot == 0);

  std::string file = EncodeLockFileSlot({3, "a"}) + EncodeLockFileSlot({4, "b"});
  Result<LockFileState> s = DecodeLockFile(file);
  REQUIRE(s.ok());
  CHECK(s->current->epoch == 4);
  CHECK(s->current->value == "b");
  CHECK(s->next_slot == 0);

  std::string only_first = EncodeLockFileSlot({1, "a"});
  s = DecodeLockFile(only_first);
  REQUIRE(s.ok());
  CHECK(s->current->epoch == 1);
  CHECK(s->next_slot == 1);

  // A torn newest write in slot 0: slot 1 still holds the last good epoch.
  std::string torn = file;
  torn.replace(0, 20, "halo-lock 1\nepoch 5\n");
  s = DecodeLockFile(torn);
  REQUIRE(s.ok());
  CHECK(s->current->epoch == 4);
  CHECK(s->next_slot == 0);

  CHECK(DecodeLockFile("not a lock file").status().code() == Status::Code::kCorruption);
  CHECK(DecodeLockFile(std::string(2 * kLockFileSlotSize, 'x')).status().code() ==
        Status::Code::kCorruption);
}

TEST_CASE("lock file liveness page: generation and heartbeat records") {
  std::string gen = EncodeGenerationRecord(7);
  CHECK(gen.size() == kLivenessRecordSize);
  CHECK(gen.rfind("halo-gen 7 ", 0) == 0);
  Result<uint64_t> g = DecodeGenerationRecord(gen);
  REQUIRE(g.ok());
  CHECK(*g == 7);
  // Never written (short file, or NULs): generation 0.
  CHECK(DecodeGenerationRecord("").value() == 0);
  CHECK(DecodeGenerationRecord(std::string(kLivenessRecordSize, '\0')).value() == 0);
  std::string flipped = gen;
  flipped[9] = '8';  // the sum no longer matches
  CHECK(DecodeGenerationRecord(flipped).status().code() == Status::Code::kCorruption);
  CHECK(DecodeGenerationRecord("halo-gen x\n").status().code() == Status::Code::kCorruption);
  CHECK(DecodeGenerationRecord(EncodeHeartbeatRecord({1, 2})).status().code() ==
        Status::Code::kCorruption);

  HeartbeatRecord hb{3, 123456};
  std::string rec = EncodeHeartbeatRecord(hb);
  CHECK(rec.size() == kLivenessRecordSize);
  CHECK(DecodeHeartbeatRecord(rec) == hb);
  CHECK_FALSE(DecodeHeartbeatRecord("").has_value());
  CHECK_FALSE(DecodeHeartbeatRecord(rec.substr(0, 12)).has_value());  // torn
  CHECK_FALSE(DecodeHeartbeatRecord(gen).has_value());                // another record
  std::string garbage = rec;
  garbage[10] = '9';
  CHECK_FALSE(DecodeHeartbeatRecord(garbage).has_value());
  // Eight rotating places after the generation record; g and g+1 never share one.
  CHECK(HeartbeatOffset(0) >= kLivenessOffset + kLivenessRecordSize);
  CHECK(HeartbeatOffset(1) == HeartbeatOffset(0) + kLivenessRecordSize);
  CHECK(HeartbeatOffset(8) == HeartbeatOffset(0));
}

}  // namespace
}  // namespace halo::lock
