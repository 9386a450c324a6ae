#include "kv/v2.h"

#include <algorithm>

#include "kv/time.h"
#include "kv/v2_engine.h"

namespace halo::kv {
namespace {

void Key(JsonWriter& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void Str(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Writes the secret data stored as JSON text (or null when there is none).
void RawObject(JsonWriter& w, std::string_view json) {
  if (json.empty()) {
    w.Null();
  } else {
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
}

// Subkeys of `obj` with leaves (and empty maps, and maps at max_depth) replaced by null.
void WriteSubkeys(JsonWriter& w, const rapidjson::Value& obj, int64_t depth, int64_t max_depth) {
  w.StartObject();
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    w.Key(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& v = it->value;
    if (v.IsObject() && v.MemberCount() > 0 && (max_depth == 0 || depth + 1 <= max_depth)) {
      WriteSubkeys(w, v, depth + 1, max_depth);
    } else {
      w.Null();
    }
  }
  w.EndObject();
}

}  // namespace

std::string TimeText(int64_t unix_nanos) {
  return unix_nanos == kNoTime ? std::string() : FormatRfc3339Nano(unix_nanos);
}

void WriteCustomMetadata(JsonWriter& w, const KvSecretRecord& rec) {
  if (rec.custom_metadata.empty()) {
    w.Null();
    return;
  }
  w.StartObject();
  for (const auto& [k, v] : rec.custom_metadata) {
    Key(w, k);
    Str(w, v);
  }
  w.EndObject();
}

void WriteVersionInfo(JsonWriter& w, const KvSecretRecord& rec, const KvVersion& v) {
  w.StartObject();
  Key(w, "created_time");
  Str(w, TimeText(v.created_ns));
  Key(w, "custom_metadata");
  WriteCustomMetadata(w, rec);
  Key(w, "deletion_time");
  Str(w, TimeText(v.deletion_ns));
  Key(w, "destroyed");
  w.Bool(v.destroyed);
  Key(w, "version");
  w.Uint64(v.number);
  w.EndObject();
}

void WriteKeyMetadata(JsonWriter& w, const KvSecretRecord& rec) {
  w.StartObject();
  Key(w, "cas_required");
  w.Bool(rec.cas_required);
  Key(w, "created_time");
  Str(w, TimeText(rec.created_ns));
  Key(w, "current_metadata_version");
  w.Uint64(rec.current_metadata_version);
  Key(w, "current_version");
  w.Uint64(rec.current_version);
  Key(w, "custom_metadata");
  WriteCustomMetadata(w, rec);
  Key(w, "delete_version_after");
  Str(w, FormatGoDurationSeconds(rec.delete_version_after_s));
  Key(w, "max_versions");
  w.Uint(rec.max_versions);
  Key(w, "metadata_cas_required");
  w.Bool(rec.metadata_cas_required);
  Key(w, "oldest_version");
  w.Uint64(rec.oldest_version);
  Key(w, "updated_time");
  Str(w, TimeText(rec.updated_ns));
  Key(w, "versions");
  // Go prints map keys sorted as strings: "1", "10", "2".
  std::vector<std::pair<std::string, const KvVersion*>> versions;
  versions.reserve(rec.versions.size());
  for (const auto& v : rec.versions) versions.emplace_back(std::to_string(v.number), &v);
  std::sort(versions.begin(), versions.end());
  w.StartObject();
  for (const auto& [name, v] : versions) {
    Key(w, name);
    w.StartObject();
    Key(w, "created_time");
    Str(w, TimeText(v->created_ns));
    Key(w, "deletion_time");
    Str(w, TimeText(v->deletion_ns));
    Key(w, "destroyed");
    w.Bool(v->destroyed);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
}

std::unique_ptr<SecretsEngine> NewKvV2Engine(KvEngineOptions options) {
  return std::make_unique<KvV2Engine>(std::move(options));
}

KvV2Engine::KvV2Engine(KvEngineOptions options)
    : backend_(options.backend),
      env_(std::make_shared<const Env>(
          Env{std::move(options.storage_prefix),
              options.clock != nullptr ? options.clock : RealClock()})) {}

KvV2Engine::Route KvV2Engine::RouteOf(std::string_view path, std::string* key) {
  if (path == "config") return Route::kConfig;
  static constexpr std::pair<std::string_view, Route> kPrefixed[] = {
      {"data/", Route::kData},
      {"metadata/", Route::kMetadata},
      {"detailed-metadata/", Route::kDetailedMetadata},
      {"destroy/", Route::kDestroy},
      {"subkeys/", Route::kSubkeys},
      {"delete/", Route::kDelete},
      {"undelete/", Route::kUndelete},
  };
  for (const auto& [prefix, route] : kPrefixed) {
    if (path.substr(0, prefix.size()) == prefix) {
      std::string_view rest = path.substr(prefix.size());
      // OpenBao's patterns are "(?P<path>.*)" and '.' does not match a newline.
      if (rest.find('\n') != std::string_view::npos) return Route::kInvalid;
      *key = std::string(rest);
      return route;
    }
  }
  return Route::kInvalid;
}

bool KvV2Engine::Supports(Route route, KvOp op) {
  switch (route) {
    case Route::kConfig:
      return op == KvOp::kRead || op == KvOp::kWrite;
    case Route::kData:
      return op == KvOp::kRead || op == KvOp::kWrite || op == KvOp::kPatch || op == KvOp::kDelete;
    case Route::kMetadata:
      return true;
    case Route::kDetailedMetadata:
      return op == KvOp::kList || op == KvOp::kScan;
    case Route::kDestroy:
    case Route::kDelete:
    case Route::kUndelete:
      return op == KvOp::kWrite;
    case Route::kSubkeys:
      return op == KvOp::kRead;
    case Route::kInvalid:
      return true;
  }
  return false;
}

std::unique_ptr<KvFields> KvV2Engine::FieldsFor(Route route, const rapidjson::Value& input) {
  using T = FieldType;
  std::vector<FieldSpec> schema;  // OpenBao's field schema of the path
  switch (route) {
    case Route::kConfig:
      schema = {{"max_versions", T::kInt},
                {"cas_required", T::kBool},
                {"metadata_cas_required", T::kBool},
                {"delete_version_after", T::kSignedDurationSecond}};
      break;
    case Route::kData:
      schema = {
          {"path", T::kString}, {"version", T::kInt}, {"options", T::kMap}, {"data", T::kMap}};
      break;
    case Route::kMetadata:
      schema = {{"path", T::kString},
                {"cas_required", T::kBool},
                {"max_versions", T::kInt},
                {"delete_version_after", T::kDurationSecond},
                {"custom_metadata", T::kMap},
                {"metadata_cas_required", T::kBool},
                {"metadata_cas", T::kInt},
                {"after", T::kString},
                {"limit", T::kInt}};
      break;
    case Route::kDetailedMetadata:
      schema = {{"path", T::kString}, {"after", T::kString}, {"limit", T::kInt}};
      break;
    case Route::kDestroy:
    case Route::kDelete:
    case Route::kUndelete:
      schema = {{"path", T::kString}, {"versions", T::kCommaIntSlice}};
      break;
    case Route::kSubkeys:
      schema = {{"path", T::kString}, {"depth", T::kInt}, {"version", T::kInt}};
      break;
    case Route::kInvalid:
      break;
  }
  return std::make_unique<KvFields>(input, std::move(schema));
}

void KvV2Engine::Handle(const KvRequest& req, DoneFn done) {
  if (req.op == KvOp::kPatch) {
    http::Response refusal;
    if (!CheckPatchContentType(req.content_type, &refusal)) return done(std::move(refusal));
  }
  auto c = std::make_shared<Call>();
  c->op = req.op;
  c->epoch = req.epoch;
  c->path = req.path;
  if ((req.op == KvOp::kList || req.op == KvOp::kScan) && !c->path.empty() &&
      c->path.back() != '/') {
    c->path += '/';
  }
  if (req.op == KvOp::kWrite || req.op == KvOp::kPatch) {
    Result<rapidjson::Document> body = ParseJsonBody(req.body);
    if (!body.ok()) return done(BadRequest("error parsing JSON"));
    c->input = std::move(body).value();
  } else {
    c->input = QueryToJson(req.query);
  }
  c->route = RouteOf(c->path, &c->key);
  if (c->route == Route::kInvalid) return done(InvalidPath(*c));
  if (!Supports(c->route, c->op)) return done(UnsupportedOperation());

  c->fields = FieldsFor(c->route, c->input);
  if (Status st = c->fields->Validate(); !st.ok()) return done(BadRequest(st.message()));
  std::vector<std::string> ignored = c->fields->Ignored();
  if (!ignored.empty()) c->warnings.push_back(IgnoredWarning(ignored));
  if (c->route != Route::kConfig && c->fields->Has("path")) {
    c->warnings.push_back(ReplacedWarning());
  }

  if (Writes(req)) return Write(c, std::move(done));
  switch (c->route) {
    case Route::kConfig:
      return done(ReadConfig(*c));
    case Route::kData:
      return done(ReadData(*c));
    case Route::kSubkeys:
      return done(ReadSubkeys(*c));
    case Route::kMetadata:
      return done(c->op == KvOp::kRead ? ReadMetadata(*c) : ListMetadata(*c));
    case Route::kDetailedMetadata:
      return done(ListMetadata(*c));
    default:
      return done(UnsupportedOperation());
  }
}

http::Response KvV2Engine::InvalidPath(const Call& c) const {
  std::string warning;
  if (c.path == "metadata" || c.path == "data" || c.path == "delete" || c.path == "undelete" ||
      c.path == "destroy") {
    warning = "Non-listing operations on the root of a K/V v2 mount are not supported.";
  } else {
    // The CLI's verb for the operation: "put" for a write, "get" for a read, else the
    // operation's name.
    const char* sub = c.op == KvOp::kWrite ? "put" : c.op == KvOp::kRead ? "get" : KvOpName(c.op);
    warning = std::string(
                  "Invalid path for a versioned K/V secrets engine. See the API docs for the "
                  "appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv ") +
              sub + "' for this operation.";
  }
  return JsonResponse(404, EnvelopeJson([](JsonWriter& w) { w.Null(); }, {warning}));
}

Status KvV2Engine::LoadCommitted(std::string_view key, std::string* raw, KvSecretRecord* rec,
                                 bool* found) const {
  *found = false;
  Result<std::string> got = backend_->Get(env_->SecretKey(key));
  if (!got.ok()) {
    // A key the backend cannot hold (too long) cannot exist either.
    if (got.status().IsNotFound() || got.status().code() == Status::Code::kInvalidArgument) {
      return Status::Ok();
    }
    return got.status();
  }
  *raw = std::move(got).value();
  RETURN_IF_ERROR(DecodeSecretRecord(*raw, rec));
  *found = true;
  return Status::Ok();
}

bool KvV2Engine::LoadForRead(const Call& c, std::string* raw, KvSecretRecord* rec,
                             http::Response* answer) const {
  bool found = false;
  if (Status st = LoadCommitted(c.key, raw, rec, &found); !st.ok()) {
    *answer = StorageFailure(st);
    return false;
  }
  if (!found) *answer = NotFound();
  return found;
}

const KvVersion* KvV2Engine::ReadVersion(const Call& c, const KvSecretRecord& rec,
                                         bool* gone) const {
  int64_t want = c.fields->Int("version");
  const KvVersion* v = rec.Find(want > 0 ? static_cast<uint64_t>(want) : rec.current_version);
  if (v != nullptr) *gone = v->destroyed || v->DeletedAt(env_->Now());
  return v;
}

http::Response KvV2Engine::ReadAnswer(const Call& c, bool gone,
                                      const std::function<void(JsonWriter&)>& write_data) {
  return JsonResponse(gone ? 404 : 200,
                      EnvelopeJson(write_data, gone ? std::vector<std::string>{} : c.warnings));
}

http::Response KvV2Engine::ReadData(const Call& c) const {
  std::string raw;  // rec's version data points into it
  KvSecretRecord rec;
  http::Response answer;
  if (!LoadForRead(c, &raw, &rec, &answer)) return answer;
  bool gone = false;
  const KvVersion* v = ReadVersion(c, rec, &gone);
  if (v == nullptr) return NotFound();
  return ReadAnswer(c, gone, [&](JsonWriter& w) {
    w.StartObject();
    Key(w, "data");
    RawObject(w, gone ? std::string_view() : v->data);
    Key(w, "metadata");
    WriteVersionInfo(w, rec, *v);
    w.EndObject();
  });
}

http::Response KvV2Engine::ReadSubkeys(const Call& c) const {
  std::string raw;  // rec's version data points into it
  KvSecretRecord rec;
  http::Response answer;
  if (!LoadForRead(c, &raw, &rec, &answer)) return answer;
  bool gone = false;
  const KvVersion* v = ReadVersion(c, rec, &gone);
  if (v == nullptr) return NotFound();
  rapidjson::Document data;
  if (!gone) {
    if (!ParseStoredJson(v->data, &data).ok() || !data.IsObject()) {
      return InternalError("kv record: version data is not a JSON object");
    }
  }
  int64_t depth = c.fields->Int("depth");
  return ReadAnswer(c, gone, [&](JsonWriter& w) {
    w.StartObject();
    Key(w, "metadata");
    WriteVersionInfo(w, rec, *v);
    Key(w, "subkeys");
    if (gone) {
      w.Null();
    } else {
      WriteSubkeys(w, data, 1, depth < 0 ? 0 : depth);
    }
    w.EndObject();
  });
}

http::Response KvV2Engine::ReadMetadata(const Call& c) const {
  std::string raw;  // rec's version data points into it
  KvSecretRecord rec;
  http::Response answer;
  if (!LoadForRead(c, &raw, &rec, &answer)) return answer;
  return JsonResponse(200,
                      EnvelopeJson([&](JsonWriter& w) { WriteKeyMetadata(w, rec); }, c.warnings));
}

http::Response KvV2Engine::ListMetadata(const Call& c) const {
  std::string prefix = env_->SecretKey(c.key);
  Result<std::vector<std::string>> keys = backend_->List(prefix);
  if (!keys.ok()) {
    if (keys.status().code() == Status::Code::kInvalidArgument) return NotFound();
    return StorageFailure(keys.status());
  }
  std::vector<std::string> entries = ListEntries(*keys, prefix, c.op == KvOp::kScan);
  PageEntries(entries, c.fields->String("after"), c.fields->Int("limit"));
  if (entries.empty()) return NotFound();

  bool detailed = c.route == Route::kDetailedMetadata;
  std::vector<std::pair<std::string, std::string>> info;  // entry -> metadata JSON
  if (detailed) {
    for (const auto& e : entries) {
      if (e.back() == '/') continue;
      std::string raw;
      KvSecretRecord rec;
      bool found = false;
      if (Status st = LoadCommitted(c.key + e, &raw, &rec, &found); !st.ok()) {
        return StorageFailure(st);
      }
      if (!found) continue;  // deleted since the listing
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      WriteKeyMetadata(w, rec);
      info.emplace_back(e, std::string(buf.GetString(), buf.GetSize()));
    }
    std::sort(info.begin(), info.end());
  }
  std::string body = EnvelopeJson(
      [&](JsonWriter& w) {
        w.StartObject();
        if (detailed) {
          Key(w, "key_info");
          w.StartObject();
          for (const auto& [name, json] : info) {
            Key(w, name);
            w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
          }
          w.EndObject();
        }
        Key(w, "keys");
        w.StartArray();
        for (const auto& e : entries) Str(w, e);
        w.EndArray();
        w.EndObject();
      },
      c.warnings);
  return JsonResponse(200, std::move(body));
}

http::Response KvV2Engine::ReadConfig(const Call& c) const {
  KvConfig config;
  Result<std::string> raw = backend_->Get(env_->ConfigKey());
  if (raw.ok()) {
    if (Status st = DecodeConfig(*raw, &config); !st.ok()) return InternalError(st.ToString());
  } else if (!raw.status().IsNotFound()) {
    return StorageFailure(raw.status());
  }
  std::string body = EnvelopeJson(
      [&](JsonWriter& w) {
        w.StartObject();
        Key(w, "cas_required");
        w.Bool(config.cas_required);
        Key(w, "delete_version_after");
        Str(w, FormatGoDurationSeconds(config.delete_version_after_s));
        Key(w, "max_versions");
        w.Uint(config.max_versions);
        Key(w, "metadata_cas_required");
        w.Bool(config.metadata_cas_required);
        w.EndObject();
      },
      c.warnings);
  return JsonResponse(200, std::move(body));
}

}  // namespace halo::kv
