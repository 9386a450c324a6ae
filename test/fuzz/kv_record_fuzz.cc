// Fuzz target: the KV v2 stored-record decoders (kv/record.h) on arbitrary bytes.
// Storage is not trusted to be well-formed (a torn file, another writer, a bug elsewhere):
// DecodeSecretRecord and DecodeConfig must never crash, fail only with kCorruption, and
// whatever they accept must survive a round trip:
//  - decode(x) = r; encode(r) decodes to r again (destroyed versions lose their data, as
//    the encoder drops it) and re-encodes to the same bytes (encode is a fixed point);
//  - AddVersion on an accepted record keeps the record encodable and decodable.
// Input: byte 0 chooses the decoder (secret record or mount config); the rest is the value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kv/record.h"

namespace {

using halo::kv::KvConfig;
using halo::kv::KvSecretRecord;
using halo::kv::KvVersion;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "kv_record_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool SameVersion(const KvVersion& a, const KvVersion& b) {
  return a.number == b.number && a.created_ns == b.created_ns && a.deletion_ns == b.deletion_ns &&
         a.soft_deleted == b.soft_deleted && a.destroyed == b.destroyed &&
         (a.destroyed ? b.data.empty() : a.data == b.data);
}

bool SameRecord(const KvSecretRecord& a, const KvSecretRecord& b) {
  if (a.current_version != b.current_version || a.oldest_version != b.oldest_version ||
      a.max_versions != b.max_versions || a.cas_required != b.cas_required ||
      a.metadata_cas_required != b.metadata_cas_required ||
      a.current_metadata_version != b.current_metadata_version ||
      a.delete_version_after_s != b.delete_version_after_s || a.created_ns != b.created_ns ||
      a.updated_ns != b.updated_ns || a.custom_metadata != b.custom_metadata ||
      a.versions.size() != b.versions.size()) {
    return false;
  }
  for (size_t i = 0; i < a.versions.size(); ++i) {
    if (!SameVersion(a.versions[i], b.versions[i])) return false;
  }
  return true;
}

// Encodes `rec`, decodes the bytes, checks they are the same record, and that encoding
// the decoded record gives the same bytes.
void CheckRoundTrip(const KvSecretRecord& rec) {
  std::string enc = EncodeSecretRecord(rec);
  KvSecretRecord back;
  halo::Status st = DecodeSecretRecord(enc, &back);
  if (!st.ok()) std::fprintf(stderr, "kv_record_fuzz: %s\n", st.ToString().c_str());
  Check(st.ok(), "an encoded record decodes");
  Check(SameRecord(rec, back), "decode(encode(r)) == r");
  Check(EncodeSecretRecord(back) == enc, "encode is a fixed point");
  for (const KvVersion& v : rec.versions) {
    Check(rec.Find(v.number) != nullptr && rec.Find(v.number)->number == v.number,
          "Find finds every version");
  }
}

void FuzzSecret(std::string_view in) {
  KvSecretRecord rec;
  halo::Status st = DecodeSecretRecord(in, &rec);
  if (!st.ok()) {
    Check((st.code() == halo::Status::Code::kCorruption), "decode fails only with kCorruption");
    return;
  }
  for (size_t i = 1; i < rec.versions.size(); ++i) {
    Check(rec.versions[i - 1].number < rec.versions[i].number, "versions ascending");
  }
  for (const KvVersion& v : rec.versions) {
    Check(v.number <= rec.current_version, "no version beyond current");
  }
  CheckRoundTrip(rec);

  // What a write does with a stored record: add a version (pruning old ones), re-encode.
  // AddVersion bumps current_version, which cannot wrap in practice; skip the one value
  // where it would.
  if (rec.current_version == UINT64_MAX) return;
  const std::string data = R"({"k":"v"})";
  KvVersion& added = AddVersion(rec, 1'700'000'000'000'000'000, halo::kv::kNoTime, data,
                                static_cast<uint32_t>(in.size() % 4));
  Check(added.number == rec.current_version, "the added version is the current one");
  Check(!rec.versions.empty() && &rec.versions.back() == &added, "added version is last");
  CheckRoundTrip(rec);
}

void FuzzConfig(std::string_view in) {
  KvConfig config;
  halo::Status st = DecodeConfig(in, &config);
  if (!st.ok()) {
    Check((st.code() == halo::Status::Code::kCorruption),
          "config decode fails only with kCorruption");
    return;
  }
  std::string enc = EncodeConfig(config);
  KvConfig back;
  Check(DecodeConfig(enc, &back).ok(), "an encoded config decodes");
  Check(back.max_versions == config.max_versions && back.cas_required == config.cas_required &&
            back.metadata_cas_required == config.metadata_cas_required &&
            back.delete_version_after_s == config.delete_version_after_s,
        "config round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A copy, so that ASan sees reads past the value's end (string_view views into it).
  std::string copy(in);
  if (data[0] & 1) {
    FuzzConfig(copy);
  } else {
    FuzzSecret(copy);
  }
  return 0;
}
