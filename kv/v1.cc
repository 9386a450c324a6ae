#include "kv/v1.h"

#include <memory>

#include "kv/fields.h"
#include "kv/json.h"

namespace halo::kv {
namespace {

class KvV1Engine final : public SecretsEngine {
 public:
  explicit KvV1Engine(KvEngineOptions options)
      : backend_(options.backend), prefix_(std::move(options.storage_prefix)) {}

  std::string_view Type() const override { return "kv"; }
  int Version() const override { return 1; }
  void Handle(const KvRequest& req, DoneFn done) override;

 private:
  http::Response Read(const std::string& path, const std::vector<std::string>& warnings) const;
  http::Response List(const std::string& path, bool recursive,
                      const std::vector<std::string>& warnings) const;

  Backend* backend_;
  std::string prefix_;
};

// The lease TTL a v1 read reports: the stored "ttl" or "lease" when it parses as a duration.
int64_t LeaseSeconds(const rapidjson::Value& data) {
  for (const char* name : {"ttl", "lease"}) {
    auto it = data.FindMember(name);
    if (it == data.MemberEnd()) continue;
    Result<int64_t> secs = WeakDurationSecond(it->value, true);
    return secs.ok() ? *secs : kKvV1DefaultLeaseSeconds;
  }
  return kKvV1DefaultLeaseSeconds;
}

void KvV1Engine::Handle(const KvRequest& req, DoneFn done) {
  if (req.op == KvOp::kPatch) {
    http::Response refusal;
    if (!CheckPatchContentType(req.content_type, &refusal)) return done(std::move(refusal));
    return done(UnsupportedOperation());
  }
  std::string path = req.path;
  if ((req.op == KvOp::kList || req.op == KvOp::kScan) && !path.empty() && path.back() != '/') {
    path += '/';
  }
  // OpenBao's pattern "(?P<path>.*)" does not match a newline: no route.
  if (path.find('\n') != std::string::npos) {
    return done(ErrorResponse(404, {MultiErrorText({"unsupported path"})}));
  }

  std::shared_ptr<rapidjson::Document> input = std::make_shared<rapidjson::Document>();
  if (req.op == KvOp::kWrite) {
    Result<rapidjson::Document> body = ParseJsonBody(req.body);
    if (!body.ok()) return done(BadRequest("error parsing JSON"));
    *input = std::move(body).value();
  } else {
    *input = QueryToJson(req.query);
  }
  KvFields fields(*input, {{"path", FieldType::kString}});
  if (Status st = fields.Validate(); !st.ok()) return done(BadRequest(st.message()));
  std::vector<std::string> warnings;
  if (std::vector<std::string> ignored = fields.Ignored(); !ignored.empty()) {
    warnings.push_back(IgnoredWarning(ignored));
  }
  if (fields.Has("path")) warnings.push_back(ReplacedWarning());

  switch (req.op) {
    case KvOp::kRead:
      return done(Read(path, warnings));
    case KvOp::kList:
    case KvOp::kScan:
      return done(List(path, req.op == KvOp::kScan, warnings));
    case KvOp::kWrite: {
      if (path.empty()) return done(BadRequest("missing path"));
      if (input->MemberCount() == 0) return done(BadRequest("missing data fields"));
      std::string key = prefix_ + path;
      auto value = std::make_shared<std::string>(SortedJson(*input));
      return RunKvWrite(
          *backend_, req.epoch,
          [key, value](Txn& txn) -> Result<KvTxnResult> {
            RETURN_IF_ERROR(txn.Put(key, *value));
            return KvTxnResult{NoBody(204), true};
          },
          std::move(done));
    }
    case KvOp::kDelete: {
      std::string key = prefix_ + path;
      return RunKvWrite(
          *backend_, req.epoch,
          [key](Txn& txn) -> Result<KvTxnResult> {
            RETURN_IF_ERROR(txn.Delete(key));
            return KvTxnResult{NoBody(204), true};
          },
          std::move(done));
    }
    case KvOp::kPatch:
      break;
  }
  done(UnsupportedOperation());
}

http::Response KvV1Engine::Read(const std::string& path,
                                const std::vector<std::string>& warnings) const {
  Result<std::string> raw = backend_->Get(prefix_ + path);
  if (!raw.ok()) {
    if (raw.status().IsNotFound() || raw.status().code() == Status::Code::kInvalidArgument) {
      return NotFound();
    }
    return StorageFailure(raw.status(), "read failed: ");
  }
  rapidjson::Document data;
  if (!ParseStoredJson(*raw, &data).ok() || !data.IsObject()) {
    return InternalError("json decoding failed: stored value is not a JSON object");
  }
  int64_t lease = LeaseSeconds(data);
  return JsonResponse(
      200, EnvelopeJson(
               [&](JsonWriter& w) { w.RawValue(raw->data(), raw->size(), rapidjson::kObjectType); },
               warnings, lease));
}

http::Response KvV1Engine::List(const std::string& path, bool recursive,
                                const std::vector<std::string>& warnings) const {
  std::string prefix = prefix_ + path;
  Result<std::vector<std::string>> keys = backend_->List(prefix);
  if (!keys.ok()) {
    if (keys.status().code() == Status::Code::kInvalidArgument) return NotFound();
    return StorageFailure(keys.status());
  }
  std::vector<std::string> entries = ListEntries(*keys, prefix, recursive);
  if (entries.empty()) return NotFound();
  return JsonResponse(200, EnvelopeJson(
                               [&](JsonWriter& w) {
                                 w.StartObject();
                                 w.Key("keys");
                                 w.StartArray();
                                 for (const auto& e : entries) {
                                   w.String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
                                 }
                                 w.EndArray();
                                 w.EndObject();
                               },
                               warnings));
}

}  // namespace

std::unique_ptr<SecretsEngine> NewKvV1Engine(KvEngineOptions options) {
  return std::make_unique<KvV1Engine>(std::move(options));
}

}  // namespace halo::kv
