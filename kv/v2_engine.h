// KvV2Engine: the implementation behind NewKvV2Engine (kv/v2.h). Internal to the
// kv module; kv/v2.cc holds routing, reads and config, kv/v2_write.cc the writes.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kv/common.h"
#include "kv/fields.h"
#include "kv/json.h"
#include "kv/record.h"
#include "kv/request.h"

namespace halo::kv {

class KvV2Engine final : public SecretsEngine {
 public:
  explicit KvV2Engine(KvEngineOptions options);

  std::string_view Type() const override { return "kv"; }
  int Version() const override { return 2; }
  void Handle(const KvRequest& req, DoneFn done) override;

 private:
  enum class Route {
    kConfig,
    kData,
    kMetadata,
    kDetailedMetadata,
    kDestroy,
    kSubkeys,
    kDelete,
    kUndelete,
    kInvalid,
  };

  // What the transaction functions need; shared with pending writes so that they never
  // touch the engine itself (which may be gone by the time a write runs).
  struct Env {
    std::string prefix;
    Clock* clock;

    std::string SecretKey(std::string_view key) const { return prefix + "s/" + std::string(key); }
    std::string ConfigKey() const { return prefix + "config"; }
    int64_t Now() const { return WallNanos(*clock); }
  };

  // One request, parsed; shared with the write closures (which outlive Handle).
  struct Call {
    KvOp op = KvOp::kRead;
    uint64_t epoch = 0;
    Route route = Route::kInvalid;
    std::string path;  // the full normalised path below the mount
    std::string key;   // the secret's path (below "data/", "metadata/", ...)
    rapidjson::Document input;
    std::unique_ptr<KvFields> fields;
    std::vector<std::string> warnings;  // ignored / replaced parameters
  };
  using CallPtr = std::shared_ptr<Call>;

  static Route RouteOf(std::string_view path, std::string* key);
  static bool Supports(Route route, KvOp op);
  static std::unique_ptr<KvFields> FieldsFor(Route route, const rapidjson::Value& input);

  // Reads (synchronous).
  http::Response InvalidPath(const Call& c) const;
  http::Response ReadData(const Call& c) const;
  http::Response ReadSubkeys(const Call& c) const;
  http::Response ReadMetadata(const Call& c) const;
  http::Response ListMetadata(const Call& c) const;
  http::Response ReadConfig(const Call& c) const;
  // Loads a committed record; false in *found when absent.
  Status LoadCommitted(std::string_view key, std::string* raw, KvSecretRecord* rec,
                       bool* found) const;
  // Loads the committed record of c.key for a read (its version data points into *raw); false
  // with *answer set (500, or 404 when absent).
  bool LoadForRead(const Call& c, std::string* raw, KvSecretRecord* rec,
                   http::Response* answer) const;
  // The version a read names (?version=N, else the current one), with *gone set when it is
  // deleted or destroyed; nullptr when the record has no such version.
  const KvVersion* ReadVersion(const Call& c, const KvSecretRecord& rec, bool* gone) const;
  // The answer to a read of one version: 200 with `write_data` and the warnings, or 404 with
  // no warnings when the version is gone.
  static http::Response ReadAnswer(const Call& c, bool gone,
                                   const std::function<void(JsonWriter&)>& write_data);

  // Writes: each validates what it can up front (Precheck: false and *refusal set when
  // the request is refused), then runs in a fenced transaction.
  void Write(const CallPtr& c, DoneFn done);
  bool Precheck(const Call& c, http::Response* refusal) const;
  static Result<KvTxnResult> WriteData(const Env& env, const Call& c, Txn& txn);
  static Result<KvTxnResult> PatchData(const Env& env, const Call& c, Txn& txn);
  static Result<KvTxnResult> DeleteLatest(const Env& env, const Call& c, Txn& txn);
  static Result<KvTxnResult> ChangeVersions(const Env& env, const Call& c, Txn& txn);
  // POST/PUT and PATCH of metadata/<path>.
  static Result<KvTxnResult> WriteMetadata(const Env& env, const Call& c, Txn& txn);
  static Result<KvTxnResult> DeleteMetadata(const Env& env, const Call& c, Txn& txn);
  static Result<KvTxnResult> WriteConfig(const Env& env, const Call& c, Txn& txn);

  Backend* backend_;
  std::shared_ptr<const Env> env_;
};

// JSON pieces of KV v2 responses (sorted keys, as Go prints maps).
// {"created_time","custom_metadata","deletion_time","destroyed","version"}
void WriteVersionInfo(JsonWriter& w, const KvSecretRecord& rec, const KvVersion& v);
// custom_metadata: null when empty, else an object of strings.
void WriteCustomMetadata(JsonWriter& w, const KvSecretRecord& rec);
// The data of GET metadata/<path>.
void WriteKeyMetadata(JsonWriter& w, const KvSecretRecord& rec);
// "" for kNoTime, else RFC 3339 with nanoseconds.
std::string TimeText(int64_t unix_nanos);

}  // namespace halo::kv
