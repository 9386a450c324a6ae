#include "common/json_config.h"

#include <rapidjson/error/en.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace halo {

Result<rapidjson::Document> ParseJson(std::string_view text, std::string_view what) {
  rapidjson::Document doc;
  // Iterative: no recursion, however deeply the text nests.
  doc.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                text.size());
  if (doc.HasParseError()) {
    size_t offset = doc.GetErrorOffset();
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status::InvalidArgument(std::string(what) + ":" + std::to_string(line) + ":" +
                                   std::to_string(col) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return doc;
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno("cannot open " + path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::FromErrno("cannot read " + path, errno);
  return ss.str();
}

ConfigObject::ConfigObject(const rapidjson::Value& value, std::string path)
    : value_(&value), path_(std::move(path)) {}

Status ConfigObject::CheckIsObject() const {
  if (!value_->IsObject()) {
    return Status::InvalidArgument((path_.empty() ? std::string("config") : path_) +
                                   ": expected a JSON object");
  }
  return Status::Ok();
}

std::string ConfigObject::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const rapidjson::Value* ConfigObject::Find(std::string_view key) {
  known_.emplace(key);
  if (!value_->IsObject()) return nullptr;
  auto it = value_->FindMember(
      rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  return it == value_->MemberEnd() ? nullptr : &it->value;
}

bool ConfigObject::Has(std::string_view key) const {
  if (!value_->IsObject()) return false;
  return value_->FindMember(rapidjson::Value(
             key.data(), static_cast<rapidjson::SizeType>(key.size()))) != value_->MemberEnd();
}

void ConfigObject::MarkKnown(std::string_view key) { known_.emplace(key); }

std::vector<std::string> ConfigObject::Keys() const {
  std::vector<std::string> keys;
  if (!value_->IsObject()) return keys;
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    keys.emplace_back(it->name.GetString(), it->name.GetStringLength());
  }
  return keys;
}

Status ConfigObject::GetString(std::string_view key, std::string* out) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::Ok();
  if (!v->IsString()) return Status::InvalidArgument(KeyPath(key) + ": expected a string");
  out->assign(v->GetString(), v->GetStringLength());
  return Status::Ok();
}

Status ConfigObject::GetBool(std::string_view key, bool* out) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::Ok();
  if (!v->IsBool()) {
    return Status::InvalidArgument(KeyPath(key) + ": expected true or false");
  }
  *out = v->GetBool();
  return Status::Ok();
}

Status ConfigObject::GetInt(std::string_view key, int64_t* out, int64_t min, int64_t max) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::Ok();
  if (!v->IsInt64()) return Status::InvalidArgument(KeyPath(key) + ": expected an integer");
  int64_t n = v->GetInt64();
  if (n < min || n > max) {
    return Status::InvalidArgument(KeyPath(key) + ": " + std::to_string(n) + " is out of range [" +
                                   std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = n;
  return Status::Ok();
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  std::string s(text);
  if (s.empty()) return Status::InvalidArgument("empty duration");
  char* end = nullptr;
  errno = 0;
  double n = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || errno != 0 || !std::isfinite(n) || n < 0) {
    return Status::InvalidArgument("bad duration \"" + s + "\"");
  }
  std::string unit(end);
  double ms;
  if (unit.empty() || unit == "ms") {
    ms = n;
  } else if (unit == "s") {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else {
    return Status::InvalidArgument("bad duration unit in \"" + s + "\" (use ms, s, m or h)");
  }
  if (ms > 1e12) return Status::InvalidArgument("duration \"" + s + "\" is too long");
  return static_cast<int64_t>(ms);
}

Status ConfigObject::GetDuration(std::string_view key, Duration* out) {
  int64_t ms = -1;
  RETURN_IF_ERROR(GetDurationMs(key, &ms));
  if (ms >= 0) *out = std::chrono::milliseconds(ms);
  return Status::Ok();
}

Status ConfigObject::GetDurationMs(std::string_view key, int64_t* out_ms) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::Ok();
  if (v->IsInt64()) {
    if (v->GetInt64() < 0) return Status::InvalidArgument(KeyPath(key) + ": negative duration");
    *out_ms = v->GetInt64();
    return Status::Ok();
  }
  if (!v->IsString()) {
    return Status::InvalidArgument(KeyPath(key) +
                                   ": expected milliseconds or a string like \"2s\"");
  }
  Result<int64_t> ms = ParseDurationMs(std::string_view(v->GetString(), v->GetStringLength()));
  if (!ms.ok()) return Status::InvalidArgument(KeyPath(key) + ": " + ms.status().message());
  *out_ms = *ms;
  return Status::Ok();
}

Status ConfigObject::GetStringList(std::string_view key, std::vector<std::string>* out) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::Ok();
  if (!v->IsArray()) return Status::InvalidArgument(KeyPath(key) + ": expected an array");
  out->clear();
  for (auto& e : v->GetArray()) {
    if (!e.IsString()) {
      return Status::InvalidArgument(KeyPath(key) + ": expected an array of strings");
    }
    out->emplace_back(e.GetString(), e.GetStringLength());
  }
  return Status::Ok();
}

Status ConfigObject::GetStringMap(std::string_view key, std::map<std::string, std::string>* out) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::Ok();
  if (!v->IsObject()) return Status::InvalidArgument(KeyPath(key) + ": expected an object");
  out->clear();
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    if (!it->value.IsString()) {
      return Status::InvalidArgument(KeyPath(key) + "." + it->name.GetString() +
                                     ": expected a string");
    }
    (*out)[it->name.GetString()] = it->value.GetString();
  }
  return Status::Ok();
}

Result<ConfigObject> ConfigObject::GetObject(std::string_view key) {
  const rapidjson::Value* v = Find(key);
  if (!v) return Status::NotFound(KeyPath(key) + ": missing");
  ConfigObject child(*v, KeyPath(key));
  RETURN_IF_ERROR(child.CheckIsObject());
  return child;
}

Status ConfigObject::Finish() const {
  if (!value_->IsObject()) return CheckIsObject();
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (!known_.count(name)) {
      return Status::InvalidArgument(KeyPath(name) + ": unknown key");
    }
  }
  return Status::Ok();
}

}  // namespace halo
