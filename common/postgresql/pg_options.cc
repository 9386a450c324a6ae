#include "common/postgresql/pg_options.h"

#include <cstdlib>

namespace halo::pg {
namespace {

// A JSON bool, or OpenBao's string form "true" / "false".
Status GetFlag(ConfigObject& obj, std::string_view key, bool* out) {
  if (!obj.Has(key)) return Status::Ok();
  const rapidjson::Value& v =
      obj.raw().FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())))->value;
  if (!v.IsString()) return obj.GetBool(key, out);
  obj.MarkKnown(key);
  std::string s = v.GetString();
  if (s == "true" || s == "1") {
    *out = true;
  } else if (s == "false" || s == "0") {
    *out = false;
  } else {
    return Status::InvalidArgument(obj.KeyPath(key) + ": expected true or false, got \"" + s +
                                   "\"");
  }
  return Status::Ok();
}

// A JSON integer, or a string of digits ("128").
Status GetCount(ConfigObject& obj, std::string_view key, int64_t* out, int64_t min, int64_t max) {
  if (!obj.Has(key)) return Status::Ok();
  const rapidjson::Value& v =
      obj.raw().FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())))->value;
  if (!v.IsString()) return obj.GetInt(key, out, min, max);
  obj.MarkKnown(key);
  std::string s = v.GetString();
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || n < min || n > max) {
    return Status::InvalidArgument(obj.KeyPath(key) + ": expected an integer in [" +
                                   std::to_string(min) + ", " + std::to_string(max) + "], got \"" +
                                   s + "\"");
  }
  *out = n;
  return Status::Ok();
}

Status CheckIdent(ConfigObject& obj, std::string_view key, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 48 && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return Status::InvalidArgument(obj.KeyPath(key) + ": \"" + name +
                                   "\" is not a plain table name (letters, digits and _, at "
                                   "most 48, not starting with a digit)");
  }
  return Status::Ok();
}

}  // namespace

Status ParsePgOptions(ConfigObject& block, PgOptions* out) {
  RETURN_IF_ERROR(block.GetString("connection_url", &out->connection_url));
  RETURN_IF_ERROR(block.GetString("table", &out->table));
  RETURN_IF_ERROR(GetFlag(block, "ha_enabled", &out->ha_enabled));
  RETURN_IF_ERROR(block.GetString("ha_table", &out->ha_table));
  RETURN_IF_ERROR(GetCount(block, "max_parallel", &out->max_parallel, 1, 1024));
  RETURN_IF_ERROR(GetFlag(block, "skip_create_table", &out->skip_create_table));
  RETURN_IF_ERROR(block.GetDuration("op_timeout", &out->op_timeout));
  RETURN_IF_ERROR(block.GetDuration("keepalive_idle", &out->keepalive_idle));
  RETURN_IF_ERROR(block.GetDuration("keepalive_interval", &out->keepalive_interval));
  RETURN_IF_ERROR(block.GetInt("keepalive_count", &out->keepalive_count, 1, 100));
  if (out->connection_url.empty()) {
    return Status::InvalidArgument(
        block.KeyPath("connection_url") +
        ": required (e.g. \"postgres://user:password@127.0.0.1:5432/openbao\")");
  }
  RETURN_IF_ERROR(CheckIdent(block, "table", out->table));
  RETURN_IF_ERROR(CheckIdent(block, "ha_table", out->ha_table));
  if (out->op_timeout < milliseconds(100)) {
    return Status::InvalidArgument(block.KeyPath("op_timeout") + ": must be at least 100ms");
  }
  if (out->keepalive_idle < seconds(1) || out->keepalive_interval < seconds(1)) {
    return Status::InvalidArgument(block.KeyPath("keepalive_idle") +
                                   ": keepalive_idle and keepalive_interval are whole seconds, "
                                   "at least 1s");
  }
  return Status::Ok();
}

std::string QuoteIdent(const std::string& name) { return "\"" + name + "\""; }

}  // namespace halo::pg
