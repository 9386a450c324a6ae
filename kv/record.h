// The stored form of a KV v2 secret and of a KV v2 mount's config. See kv/FORMAT.md.
//
// One secret (its key metadata and every retained version's data) is one record under one
// storage key, so every KV v2 write is a read-modify-write of a single key inside one
// backend transaction. Records are a compact binary encoding; version data is kept as the
// JSON text it is served as, so a read copies it into the response without re-encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace halo::kv {

inline constexpr int64_t kNoTime = INT64_MIN;  // an unset timestamp

struct KvVersion {
  uint64_t number = 0;
  int64_t created_ns = 0;         // Unix nanoseconds
  int64_t deletion_ns = kNoTime;  // soft-deleted (or scheduled to be) at this time
  // Set by an explicit delete (DELETE data/, POST delete/): deleted at once, whatever the
  // reading node's clock says. A deletion_time from delete_version_after without this flag
  // only takes effect once it has passed.
  bool soft_deleted = false;
  bool destroyed = false;
  // The version's data as JSON text (an object, keys sorted); empty once destroyed. A view:
  // into the buffer the record was decoded from, or into a string the caller keeps alive
  // until the record is encoded.
  std::string_view data;

  // Deleted as of `now_ns`: explicitly deleted, or a deletion time strictly before now
  // (OpenBao: DeletionTime before time.Now()); a later deletion time is only scheduled.
  bool DeletedAt(int64_t now_ns) const {
    return soft_deleted || (deletion_ns != kNoTime && deletion_ns < now_ns);
  }
  // Marks the version deleted now (OpenBao sets DeletionTime = now).
  void SoftDelete(int64_t now_ns) {
    soft_deleted = true;
    deletion_ns = now_ns;
  }
};

struct KvSecretRecord {
  uint64_t current_version = 0;
  uint64_t oldest_version = 0;
  uint32_t max_versions = 0;  // 0: the mount's setting
  bool cas_required = false;
  bool metadata_cas_required = false;
  uint64_t current_metadata_version = 0;  // bumped by every metadata write
  int64_t delete_version_after_s = 0;     // 0: unset
  int64_t created_ns = kNoTime;
  int64_t updated_ns = kNoTime;
  std::vector<std::pair<std::string, std::string>> custom_metadata;  // sorted by key
  std::vector<KvVersion> versions;                                   // ascending by number

  KvVersion* Find(uint64_t number);
  const KvVersion* Find(uint64_t number) const;
};

// Appends a version, then drops versions beyond the effective max_versions exactly as
// OpenBao's KeyMetadata.AddVersion: max(record, mount) or 10 when both are 0; versions below
// the new oldest_version are removed. Returns the new version.
KvVersion& AddVersion(KvSecretRecord& rec, int64_t created_ns, int64_t deletion_ns,
                      std::string_view data, uint32_t mount_max_versions);

std::string EncodeSecretRecord(const KvSecretRecord& rec);
// Views in `*out` point into `in`. kCorruption on any malformed input.
Status DecodeSecretRecord(std::string_view in, KvSecretRecord* out);

struct KvConfig {
  uint32_t max_versions = 0;
  bool cas_required = false;
  bool metadata_cas_required = false;
  // 0: unset; -1: disabled (OpenBao's negative config value); else seconds.
  int64_t delete_version_after_s = 0;

  bool DeleteVersionAfterDisabled() const { return delete_version_after_s == -1; }
};

std::string EncodeConfig(const KvConfig& config);
Status DecodeConfig(std::string_view in, KvConfig* out);

// OpenBao's deletionTime(): creation + the smallest non-zero of the mount's and the key's
// delete_version_after, or kNoTime when both are zero.
int64_t ScheduledDeletion(int64_t created_ns, int64_t mount_dva_s, int64_t key_dva_s);

}  // namespace halo::kv
