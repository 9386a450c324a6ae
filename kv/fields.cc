#include "kv/fields.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "kv/json.h"
#include "kv/time.h"

namespace halo::kv {
namespace {

std::string_view Str(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

const char* TypeName(const rapidjson::Value& v) {
  if (v.IsObject()) return "map";
  if (v.IsArray()) return "slice";
  if (v.IsString()) return "string";
  if (v.IsBool()) return "bool";
  if (v.IsNumber()) return "number";
  return "null";
}

// strconv.ParseInt(s, 0, 64): optional sign, then decimal, 0x hex, 0o/0 octal or 0b binary.
Result<int64_t> ParseIntBase0(std::string_view s) {
  std::string text(s);
  auto bad = [&] {
    return Status::InvalidArgument("strconv.ParseInt: parsing \"" + text + "\": invalid syntax");
  };
  if (s.empty()) return bad();
  std::string_view body = s;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  int base = 10;
  if (body.size() > 1 && body[0] == '0') {
    char p = body[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      body.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      body.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      body.remove_prefix(2);
    } else {
      base = 8;
      body.remove_prefix(1);
    }
  }
  if (body.empty()) return bad();
  uint64_t acc = 0;
  for (char c : body) {
    if (c == '_') continue;
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return bad();
    }
    if (d >= base) return bad();
    if (acc > (std::numeric_limits<uint64_t>::max() - d) / base) {
      return Status::InvalidArgument("strconv.ParseInt: parsing \"" + text +
                                     "\": value out of range");
    }
    acc = acc * base + d;
  }
  uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (acc > limit) {
    return Status::InvalidArgument("strconv.ParseInt: parsing \"" + text +
                                   "\": value out of range");
  }
  return neg ? static_cast<int64_t>(uint64_t{0} - acc) : static_cast<int64_t>(acc);
}

// The input as fmt's %v would print it, for messages.
std::string Printed(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(Str(v));
  if (v.IsNumber()) return JsonNumberText(v);
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  return SortedJson(v);
}

}  // namespace

Result<int64_t> WeakInt(const rapidjson::Value& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsUint64()) {
    return Status::InvalidArgument("strconv.ParseInt: parsing \"" + JsonNumberText(v) +
                                   "\": value out of range");
  }
  if (v.IsNumber()) {
    return Status::InvalidArgument("strconv.ParseInt: parsing \"" + JsonNumberText(v) +
                                   "\": invalid syntax");
  }
  if (v.IsBool()) return int64_t{v.GetBool() ? 1 : 0};
  if (v.IsString()) {
    if (v.GetStringLength() == 0) return int64_t{0};
    return ParseIntBase0(Str(v));
  }
  return Status::InvalidArgument(std::string("expected type 'int', got unconvertible type '") +
                                 TypeName(v) + "'");
}

Result<bool> WeakBool(const rapidjson::Value& v) {
  if (v.IsBool()) return v.GetBool();
  if (v.IsNumber()) return v.IsInt64() ? v.GetInt64() != 0 : v.GetDouble() != 0;
  if (v.IsString()) {
    std::string_view s = Str(v);
    if (s.empty()) return false;
    if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") {
      return true;
    }
    if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
      return false;
    }
    return Status::InvalidArgument("strconv.ParseBool: parsing \"" + std::string(s) +
                                   "\": invalid syntax");
  }
  return Status::InvalidArgument(std::string("expected type 'bool', got unconvertible type '") +
                                 TypeName(v) + "'");
}

Result<std::string> WeakString(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(Str(v));
  if (v.IsNumber()) return JsonNumberText(v);
  if (v.IsBool()) return std::string(v.GetBool() ? "1" : "0");
  if (v.IsNull()) return std::string();
  return Status::InvalidArgument(std::string("expected type 'string', got unconvertible type '") +
                                 TypeName(v) + "'");
}

Result<std::vector<int64_t>> WeakIntSlice(const rapidjson::Value& v) {
  std::vector<int64_t> out;
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      ASSIGN_OR_RETURN(int64_t n, WeakInt(e));
      out.push_back(n);
    }
    return out;
  }
  if (v.IsString()) {
    std::string_view s = Str(v);
    if (s.empty()) return out;
    while (true) {
      size_t comma = s.find(',');
      std::string_view part = s.substr(0, comma);
      rapidjson::Value tmp(rapidjson::StringRef(part.data(), part.size()));
      ASSIGN_OR_RETURN(int64_t n, WeakInt(tmp));
      out.push_back(n);
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
    return out;
  }
  if (v.IsNumber() || v.IsBool()) {
    ASSIGN_OR_RETURN(int64_t n, WeakInt(v));
    out.push_back(n);
    return out;
  }
  return Status::InvalidArgument(std::string("expected type 'slice', got unconvertible type '") +
                                 TypeName(v) + "'");
}

