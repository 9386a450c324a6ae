#include "lock/lock_file_record.h"

#include <charconv>
#include <vector>

#include "common/hex.h"

namespace halo::lock {
namespace {

constexpr std::string_view kMagic = "halo-lock 1\n";

// FNV-1a 64, except that the offset basis is 1469598103934665603 rather than FNV's
// 14695981039346656037 (one digit short). It is part of the on-disk format: every existing
// lock file's "sum" line was computed with it, so it must not be "corrected".
uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Consumes "<prefix><rest of line>\n" from *s into *line.
bool TakeLine(std::string_view* s, std::string_view prefix, std::string_view* line) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  size_t nl = s->find('\n', prefix.size());
  if (nl == std::string_view::npos) return false;
  *line = s->substr(prefix.size(), nl - prefix.size());
  s->remove_prefix(nl + 1);
  return true;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string EncodeLockFileSlot(const LockFileRecord& rec) {
  std::string body(kMagic);
  body += "epoch " + std::to_string(rec.epoch) + "\n";
  body += "value " + rec.value + "\n";
  body += "sum " + HexU64(Fnv1a64(body)) + "\n";
  body.resize(kLockFileSlotSize, '\0');
  return body;
}

Result<LockFileRecord> DecodeLockFileSlot(std::string_view slot) {
  if (slot.find_first_not_of('\0') == std::string_view::npos) {
    return Status::NotFound("empty lock file slot");
  }
  const Status bad = Status::Corruption("not a valid halo lock record");
  std::string_view rest = slot;
  if (rest.substr(0, kMagic.size()) != kMagic) return bad;
  rest.remove_prefix(kMagic.size());
  std::string_view epoch_s, value_s, sum_s;
  if (!TakeLine(&rest, "epoch ", &epoch_s) || !TakeLine(&rest, "value ", &value_s)) return bad;
  const size_t body_len = slot.size() - rest.size();
  if (!TakeLine(&rest, "sum ", &sum_s)) return bad;
  if (rest.find_first_not_of('\0') != std::string_view::npos) return bad;
  LockFileRecord rec;
  if (!ParseU64(epoch_s, &rec.epoch)) return bad;
  if (sum_s != HexU64(Fnv1a64(slot.substr(0, body_len)))) return bad;
  if (value_s.find('\0') != std::string_view::npos ||
      value_s.find('\r') != std::string_view::npos) {
    return bad;
  }
  rec.value = std::string(value_s);
  return rec;
}

Result<LockFileState> DecodeLockFile(std::string_view contents) {
  LockFileState state;
  bool any_corrupt = false;
  uint64_t best = 0;
  int best_slot = -1;
  for (int i = 0; i < 2; ++i) {
    size_t off = i * kLockFileSlotSize;
    std::string_view slot =
        off < contents.size() ? contents.substr(off, kLockFileSlotSize) : std::string_view();
    Result<LockFileRecord> r = DecodeLockFileSlot(slot);
    if (r.ok()) {
      if (best_slot < 0 || r->epoch > best) {
        best = r->epoch;
        best_slot = i;
        state.current = *r;
      }
    } else if (!r.status().IsNotFound()) {
      any_corrupt = true;
    }
  }
  if (best_slot < 0) {
    if (any_corrupt) return Status::Corruption("lock file holds no valid halo lock record");
    state.next_slot = 0;
  } else {
    state.next_slot = 1 - best_slot;
  }
  return state;
}

namespace {

bool AllNul(std::string_view s) { return s.find_first_not_of('\0') == std::string_view::npos; }

// "<magic> <fields...> <sum>\n" zero-padded to kLivenessRecordSize.
std::string EncodeLivenessLine(std::string_view body) {
  std::string line(body);
  line += " " + HexU64(Fnv1a64(line)) + "\n";
  line.resize(kLivenessRecordSize, '\0');
  return line;
}

// The fields between `magic` and the sum, if the record is well formed and the sum matches.
std::optional<std::vector<std::string_view>> DecodeLivenessLine(std::string_view rec,
                                                                std::string_view magic) {
  size_t nl = rec.find('\n');
  if (nl == std::string_view::npos || !AllNul(rec.substr(nl + 1))) return std::nullopt;
  std::string_view line = rec.substr(0, nl);
  size_t last = line.rfind(' ');
  if (last == std::string_view::npos ||
      line.substr(last + 1) != HexU64(Fnv1a64(line.substr(0, last)))) {
    return std::nullopt;
  }
  std::string_view body = line.substr(0, last);
  if (body.substr(0, magic.size()) != magic) return std::nullopt;
  body.remove_prefix(magic.size());
  std::vector<std::string_view> fields;
  while (!body.empty()) {
    if (body[0] != ' ') return std::nullopt;
    body.remove_prefix(1);
    size_t sp = body.find(' ');
    fields.push_back(body.substr(0, sp));
    body = sp == std::string_view::npos ? std::string_view() : body.substr(sp);
  }
  return fields;
}

}  // namespace

std::string EncodeGenerationRecord(uint64_t generation) {
  return EncodeLivenessLine("halo-gen " + std::to_string(generation));
}

Result<uint64_t> DecodeGenerationRecord(std::string_view rec) {
  if (AllNul(rec)) return uint64_t{0};
  auto fields = DecodeLivenessLine(rec, "halo-gen");
  uint64_t g = 0;
  if (!fields || fields->size() != 1 || !ParseU64((*fields)[0], &g)) {
    return Status::Corruption("not a valid halo lock generation record");
  }
  return g;
}

std::string EncodeHeartbeatRecord(const HeartbeatRecord& hb) {
  return EncodeLivenessLine("halo-hb " + std::to_string(hb.generation) + " " +
                            std::to_string(hb.seq));
}

std::optional<HeartbeatRecord> DecodeHeartbeatRecord(std::string_view rec) {
  auto fields = DecodeLivenessLine(rec, "halo-hb");
  HeartbeatRecord hb;
  if (!fields || fields->size() != 2 || !ParseU64((*fields)[0], &hb.generation) ||
      !ParseU64((*fields)[1], &hb.seq)) {
    return std::nullopt;
  }
  return hb;
}

}  // namespace halo::lock
