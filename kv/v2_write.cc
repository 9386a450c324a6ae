// KV v2 writes: every one runs as a single read-modify-write of one record (or the config)
// inside a fenced backend transaction. Behaviour follows OpenBao's builtin/logical/kv
// path_data.go, path_delete.go, path_destroy.go, path_metadata.go and path_config.go.
#include <map>

#include "kv/v2.h"
#include "kv/v2_engine.h"

namespace halo::kv {
namespace {

constexpr size_t kMaxCustomMetadataKeys = 64;
constexpr size_t kMaxCustomMetadataKeyLength = 128;
constexpr size_t kMaxCustomMetadataValueLength = 512;
constexpr std::string_view kCustomMetadataPrefix = "custom_metadata validation failed";
constexpr std::string_view kCasWarning =
    "\"cas_required\" set to false, but is mandated by backend config. This value will be "
    "ignored.";
constexpr std::string_view kMetadataCasWarning =
    "\"metadata_cas_required\" set to false, but is mandated by backend config. This value "
    "will be ignored.";

KvTxnResult Reply(http::Response r) { return KvTxnResult{std::move(r), true}; }
KvTxnResult Refuse(http::Response r) { return KvTxnResult{std::move(r), false}; }

// 204, or 200 with only warnings when there are some (OpenBao answers a non-nil response).
http::Response NoContentOrWarnings(const std::vector<std::string>& warnings) {
  if (warnings.empty()) return NoBody(204);
  return JsonResponse(200, EnvelopeJson([](JsonWriter& w) { w.Null(); }, warnings));
}

Result<bool> LoadRecord(Txn& txn, const std::string& key, std::string* raw, KvSecretRecord* rec) {
  Result<std::string> got = txn.Get(key);
  if (!got.ok()) {
    if (got.status().IsNotFound()) return false;
    return got.status();
  }
  *raw = std::move(got).value();
  RETURN_IF_ERROR(DecodeSecretRecord(*raw, rec));
  return true;
}

Result<KvConfig> LoadConfig(Txn& txn, const std::string& key) {
  KvConfig config;
  Result<std::string> got = txn.Get(key);
  if (!got.ok()) {
    if (got.status().IsNotFound()) return config;
    return got.status();
  }
  RETURN_IF_ERROR(DecodeConfig(*got, &config));
  return config;
}

// OpenBao's validateCheckAndSetOption: "" when the write may go ahead.
std::string CheckAndSet(const KvFields& fields, const KvConfig& config, const KvSecretRecord& rec) {
  const rapidjson::Value* options = fields.Raw("options");
  const rapidjson::Value* cas = nullptr;
  if (options != nullptr) {
    for (auto it = options->MemberBegin(); it != options->MemberEnd(); ++it) {
      if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == "cas") {
        cas = &it->value;  // the last of duplicates wins
      }
    }
  }
  if (cas != nullptr) {
    int64_t want = 0;
    if (!cas->IsNull()) {
      Result<int64_t> n = WeakInt(*cas);
      if (!n.ok()) return "error parsing check-and-set parameter";
      want = *n;
    }
    if (static_cast<uint64_t>(want) != rec.current_version) {
      return "check-and-set parameter did not match the current version";
    }
    return "";
  }
  if (config.cas_required || rec.cas_required) {
    return "check-and-set parameter required for this call";
  }
  return "";
}

bool Printable(std::string_view s) {
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7F) return false;
  }
  return true;
}

// OpenBao's parseCustomMetadata + validateCustomMetadata; false with *error set (the
// response message) when invalid. With `skip_nulls` (PATCH) null values are left out.
bool ParseCustomMetadata(const rapidjson::Value& obj, bool skip_nulls,
                         std::map<std::string, std::string>* out, std::string* error) {
  out->clear();
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (skip_nulls && it->value.IsNull()) {
      out->erase(name);
      continue;
    }
    Result<std::string> v = WeakString(it->value);
    if (!v.ok()) {
      *error = std::string(kCustomMetadataPrefix) + ": " + v.status().message();
      return false;
    }
    (*out)[name] = std::move(v).value();
  }
  std::vector<std::string> errors;
  std::string prefix(kCustomMetadataPrefix);
  if (out->size() > kMaxCustomMetadataKeys) {
    errors.push_back(prefix + ": payload must contain at most " +
                     std::to_string(kMaxCustomMetadataKeys) + " keys, provided " +
                     std::to_string(out->size()));
  } else {
    for (const auto& [k, v] : *out) {
      std::string quoted = "\"" + k + "\"";
      if (k.empty() || k.size() > kMaxCustomMetadataKeyLength) {
        errors.push_back(
            prefix + ": length of key " + quoted + " is " + std::to_string(k.size()) +
            " but must be 0 < len(key) <= " + std::to_string(kMaxCustomMetadataKeyLength));
      }
      if (v.empty() || v.size() > kMaxCustomMetadataValueLength) {
        errors.push_back(
            prefix + ": length of value for key " + quoted + " is " + std::to_string(v.size()) +
            " but must be 0 < len(value) <= " + std::to_string(kMaxCustomMetadataValueLength));
      }
      if (!Printable(k)) {
        errors.push_back(prefix + ": key " + quoted + " (" + k +
                         ") contains unprintable characters");
      }
      if (!Printable(v)) {
        errors.push_back(prefix + ": value for key " + quoted + " contains unprintable characters");
      }
    }
  }
  if (errors.empty()) return true;
  *error = MultiErrorText(errors);
  return false;
}