Result<int64_t> WeakDurationSecond(const rapidjson::Value& v, bool allow_negative) {
  int64_t secs = 0;
  if (v.IsInt64()) {
    secs = v.GetInt64();
  } else if (v.IsNumber()) {
    double d = v.GetDouble();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e9) {
      return Status::InvalidArgument("duration out of range");
    }
    secs = static_cast<int64_t>(d);
  } else if (v.IsString()) {
    ASSIGN_OR_RETURN(secs, ParseDurationSecondString(Str(v)));
  } else {
    return Status::InvalidArgument(std::string("expected a duration, got unconvertible type '") +
                                   TypeName(v) + "'");
  }
  if (secs < 0 && !allow_negative) {
    return Status::InvalidArgument("cannot provide negative value '" + std::to_string(secs) + "'");
  }
  return secs;
}

KvFields::KvFields(const rapidjson::Value& input, std::vector<FieldSpec> schema)
    : input_(&input), schema_(std::move(schema)) {}

const FieldSpec* KvFields::Spec(std::string_view name) const {
  for (const auto& s : schema_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status KvFields::Validate() const {
  for (auto it = input_->MemberBegin(); it != input_->MemberEnd(); ++it) {
    const FieldSpec* spec = Spec(Str(it->name));
    if (spec == nullptr || it->value.IsNull()) continue;
    Status st;
    switch (spec->type) {
      case FieldType::kString:
        st = WeakString(it->value).status();
        break;
      case FieldType::kInt:
        st = WeakInt(it->value).status();
        break;
      case FieldType::kBool:
        st = WeakBool(it->value).status();
        break;
      case FieldType::kMap:
        if (!it->value.IsObject()) {
          st = Status::InvalidArgument(std::string("'' expected a map, got '") +
                                       TypeName(it->value) + "'");
        }
        break;
      case FieldType::kCommaIntSlice:
        st = WeakIntSlice(it->value).status();
        break;
      case FieldType::kDurationSecond:
        st = WeakDurationSecond(it->value, false).status();
        break;
      case FieldType::kSignedDurationSecond:
        st = WeakDurationSecond(it->value, true).status();
        break;
    }
    if (!st.ok()) {
      return Status::InvalidArgument("Field validation failed: error converting input " +
                                     Printed(it->value) + " for field \"" +
                                     std::string(spec->name) + "\": " + st.message());
    }
  }
  return Status::Ok();
}

std::vector<std::string> KvFields::Ignored() const {
  std::vector<std::string> out;
  for (auto it = input_->MemberBegin(); it != input_->MemberEnd(); ++it) {
    if (Spec(Str(it->name)) == nullptr) out.emplace_back(Str(it->name));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const rapidjson::Value* KvFields::Raw(std::string_view name) const {
  const rapidjson::Value* found = nullptr;
  for (auto it = input_->MemberBegin(); it != input_->MemberEnd(); ++it) {
    if (Str(it->name) == name) found = &it->value;  // the last of duplicates wins
  }
  return found != nullptr && !found->IsNull() ? found : nullptr;
}

bool KvFields::Has(std::string_view name) const { return Raw(name) != nullptr; }

int64_t KvFields::Int(std::string_view name) const {
  const rapidjson::Value* v = Raw(name);
  return v ? WeakInt(*v).value_or(0) : 0;
}

bool KvFields::Bool(std::string_view name) const {
  const rapidjson::Value* v = Raw(name);
  return v ? WeakBool(*v).value_or(false) : false;
}

std::string KvFields::String(std::string_view name) const {
  const rapidjson::Value* v = Raw(name);
  return v ? WeakString(*v).value_or(std::string()) : std::string();
}

std::vector<int64_t> KvFields::IntSlice(std::string_view name) const {
  const rapidjson::Value* v = Raw(name);
  return v ? WeakIntSlice(*v).value_or({}) : std::vector<int64_t>{};
}

int64_t KvFields::DurationSeconds(std::string_view name) const {
  const rapidjson::Value* v = Raw(name);
  return v ? WeakDurationSecond(*v, true).value_or(0) : 0;
}

}  // namespace halo::kv
