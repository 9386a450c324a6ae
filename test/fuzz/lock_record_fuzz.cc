// Fuzz target: the lock's stored forms on arbitrary bytes. The flock lock file
// (lock/lock_file_record.h) is read from disk, the lock value (lock/lock_value.h) from
// whatever backend holds the lock; neither decoder may crash, and both must round-trip:
//  - DecodeLockFileSlot: kNotFound only for an all-NUL slot, else kCorruption or a record
//    whose re-encoding (when its value is a valid lock value) decodes to the same record;
//  - DecodeLockFile: the current record is the valid slot with the highest epoch, and
//    next_slot is the other slot;
//  - ParseLockValue: an accepted value re-encodes (when short enough) to text that parses
//    back to the same value, and the encoding passes ValidateLockValue.
// Input: byte 0 chooses the decoder; the rest is the bytes it reads.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/check.h"
#include "lock/lock_backend.h"
#include "lock/lock_file_record.h"
#include "lock/lock_value.h"
#include "test/fuzz/fuzz_support.h"

namespace {

using halo::lock::kLockFileSlotSize;
using halo::lock::LockFileRecord;

void CheckSlotRoundTrip(const LockFileRecord& rec) {
  if (!halo::lock::ValidateLockValue(rec.value).ok()) return;  // Encode's precondition
  std::string slot = EncodeLockFileSlot(rec);
  HALO_CHECK(slot.size() == kLockFileSlotSize, "a slot is kLockFileSlotSize bytes");
  halo::Result<LockFileRecord> back = halo::lock::DecodeLockFileSlot(slot);
  HALO_CHECK(back.ok() && *back == rec, "decode(encode(record)) == record");
}

void FuzzSlot(std::string_view in) {
  halo::Result<LockFileRecord> rec = halo::lock::DecodeLockFileSlot(in);
  bool all_nul = in.find_first_not_of('\0') == std::string_view::npos;
  if (!rec.ok()) {
    HALO_CHECK(rec.status().IsNotFound() == all_nul, "kNotFound exactly for an empty slot");
    HALO_CHECK(all_nul || rec.status().code() == halo::Status::Code::kCorruption,
               "otherwise kCorruption");
    return;
  }
  HALO_CHECK(!all_nul, "an empty slot holds no record");
  HALO_CHECK(rec->value.find('\n') == std::string::npos, "a value is one line");
  CheckSlotRoundTrip(*rec);
}

void FuzzFile(std::string_view in) {
  halo::Result<LockFileRecord> slots[2] = {
      halo::lock::DecodeLockFileSlot(in.substr(0, std::min(in.size(), kLockFileSlotSize))),
      halo::lock::DecodeLockFileSlot(in.size() > kLockFileSlotSize
                                         ? in.substr(kLockFileSlotSize, kLockFileSlotSize)
                                         : std::string_view())};
  halo::Result<halo::lock::LockFileState> state = halo::lock::DecodeLockFile(in);
  if (!state.ok()) {
    HALO_CHECK(state.status().code() == halo::Status::Code::kCorruption,
               "a bad lock file is kCorruption");
    HALO_CHECK(!slots[0].ok() && !slots[1].ok(), "corrupt only when no slot is valid");
    return;
  }
  HALO_CHECK(state->next_slot == 0 || state->next_slot == 1, "next_slot is 0 or 1");
  if (!state->current) {
    HALO_CHECK(!slots[0].ok() && !slots[1].ok(), "no current record only when no slot is valid");
    return;
  }
  int cur = 1 - state->next_slot;
  HALO_CHECK(slots[cur].ok() && *slots[cur] == *state->current, "current is the other slot");
  const halo::Result<LockFileRecord>& other = slots[state->next_slot];
  HALO_CHECK(!other.ok() || other->epoch <= state->current->epoch, "current has the highest epoch");
  CheckSlotRoundTrip(*state->current);

  // The next acquisition: write epoch+1 into next_slot; the file must then decode to it.
  if (state->current->epoch == UINT64_MAX) return;
  if (!halo::lock::ValidateLockValue(state->current->value).ok()) return;
  std::string file(in.substr(0, std::min(in.size(), 2 * kLockFileSlotSize)));
  file.resize(2 * kLockFileSlotSize, '\0');
  LockFileRecord next{state->current->epoch + 1, state->current->value};
  file.replace(static_cast<size_t>(state->next_slot) * kLockFileSlotSize, kLockFileSlotSize,
               EncodeLockFileSlot(next));
  halo::Result<halo::lock::LockFileState> after = halo::lock::DecodeLockFile(file);
  HALO_CHECK(after.ok() && after->current && *after->current == next, "the next epoch wins");
  HALO_CHECK(after->next_slot == cur, "slots alternate");
}

void FuzzValue(std::string_view in) {
  halo::Result<halo::lock::LockValue> v = halo::lock::ParseLockValue(in);
  if (!v.ok()) {
    HALO_CHECK(v.status().code() == halo::Status::Code::kInvalidArgument,
               "a bad lock value is kInvalidArgument");
    return;
  }
  HALO_CHECK(!v->api_addr.empty(), "an accepted value has an api_addr");
  halo::Result<std::string> enc = halo::lock::EncodeLockValue(*v);
  if (!enc.ok()) {
    HALO_CHECK(enc.status().code() == halo::Status::Code::kInvalidArgument,
               "encode fails with kInvalidArgument");
    return;
  }
  HALO_CHECK(halo::lock::ValidateLockValue(*enc).ok(), "an encoded value is a valid lock value");
  halo::Result<halo::lock::LockValue> back = halo::lock::ParseLockValue(*enc);
  HALO_CHECK(back.ok() && *back == *v, "parse(encode(v)) == v");
  // And it fits in a lock file slot.
  LockFileRecord rec{7, *enc};
  CheckSlotRoundTrip(rec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A lock value of any size (a lock backend returns what it holds) parses without
  // exhausting the stack.
  halo::fuzz::CheckDeepNestingOnce([](const std::string& deep) {
    HALO_CHECK(!halo::lock::ParseLockValue(deep).ok(), "deep value refused");
  });
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      FuzzSlot(in);
      break;
    case 1:
      FuzzFile(in);
      break;
    default:
      FuzzValue(in);
      break;
  }
  return 0;
}
