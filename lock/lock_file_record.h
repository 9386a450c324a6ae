// The on-disk record of the flock lock file: the epoch counter and the holder's value.
//
// The file holds two slots of kLockFileSlotSize bytes (offsets 0 and kLockFileSlotSize).
// Each acquisition writes epoch+1 into the slot holding the older (or no valid) record, then
// fsyncs, so a crash mid-write destroys at most that slot and the newest epoch survives in
// the other. The current record is the valid slot with the highest epoch. A slot is text,
// zero-padded:
//
//   halo-lock 1\n
//   epoch <decimal>\n
//   value <value, one line>\n
//   sum <16 hex digits: FNV-1a 64 of all bytes before this line>\n
//
// (The FNV offset basis used is one digit short of the standard one; lock_file_record.cc
// says why it stays.)
//
// After the two slots, at kLivenessOffset, the liveness page (see lock/flock_backend.h):
//
//   kLivenessOffset + 0:     "halo-gen <generation> <16 hex sum>\n", zero-padded to
//                             kLivenessRecordSize. Missing or all NULs: generation 0.
//   HeartbeatOffset(g):       "halo-hb <generation> <seq> <16 hex sum>\n", zero-padded: the
//                             heartbeat of the holder of generation g (8 rotating places, so
//                             a resumed holder of g never overwrites the one of g+1).
//
// Pure functions over bytes (no I/O), safe on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace halo::lock {

inline constexpr size_t kLockFileSlotSize = 4096;

struct LockFileRecord {
  uint64_t epoch = 0;
  std::string value;
  bool operator==(const LockFileRecord&) const = default;
};

// Exactly kLockFileSlotSize bytes. REQUIRES: value passes ValidateLockValue.
std::string EncodeLockFileSlot(const LockFileRecord& rec);
// kNotFound for an empty slot (no bytes, or only NULs); kCorruption if it is not a valid
// record.
Result<LockFileRecord> DecodeLockFileSlot(std::string_view slot);

struct LockFileState {
  std::optional<LockFileRecord> current;  // highest valid epoch; nullopt if none
  int next_slot = 0;                      // where the next record goes (the other slot)
};
// Decodes the first 2 * kLockFileSlotSize bytes of a lock file (shorter is fine).
// kCorruption if some slot is neither empty nor valid and no slot is valid (a file that is
// not ours, or both slots destroyed).
Result<LockFileState> DecodeLockFile(std::string_view contents);

inline constexpr size_t kLivenessOffset = 2 * kLockFileSlotSize;
inline constexpr size_t kLivenessRecordSize = 64;
inline constexpr size_t HeartbeatOffset(uint64_t generation) {
  return kLivenessOffset + 512 + (generation % 8) * kLivenessRecordSize;
}

// Exactly kLivenessRecordSize bytes.
std::string EncodeGenerationRecord(uint64_t generation);
// 0 for an empty record (no bytes, or only NULs); kCorruption if it is not a valid one.
Result<uint64_t> DecodeGenerationRecord(std::string_view rec);

struct HeartbeatRecord {
  uint64_t generation = 0;
  uint64_t seq = 0;
  bool operator==(const HeartbeatRecord&) const = default;
};
// Exactly kLivenessRecordSize bytes.
std::string EncodeHeartbeatRecord(const HeartbeatRecord& hb);
// nullopt for an empty, torn or foreign record: "no heartbeat seen".
std::optional<HeartbeatRecord> DecodeHeartbeatRecord(std::string_view rec);

}  // namespace halo::lock
