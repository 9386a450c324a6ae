#include "kv/record.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <limits>

namespace halo::kv {
namespace {

constexpr std::string_view kMagic = "HKV2";
constexpr uint8_t kFormat = 1;
constexpr uint32_t kDefaultMaxVersions = 10;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutSigned(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return false;
      uint8_t b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      result |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Signed(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool Byte(uint8_t* b) {
    if (in_.empty()) return false;
    *b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool String(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size()) return false;
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Bytes(size_t n, std::string_view* s) {
    if (n > in_.size()) return false;
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool AtEnd() const { return in_.empty(); }

 private:
  std::string_view in_;
};

Status Corrupt(std::string_view what) {
  return Status::Corruption("kv record: " + std::string(what));
}

}  // namespace

KvVersion* KvSecretRecord::Find(uint64_t number) {
  auto it = std::lower_bound(versions.begin(), versions.end(), number,
                             [](const KvVersion& v, uint64_t n) { return v.number < n; });
  return it != versions.end() && it->number == number ? &*it : nullptr;
}

const KvVersion* KvSecretRecord::Find(uint64_t number) const {
  return const_cast<KvSecretRecord*>(this)->Find(number);
}

KvVersion& AddVersion(KvSecretRecord& rec, int64_t created_ns, int64_t deletion_ns,
                      std::string_view data, uint32_t mount_max_versions) {
  KvVersion v;
  v.number = ++rec.current_version;
  v.created_ns = created_ns;
  v.deletion_ns = deletion_ns;
  v.data = data;
  rec.versions.push_back(v);
  rec.updated_ns = created_ns;
  if (rec.created_ns == kNoTime) rec.created_ns = created_ns;

  uint32_t max_versions = std::max(rec.max_versions, mount_max_versions);
  if (max_versions == 0) max_versions = kDefaultMaxVersions;
  if (rec.current_version - rec.oldest_version >= max_versions) {
    uint64_t to_delete = rec.current_version - max_versions;
    std::erase_if(rec.versions, [&](const KvVersion& x) { return x.number <= to_delete; });
    rec.oldest_version = to_delete + 1;
  }
  return rec.versions.back();
}

std::string EncodeSecretRecord(const KvSecretRecord& rec) {
  std::string out;
  size_t data_bytes = 0;
  for (const auto& v : rec.versions) data_bytes += v.data.size();
  out.reserve(64 + data_bytes + rec.versions.size() * 24);
  out.append(kMagic);
  out.push_back(static_cast<char>(kFormat));
  PutVarint(out, rec.current_version);
  PutVarint(out, rec.oldest_version);
  PutVarint(out, rec.max_versions);
  out.push_back(
      static_cast<char>((rec.cas_required ? 1 : 0) | (rec.metadata_cas_required ? 2 : 0)));
  PutVarint(out, rec.current_metadata_version);
  PutSigned(out, rec.delete_version_after_s);
  PutSigned(out, rec.created_ns);
  PutSigned(out, rec.updated_ns);
  PutVarint(out, rec.custom_metadata.size());
  for (const auto& [k, v] : rec.custom_metadata) {
    PutString(out, k);
    PutString(out, v);
  }
  PutVarint(out, rec.versions.size());
  for (const auto& v : rec.versions) {
    PutVarint(out, v.number);
    uint8_t flags =
        (v.destroyed ? 1 : 0) | (v.deletion_ns != kNoTime ? 2 : 0) | (v.soft_deleted ? 4 : 0);
    out.push_back(static_cast<char>(flags));
    PutSigned(out, v.created_ns);
    if (v.deletion_ns != kNoTime) PutSigned(out, v.deletion_ns);
    PutString(out, v.destroyed ? std::string_view() : v.data);
  }
  return out;
}

Status DecodeSecretRecord(std::string_view in, KvSecretRecord* out) {
  *out = KvSecretRecord();
  Reader r(in);
  std::string_view magic;
  uint8_t format = 0, flags = 0;
  if (!r.Bytes(kMagic.size(), &magic) || magic != kMagic) return Corrupt("bad magic");
  if (!r.Byte(&format) || format != kFormat) return Corrupt("unknown format version");
  uint64_t max_versions = 0, n = 0;
  if (!r.Varint(&out->current_version) || !r.Varint(&out->oldest_version) ||
      !r.Varint(&max_versions) || max_versions > std::numeric_limits<uint32_t>::max() ||
      !r.Byte(&flags) || flags > 3 || !r.Varint(&out->current_metadata_version) ||
      !r.Signed(&out->delete_version_after_s) || !r.Signed(&out->created_ns) ||
      !r.Signed(&out->updated_ns) || !r.Varint(&n)) {
    return Corrupt("truncated header");
  }
  // Pruning only ever raises oldest_version to at most current_version; AddVersion relies
  // on it (a larger one would prune the version it adds).
  if (out->oldest_version > out->current_version) return Corrupt("oldest_version beyond current");
  // Never negative when written (the API refuses it); ScheduledDeletion relies on it.
  if (out->delete_version_after_s < 0) return Corrupt("negative delete_version_after");
  out->max_versions = static_cast<uint32_t>(max_versions);
  out->cas_required = (flags & 1) != 0;
  out->metadata_cas_required = (flags & 2) != 0;
  if (n > in.size()) return Corrupt("bad custom_metadata count");
  out->custom_metadata.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k, v;
    if (!r.String(&k) || !r.String(&v)) return Corrupt("truncated custom_metadata");
    out->custom_metadata.emplace_back(std::string(k), std::string(v));
  }
  if (!r.Varint(&n) || n > in.size()) return Corrupt("bad version count");
  out->versions.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    KvVersion v;
    if (!r.Varint(&v.number) || !r.Byte(&flags) || flags > 7 || !r.Signed(&v.created_ns)) {
      return Corrupt("truncated version");
    }
    v.destroyed = (flags & 1) != 0;
    v.soft_deleted = (flags & 4) != 0;
    if (v.soft_deleted && (flags & 2) == 0) return Corrupt("deleted version without a time");
    if ((flags & 2) != 0 && !r.Signed(&v.deletion_ns)) return Corrupt("truncated version");
    // kNoTime is how "no deletion time" is held: the encoder would drop the time (and leave
    // a soft-deleted version without one).
    if ((flags & 2) != 0 && v.deletion_ns == kNoTime) return Corrupt("deletion time unset");
    if (!r.String(&v.data)) return Corrupt("truncated version data");
    if (!out->versions.empty() && out->versions.back().number >= v.number) {
      return Corrupt("versions out of order");
    }
    if (v.number > out->current_version) return Corrupt("version beyond current_version");
    out->versions.push_back(v);
  }
  if (!r.AtEnd()) return Corrupt("trailing bytes");
  return Status::Ok();
}

std::string EncodeConfig(const KvConfig& config) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("max_versions");
  w.Uint(config.max_versions);
  w.Key("cas_required");
  w.Bool(config.cas_required);
  w.Key("metadata_cas_required");
  w.Bool(config.metadata_cas_required);
  w.Key("delete_version_after_s");
  w.Int64(config.delete_version_after_s);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Status DecodeConfig(std::string_view in, KvConfig* out) {
  *out = KvConfig();
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(in.data(), in.size());
  if (doc.HasParseError() || !doc.IsObject()) return Corrupt("config is not a JSON object");
  auto mv = doc.FindMember("max_versions");
  auto cas = doc.FindMember("cas_required");
  auto dva = doc.FindMember("delete_version_after_s");
  if (mv == doc.MemberEnd() || !mv->value.IsUint() || cas == doc.MemberEnd() ||
      !cas->value.IsBool() || dva == doc.MemberEnd() || !dva->value.IsInt64()) {
    return Corrupt("config fields missing or mistyped");
  }
  out->max_versions = mv->value.GetUint();
  out->cas_required = cas->value.GetBool();
  out->delete_version_after_s = dva->value.GetInt64();
  if (out->delete_version_after_s < -1) return Corrupt("config delete_version_after_s below -1");
  auto mcas = doc.FindMember("metadata_cas_required");  // optional
  if (mcas != doc.MemberEnd()) {
    if (!mcas->value.IsBool()) return Corrupt("config fields missing or mistyped");
    out->metadata_cas_required = mcas->value.GetBool();
  }
  return Status::Ok();
}

int64_t ScheduledDeletion(int64_t created_ns, int64_t mount_dva_s, int64_t key_dva_s) {
  if (mount_dva_s == 0 && key_dva_s == 0) return kNoTime;
  int64_t min = key_dva_s;
  if ((mount_dva_s != 0 && mount_dva_s < min) || min == 0) min = mount_dva_s;
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000;
  if (min > kMaxSeconds) min = kMaxSeconds;
  int64_t add = min * 1'000'000'000;
  if (created_ns > std::numeric_limits<int64_t>::max() - add) {
    return std::numeric_limits<int64_t>::max();
  }
  return created_ns + add;
}

}  // namespace halo::kv
