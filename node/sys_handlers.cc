#include "node/sys_handlers.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

#include "common/json_config.h"
#include "node/api_response.h"
#include "node/version.h"

namespace halo::node {

using http::QueryParams;
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void Bool(JsonWriter& w, std::string_view key, bool value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Bool(value);
}

void Int(JsonWriter& w, std::string_view key, int64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(value);
}

std::string Finish(const rapidjson::StringBuffer& buf) {
  std::string out(buf.GetString(), buf.GetSize());
  out.push_back('\n');
  return out;
}

// Reads a status-code parameter: final-response codes only (200..599). A 1xx would be sent
// as an interim answer and leave the client waiting for the real one.
Status ReadCode(const QueryParams& query, std::string_view key, int* code) {
  Result<int64_t> value = query.GetInt(key, *code);
  if (!value.ok()) return value.status();
  if (*value < 200 || *value > 599) {
    return Status::InvalidArgument("invalid status code for " + std::string(key) + ": " +
                                   std::to_string(*value));
  }
  *code = static_cast<int>(*value);
  return Status::Ok();
}

std::string HealthBody(const NodeSnapshot& s) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Bool(w, "initialized", s.initialized);
  Bool(w, "sealed", s.sealed);
  Bool(w, "standby", !s.active);
  Bool(w, "performance_standby", false);
  Str(w, "replication_performance_mode", "disabled");
  Str(w, "replication_dr_mode", "disabled");
  Int(w, "server_time_utc", s.now_micros / 1'000'000);
  Str(w, "version", kHaloVersion);
  Bool(w, "enterprise", false);
  if (!s.sealed) {
    Str(w, "cluster_name", s.cluster_name);
    Str(w, "cluster_id", s.cluster_id);
  }
  w.EndObject();
  return Finish(buf);
}

}  // namespace

std::string FormatRfc3339(int64_t wall_micros) {
  time_t secs = static_cast<time_t>(wall_micros / 1'000'000);
  int64_t micros = wall_micros % 1'000'000;
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char base[32];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  std::string out = base;
  if (micros > 0) {
    char frac[16];
    snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(micros));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += "Z";
  return out;
}

http::Response HandleHealth(std::string_view method, const QueryParams& query,
                            const NodeSnapshot& snapshot) {
  if (method != "GET" && method != "HEAD") return MethodNotAllowed();
  int active_code = 200, standby_code = 429, sealed_code = 503, uninit_code = 501;
  Status st = ReadCode(query, "activecode", &active_code);
  if (st.ok()) st = ReadCode(query, "standbycode", &standby_code);
  if (st.ok()) st = ReadCode(query, "sealedcode", &sealed_code);
  if (st.ok()) st = ReadCode(query, "uninitcode", &uninit_code);
  Result<bool> standby_ok = query.GetBool("standbyok", false);
  if (st.ok() && !standby_ok.ok()) st = standby_ok.status();
  if (!st.ok()) return ErrorReply(400, st.message());

  int code = active_code;
  if (!snapshot.initialized) {
    code = uninit_code;
  } else if (snapshot.sealed) {
    code = sealed_code;
  } else if (!snapshot.active && !*standby_ok) {
    code = standby_code;
  }
  return JsonReply(code, method == "GET" ? HealthBody(snapshot) : std::string());
}

http::Response HandleLeader(const NodeSnapshot& s) {
  if (s.sealed) return ErrorReply(503, "Vault is sealed");
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Bool(w, "ha_enabled", s.ha_enabled);
  if (s.ha_enabled) {
    Bool(w, "is_self", s.active);
    if (s.active && s.active_since_micros > 0) {
      Str(w, "active_time", FormatRfc3339(s.active_since_micros));
    }
    Str(w, "leader_address", s.leader.known ? s.leader.api_addr : "");
    Str(w, "leader_cluster_address", s.leader.known ? s.leader.cluster_addr : "");
    Bool(w, "performance_standby", false);
    Int(w, "performance_standby_last_remote_wal", 0);
  }
  w.Key("index");
  w.Uint64(s.leader.epoch);
  w.EndObject();
  return JsonReply(200, Finish(buf));
}

http::Response HandleSealStatus(const NodeSnapshot& s) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "type", "shamir");
  Bool(w, "initialized", s.initialized);
  Bool(w, "sealed", s.sealed);
  Int(w, "t", 1);
  Int(w, "n", 1);
  Int(w, "progress", 0);
  Str(w, "nonce", "");
  Str(w, "version", kHaloVersion);
  Str(w, "build_date", "");
  Bool(w, "migration", false);
  if (!s.sealed) {
    Str(w, "cluster_name", s.cluster_name);
    Str(w, "cluster_id", s.cluster_id);
  }
  Bool(w, "recovery_seal", false);
  Str(w, "storage_type", s.storage_type);
  w.EndObject();
  return JsonReply(200, Finish(buf));
}

Result<LeaderWait> ParseLeaderWait(const QueryParams& query) {
  LeaderWait out;
  std::optional<std::string> index = query.Get("index");
  if (!index) return out;
  Result<int64_t> n = query.GetInt("index", 0);
  if (!n.ok() || *n < 0) {
    return Status::InvalidArgument("bad value for index parameter: \"" + *index + "\"");
  }
  out.blocking = true;
  out.index = static_cast<uint64_t>(*n);
  out.wait_ms = kDefaultLeaderWaitMs;
  std::optional<std::string> wait = query.Get("wait");
  if (wait) {
    Result<int64_t> ms = ParseDurationMs(*wait);
    if (!ms.ok()) {
      return Status::InvalidArgument("bad value for wait parameter: " + ms.status().message());
    }
    out.wait_ms = std::min(*ms, kMaxLeaderWaitMs);
  }
  return out;
}

}  // namespace halo::node
