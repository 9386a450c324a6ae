#include "router/health_info.h"

#include <rapidjson/document.h>

namespace halo::router {

const char* NodeRoleName(NodeRole r) {
  switch (r) {
    case NodeRole::kUnknown:
      return "unknown";
    case NodeRole::kActive:
      return "active";
    case NodeRole::kStandby:
      return "standby";
    case NodeRole::kSealed:
      return "sealed";
    case NodeRole::kUninitialized:
      return "uninitialized";
  }
  return "unknown";
}

namespace {

NodeRole RoleOf(const HealthInfo& h) {
  if (!h.initialized) return NodeRole::kUninitialized;
  if (h.sealed) return NodeRole::kSealed;
  if (h.standby) return NodeRole::kStandby;
  return NodeRole::kActive;
}

void ReadBool(const rapidjson::Value& obj, const char* key, bool* out, bool* found) {
  auto it = obj.FindMember(key);
  if (it != obj.MemberEnd() && it->value.IsBool()) {
    *out = it->value.GetBool();
    *found = true;
  }
}

}  // namespace

Result<HealthInfo> ParseHealthResponse(int status, std::string_view body) {
  HealthInfo h;
  h.status = status;
  bool known_code = true;
  switch (status) {
    case 200:
      h.initialized = true, h.sealed = false, h.standby = false;
      break;
    case 429:
      h.initialized = true, h.sealed = false, h.standby = true;
      break;
    case 503:
      h.initialized = true, h.sealed = true, h.standby = true;
      break;
    case 501:
      h.initialized = false, h.sealed = true, h.standby = true;
      break;
    default:
      known_code = false;
  }
  bool found_any = false;
  if (!body.empty()) {
    rapidjson::Document doc;
    // Iterative: a node's body (up to the probe's 1 MiB) cannot exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (!doc.HasParseError() && doc.IsObject()) {
      bool fi = false, fs = false, fb = false;
      ReadBool(doc, "initialized", &h.initialized, &fi);
      ReadBool(doc, "sealed", &h.sealed, &fs);
      ReadBool(doc, "standby", &h.standby, &fb);
      found_any = fi && fs && fb;
    }
  }
  if (!known_code && !found_any) {
    return Status::InvalidArgument("sys/health answered " + std::to_string(status) +
                                   " without a health body");
  }
  h.role = RoleOf(h);
  return h;
}

Result<LeaderInfo> ParseLeaderResponse(int status, std::string_view body) {
  if (status != 200) {
    return Status::Unavailable("sys/leader answered " + std::to_string(status));
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());  // no recursion
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("sys/leader: body is not a JSON object");
  }
  LeaderInfo l;
  auto it = doc.FindMember("ha_enabled");
  if (it != doc.MemberEnd() && it->value.IsBool()) l.ha_enabled = it->value.GetBool();
  it = doc.FindMember("is_self");
  if (it != doc.MemberEnd() && it->value.IsBool()) l.is_self = it->value.GetBool();
  it = doc.FindMember("leader_address");
  if (it != doc.MemberEnd() && it->value.IsString()) {
    l.leader_address.assign(it->value.GetString(), it->value.GetStringLength());
  }
  it = doc.FindMember("index");
  if (it != doc.MemberEnd()) {
    if (it->value.IsInt64()) {
      l.index = it->value.GetInt64();
    } else if (it->value.IsUint64()) {
      l.index = static_cast<int64_t>(it->value.GetUint64() >> 1);
    }
  }
  return l;
}

std::string AuthorityOf(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url = url.substr(scheme + 3);
  size_t end = url.find_first_of("/?#");
  if (end != std::string_view::npos) url = url.substr(0, end);
  size_t at = url.rfind('@');
  if (at != std::string_view::npos) url = url.substr(at + 1);
  return std::string(url);
}

}  // namespace halo::router
