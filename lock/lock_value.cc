#include "lock/lock_value.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "lock/lock_backend.h"

namespace halo::lock {

Result<std::string> EncodeLockValue(const LockValue& v) {
  if (v.api_addr.empty()) return Status::InvalidArgument("lock value: api_addr is empty");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("api_addr");
  w.String(v.api_addr.data(), static_cast<rapidjson::SizeType>(v.api_addr.size()));
  if (!v.cluster_addr.empty()) {
    w.Key("cluster_addr");
    w.String(v.cluster_addr.data(), static_cast<rapidjson::SizeType>(v.cluster_addr.size()));
  }
  if (!v.node_id.empty()) {
    w.Key("node_id");
    w.String(v.node_id.data(), static_cast<rapidjson::SizeType>(v.node_id.size()));
  }
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  RETURN_IF_ERROR(ValidateLockValue(out));
  return out;
}

Result<LockValue> ParseLockValue(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());  // no recursion
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("lock value is not a JSON object");
  }
  LockValue v;
  auto get = [&doc](const char* key, std::string* out) -> Status {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd()) return Status::Ok();
    if (!it->value.IsString()) {
      return Status::InvalidArgument(std::string("lock value: ") + key + " is not a string");
    }
    out->assign(it->value.GetString(), it->value.GetStringLength());
    return Status::Ok();
  };
  RETURN_IF_ERROR(get("api_addr", &v.api_addr));
  RETURN_IF_ERROR(get("node_id", &v.node_id));
  RETURN_IF_ERROR(get("cluster_addr", &v.cluster_addr));
  if (v.api_addr.empty()) return Status::InvalidArgument("lock value: api_addr missing");
  return v;
}

}  // namespace halo::lock
