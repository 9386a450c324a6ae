#include "kv/json.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <random>

#include "common/http/error_body.h"
#include "common/http/retry_policy.h"
#include "common/ids.h"

namespace halo::kv {

int JsonDepth(const rapidjson::Value& value) {
  // Iterative, so that it is safe on any input.
  std::vector<std::pair<const rapidjson::Value*, int>> stack{{&value, 1}};
  int max_depth = 0;
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, depth);
    if (v->IsObject()) {
      for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
        stack.emplace_back(&it->value, depth + 1);
      }
    } else if (v->IsArray()) {
      for (const auto& e : v->GetArray()) stack.emplace_back(&e, depth + 1);
    }
  }
  return max_depth;
}

Status ParseStoredJson(std::string_view text, rapidjson::Document* doc) {
  doc->Parse<kJsonParseFlags>(text.data(), text.size());
  if (doc->HasParseError()) {
    return Status::InvalidArgument(std::string("error parsing JSON: ") +
                                   rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return Status::Ok();
}

Result<rapidjson::Document> ParseJsonBody(std::string_view body) {
  rapidjson::Document doc;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    doc.SetObject();
    return doc;
  }
  RETURN_IF_ERROR(ParseStoredJson(body, &doc));
  if (JsonDepth(doc) > kMaxJsonDepth) {
    return Status::InvalidArgument("error parsing JSON: nested too deeply");
  }
  if (doc.IsNull()) {
    doc.SetObject();
    return doc;
  }
  if (!doc.IsObject()) return Status::InvalidArgument("error parsing JSON: not an object");
  return doc;
}

rapidjson::Document QueryToJson(const http::QueryParams& query) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& alloc = doc.GetAllocator();
  for (const auto& [name, value] : query.pairs()) {
    rapidjson::Value v(value.data(), static_cast<rapidjson::SizeType>(value.size()), alloc);
    auto it = doc.FindMember(rapidjson::StringRef(name.data(), name.size()));
    if (it == doc.MemberEnd()) {
      doc.AddMember(
          rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), alloc), v,
          alloc);
    } else {
      if (!it->value.IsArray()) {
        rapidjson::Value arr(rapidjson::kArrayType);
        arr.PushBack(it->value, alloc);
        it->value = arr;
      }
      it->value.PushBack(v, alloc);
    }
  }
  return doc;
}

void WriteSortedJson(const rapidjson::Value& value, JsonWriter& writer) {
  if (value.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    members.reserve(value.MemberCount());
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) members.push_back(&*it);
    auto name = [](const rapidjson::Value::Member* m) {
      return std::string_view(m->name.GetString(), m->name.GetStringLength());
    };
    std::stable_sort(members.begin(), members.end(),
                     [&](auto* a, auto* b) { return name(a) < name(b); });
    writer.StartObject();
    for (size_t i = 0; i < members.size(); ++i) {
      // Among equal names keep the last one (stable sort keeps input order).
      if (i + 1 < members.size() && name(members[i]) == name(members[i + 1])) continue;
      writer.Key(members[i]->name.GetString(), members[i]->name.GetStringLength());
      WriteSortedJson(members[i]->value, writer);
    }
    writer.EndObject();
  } else if (value.IsArray()) {
    writer.StartArray();
    for (const auto& v : value.GetArray()) WriteSortedJson(v, writer);
    writer.EndArray();
  } else {
    value.Accept(writer);
  }
}

std::string SortedJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  JsonWriter writer(buf);
  WriteSortedJson(value, writer);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string JsonNumberText(const rapidjson::Value& number) {
  rapidjson::StringBuffer buf;
  JsonWriter writer(buf);
  number.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

void MergePatch(rapidjson::Value& target, const rapidjson::Value& patch,
                rapidjson::Document::AllocatorType& alloc) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, alloc);
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (auto it = patch.MemberBegin(); it != patch.MemberEnd(); ++it) {
    if (it->value.IsNull()) {
      target.RemoveMember(it->name);
      continue;
    }
    auto found = target.FindMember(it->name);
    if (found == target.MemberEnd()) {
      rapidjson::Value fresh;
      MergePatch(fresh, it->value, alloc);
      target.AddMember(rapidjson::Value(it->name, alloc), fresh, alloc);
    } else {
      MergePatch(found->value, it->value, alloc);
    }
  }
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  return UuidText(hi, lo);
}

std::string MultiErrorText(const std::vector<std::string>& errors) {
  std::string out = std::to_string(errors.size()) +
                    (errors.size() == 1 ? " error occurred:\n" : " errors occurred:\n");
  for (const auto& e : errors) out += "\t* " + e + "\n";
  out += "\n";
  return out;
}

std::string EnvelopeJson(const std::function<void(JsonWriter&)>& write_data,
                         const std::vector<std::string>& warnings, int64_t lease_duration) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("request_id");
  std::string id = NewRequestId();
  w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  w.Key("lease_id");
  w.String("");
  w.Key("renewable");
  w.Bool(false);
  w.Key("lease_duration");
  w.Int64(lease_duration);
  w.Key("data");
  write_data(w);
  w.Key("wrap_info");
  w.Null();
  w.Key("warnings");
  if (warnings.empty()) {
    w.Null();
  } else {
    w.StartArray();
    for (const auto& s : warnings) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  }
  w.Key("auth");
  w.Null();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

http::Response JsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.Add("Cache-Control", "no-store");
  if (!body.empty()) {
    r.headers.Add("Content-Type", "application/json");
    r.body = std::move(body);
  }
  return r;
}

http::Response ErrorResponse(int status, const std::vector<std::string>& errors) {
  return JsonResponse(status, http::ErrorBody(errors));
}

http::Response UnsupportedOperation() {
  return ErrorResponse(405, {MultiErrorText({"unsupported operation"})});
}

http::Response InternalError(std::string_view message) {
  return ErrorResponse(500, {MultiErrorText({std::string(message)})});
}

http::Response StorageFailure(const Status& st, std::string_view context) {
  if (st.code() != Status::Code::kUnavailable) {
    return InternalError(std::string(context) + st.ToString());
  }
  http::Response r = ErrorResponse(503, {MultiErrorText({std::string(context) + st.ToString()})});
  r.headers.Set(http::kNotExecutedHeader, "1");
  r.headers.Set("Retry-After", "1");
  return r;
}

http::Response NotActive() { return ErrorResponse(503, {std::string(kNotActiveMessage)}); }

bool IsNotActive(const http::Response& response) {
  return response.status == 503 && response.body == NotActive().body;
}

http::Response NoBody(int status) { return JsonResponse(status, ""); }

}  // namespace halo::kv