http::Response VersionResponse(const KvSecretRecord& rec, const KvVersion& v,
                               const std::vector<std::string>& warnings) {
  return JsonResponse(200,
                      EnvelopeJson([&](JsonWriter& w) { WriteVersionInfo(w, rec, v); }, warnings));
}

// Adds `data` as the newest version (its deletion scheduled by the mount and key settings,
// the oldest versions pruned), stores the record and answers with the new version's info.
Result<KvTxnResult> AppendVersion(Txn& txn, const std::string& key, const KvConfig& config,
                                  KvSecretRecord& rec, std::string data, int64_t now,
                                  const std::vector<std::string>& warnings) {
  int64_t deletion =
      config.DeleteVersionAfterDisabled()
          ? kNoTime
          : ScheduledDeletion(now, config.delete_version_after_s, rec.delete_version_after_s);
  KvVersion& v = AddVersion(rec, now, deletion, data, config.max_versions);
  RETURN_IF_ERROR(txn.Put(key, EncodeSecretRecord(rec)));
  return Reply(VersionResponse(rec, v, warnings));
}

}  // namespace

bool KvV2Engine::Precheck(const Call& c, http::Response* refusal) const {
  const KvFields& f = *c.fields;
  switch (c.route) {
    case Route::kData:
      if (c.op == KvOp::kWrite && c.key.empty()) {
        *refusal = BadRequest("missing path");
        return false;
      }
      if ((c.op == KvOp::kWrite || c.op == KvOp::kPatch) && !f.Has("data")) {
        *refusal = BadRequest("no data provided");
        return false;
      }
      return true;
    case Route::kDelete:
    case Route::kUndelete:
      if (f.IntSlice("versions").empty()) {
        *refusal = BadRequest("No version number provided");
        return false;
      }
      return true;
    case Route::kDestroy:
      if (f.IntSlice("versions").empty()) {
        *refusal = BadRequest("no version number provided");
        return false;
      }
      return true;
    case Route::kMetadata:
      if (c.op == KvOp::kDelete) return true;
      if (c.key.empty()) {
        *refusal = BadRequest("missing path");
        return false;
      }
      if (const rapidjson::Value* cm = f.Raw("custom_metadata")) {
        std::map<std::string, std::string> parsed;
        std::string error;
        if (!ParseCustomMetadata(*cm, c.op == KvOp::kPatch, &parsed, &error)) {
          *refusal = BadRequest(error);
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

void KvV2Engine::Write(const CallPtr& c, DoneFn done) {
  http::Response refusal;
  if (!Precheck(*c, &refusal)) return done(std::move(refusal));
  using Fn = Result<KvTxnResult> (*)(const Env&, const Call&, Txn&);
  Fn fn = nullptr;
  switch (c->route) {
    case Route::kConfig:
      fn = &WriteConfig;
      break;
    case Route::kData:
      fn = c->op == KvOp::kWrite ? &WriteData : c->op == KvOp::kPatch ? &PatchData : &DeleteLatest;
      break;
    case Route::kMetadata:
      fn = c->op == KvOp::kDelete ? &DeleteMetadata : &WriteMetadata;
      break;
    case Route::kDelete:
    case Route::kUndelete:
    case Route::kDestroy:
      fn = &ChangeVersions;
      break;
    default:
      return done(UnsupportedOperation());
  }
  std::shared_ptr<const Env> env = env_;
  RunKvWrite(
      *backend_, c->epoch, [env, c, fn](Txn& txn) { return fn(*env, *c, txn); }, std::move(done));
}

Result<KvTxnResult> KvV2Engine::WriteData(const Env& env, const Call& c, Txn& txn) {
  ASSIGN_OR_RETURN(KvConfig config, LoadConfig(txn, env.ConfigKey()));
  std::string key = env.SecretKey(c.key);
  std::string raw;
  KvSecretRecord rec;
  ASSIGN_OR_RETURN(bool found, LoadRecord(txn, key, &raw, &rec));
  (void)found;  // a new secret starts from an empty record
  if (std::string e = CheckAndSet(*c.fields, config, rec); !e.empty()) {
    return Refuse(BadRequest(e));
  }
  std::string data = SortedJson(*c.fields->Raw("data"));
  return AppendVersion(txn, key, config, rec, std::move(data), env.Now(), c.warnings);
}

Result<KvTxnResult> KvV2Engine::PatchData(const Env& env, const Call& c, Txn& txn) {
  std::string key = env.SecretKey(c.key);
  std::string raw;
  KvSecretRecord rec;
  ASSIGN_OR_RETURN(bool found, LoadRecord(txn, key, &raw, &rec));
  if (!found) return Refuse(NoBody(404));
  ASSIGN_OR_RETURN(KvConfig config, LoadConfig(txn, env.ConfigKey()));
  if (std::string e = CheckAndSet(*c.fields, config, rec); !e.empty()) {
    return Refuse(BadRequest(e));
  }
  const KvVersion* current = rec.Find(rec.current_version);
  if (current == nullptr) return Refuse(NoBody(404));
  int64_t now = env.Now();
  if (current->destroyed || current->DeletedAt(now)) {
    return Refuse(JsonResponse(
        404, EnvelopeJson([&](JsonWriter& w) { WriteVersionInfo(w, rec, *current); }, {})));
  }
  rapidjson::Document doc;
  if (!ParseStoredJson(current->data, &doc).ok() || !doc.IsObject()) {
    return Status::Corruption("kv record: version data is not a JSON object");
  }
  MergePatch(doc, *c.fields->Raw("data"), doc.GetAllocator());
  std::string data = SortedJson(doc);
  return AppendVersion(txn, key, config, rec, std::move(data), now, c.warnings);
}

Result<KvTxnResult> KvV2Engine::DeleteLatest(const Env& env, const Call& c, Txn& txn) {
  std::string key = env.SecretKey(c.key);
  std::string raw;
  KvSecretRecord rec;
  ASSIGN_OR_RETURN(bool found, LoadRecord(txn, key, &raw, &rec));
  if (!found) return Reply(NoBody(204));
  KvVersion* v = rec.Find(rec.current_version);
  int64_t now = env.Now();
  if (v == nullptr || v->destroyed || v->DeletedAt(now)) return Reply(NoBody(204));
  v->SoftDelete(now);
  RETURN_IF_ERROR(txn.Put(key, EncodeSecretRecord(rec)));
  return Reply(NoBody(204));
}

Result<KvTxnResult> KvV2Engine::ChangeVersions(const Env& env, const Call& c, Txn& txn) {
  std::string key = env.SecretKey(c.key);
  std::string raw;
  KvSecretRecord rec;
  ASSIGN_OR_RETURN(bool found, LoadRecord(txn, key, &raw, &rec));
  if (!found) return Reply(NoBody(204));
  KvConfig config;
  if (c.route == Route::kUndelete) {
    ASSIGN_OR_RETURN(config, LoadConfig(txn, env.ConfigKey()));
  }
  int64_t now = env.Now();
  for (int64_t n : c.fields->IntSlice("versions")) {
    KvVersion* v = rec.Find(static_cast<uint64_t>(n));
    if (v == nullptr || v->destroyed) continue;
    switch (c.route) {
      case Route::kDelete:
        if (!v->DeletedAt(now)) v->SoftDelete(now);
        break;
      case Route::kUndelete:
        v->soft_deleted = false;
        v->deletion_ns =
            config.DeleteVersionAfterDisabled()
                ? kNoTime
                : ScheduledDeletion(now, config.delete_version_after_s, rec.delete_version_after_s);
        break;
      default:  // kDestroy
        v->destroyed = true;
        v->data = std::string_view();
        break;
    }
  }
  RETURN_IF_ERROR(txn.Put(key, EncodeSecretRecord(rec)));
  return Reply(NoBody(204));
}

Result<KvTxnResult> KvV2Engine::WriteMetadata(const Env& env, const Call& c, Txn& txn) {
  const KvFields& f = *c.fields;
  bool patch = c.op == KvOp::kPatch;
  bool changes = f.Has("max_versions") || f.Has("cas_required") || f.Has("delete_version_after") ||
                 f.Has("custom_metadata") || f.Has("metadata_cas_required");
  // OpenBao's fast path: a write that changes nothing succeeds without touching storage.
  if (!patch && !changes) return Reply(NoBody(204));
  ASSIGN_OR_RETURN(KvConfig config, LoadConfig(txn, env.ConfigKey()));
  std::string key = env.SecretKey(c.key);
  std::string raw;
  KvSecretRecord rec;
  ASSIGN_OR_RETURN(bool found, LoadRecord(txn, key, &raw, &rec));
  if (patch && !found) return Refuse(NoBody(404));
  if (patch && !changes) return Reply(NoContentOrWarnings(c.warnings));

  // Check-and-set on the metadata itself (OpenBao's metadata_cas / metadata_cas_required).
  if (f.Has("metadata_cas")) {
    if (static_cast<uint64_t>(f.Int("metadata_cas")) != rec.current_metadata_version) {
      return Refuse(
          BadRequest("metadata check-and-set parameter does not match the current version"));
    }
  } else if (config.metadata_cas_required || rec.metadata_cas_required) {
    return Refuse(BadRequest("metadata check-and-set parameter required for this call"));
  }

  std::vector<std::string> warnings;
  if (f.Has("cas_required") && config.cas_required && !f.Bool("cas_required")) {
    warnings.emplace_back(kCasWarning);
  }
  if (f.Has("metadata_cas_required") && config.metadata_cas_required &&
      !f.Bool("metadata_cas_required")) {
    warnings.emplace_back(kMetadataCasWarning);
  }
  if (!found) rec.created_ns = rec.updated_ns = env.Now();
  if (f.Has("max_versions")) rec.max_versions = static_cast<uint32_t>(f.Int("max_versions"));
  if (f.Has("cas_required")) rec.cas_required = f.Bool("cas_required");
  if (f.Has("metadata_cas_required")) {
    rec.metadata_cas_required = f.Bool("metadata_cas_required");
  }
  if (f.Has("delete_version_after")) {
    rec.delete_version_after_s = f.DurationSeconds("delete_version_after");
  }
  if (const rapidjson::Value* cm = f.Raw("custom_metadata")) {
    std::map<std::string, std::string> merged;
    if (patch) {
      // A JSON merge patch of the map: null removes a key, anything else sets it.
      merged.insert(rec.custom_metadata.begin(), rec.custom_metadata.end());
      for (auto it = cm->MemberBegin(); it != cm->MemberEnd(); ++it) {
        std::string name(it->name.GetString(), it->name.GetStringLength());
        if (it->value.IsNull()) {
          merged.erase(name);
          continue;
        }
        Result<std::string> v = WeakString(it->value);
        if (!v.ok()) return Refuse(BadRequest(v.status().message()));
        merged[name] = std::move(v).value();
      }
    } else {
      std::string error;
      if (!ParseCustomMetadata(*cm, false, &merged, &error)) return Refuse(BadRequest(error));
    }
    rec.custom_metadata.assign(merged.begin(), merged.end());
  }
  ++rec.current_metadata_version;
  RETURN_IF_ERROR(txn.Put(key, EncodeSecretRecord(rec)));
  warnings.insert(warnings.end(), c.warnings.begin(), c.warnings.end());
  return Reply(NoContentOrWarnings(warnings));
}

Result<KvTxnResult> KvV2Engine::DeleteMetadata(const Env& env, const Call& c, Txn& txn) {
  RETURN_IF_ERROR(txn.Delete(env.SecretKey(c.key)));
  return Reply(NoBody(204));
}

Result<KvTxnResult> KvV2Engine::WriteConfig(const Env& env, const Call& c, Txn& txn) {
  const KvFields& f = *c.fields;
  if (!f.Has("max_versions") && !f.Has("cas_required") && !f.Has("delete_version_after") &&
      !f.Has("metadata_cas_required")) {
    return Reply(NoBody(204));
  }
  ASSIGN_OR_RETURN(KvConfig config, LoadConfig(txn, env.ConfigKey()));
  if (f.Has("max_versions")) config.max_versions = static_cast<uint32_t>(f.Int("max_versions"));
  if (f.Has("cas_required")) config.cas_required = f.Bool("cas_required");
  if (f.Has("metadata_cas_required")) {
    config.metadata_cas_required = f.Bool("metadata_cas_required");
  }
  if (f.Has("delete_version_after")) {
    int64_t dva = f.DurationSeconds("delete_version_after");
    config.delete_version_after_s = dva < 0 ? -1 : dva;
  }
  RETURN_IF_ERROR(txn.Put(env.ConfigKey(), EncodeConfig(config)));
  return Reply(NoBody(204));
}

}  // namespace halo::kv
