#include "node/sys_mounts.h"

#include <string>

#include "common/ids.h"
#include "kv/json.h"
#include "node/api_response.h"

namespace halo::node {
namespace {

using kv::JsonWriter;

// A stable per-mount identifier (the same on every node of the cluster).
std::string MountUuid(std::string_view cluster_name, std::string_view path) {
  return UuidText(Fnv1a(std::string(cluster_name) + "/" + std::string(path)),
                  Fnv1a(std::string(path) + "#" + std::string(cluster_name)));
}

void WriteMount(JsonWriter& w, const MountConfig& m, std::string_view cluster_name,
                bool with_path) {
  std::string uuid = MountUuid(cluster_name, m.path);
  w.StartObject();
  w.Key("accessor");
  w.String(("kv_" + uuid.substr(0, 8)).c_str());
  w.Key("config");
  w.StartObject();
  w.Key("default_lease_ttl");
  w.Int(0);
  w.Key("force_no_cache");
  w.Bool(false);
  w.Key("max_lease_ttl");
  w.Int(0);
  w.EndObject();
  w.Key("description");
  w.String(m.kv_version == 2 ? "key/value secret storage (versioned)" : "key/value secret storage");
  w.Key("external_entropy_access");
  w.Bool(false);
  w.Key("local");
  w.Bool(false);
  w.Key("options");
  w.StartObject();
  w.Key("version");
  w.String(m.kv_version == 2 ? "2" : "1");
  w.EndObject();
  if (with_path) {
    w.Key("path");
    w.String(m.path.c_str());
  }
  w.Key("seal_wrap");
  w.Bool(false);
  w.Key("type");
  w.String("kv");
  w.Key("uuid");
  w.String(uuid.c_str());
  w.EndObject();
}

}  // namespace

http::Response HandleSysMounts(const std::vector<MountConfig>& mounts,
                               std::string_view cluster_name) {
  // OpenBao answers the table both at the top level and under "data".
  auto table = [&](JsonWriter& w) {
    w.StartObject();
    for (const MountConfig& m : mounts) {
      w.Key(m.path.c_str());
      WriteMount(w, m, cluster_name, false);
    }
    w.EndObject();
  };
  std::string body = kv::EnvelopeJson(table, {});
  // Splice the same table in at the top level: {"secret/":{..},...,"request_id":..}.
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  table(w);
  std::string top(buf.GetString(), buf.GetSize());
  if (top.size() > 2 && body.size() > 1) {
    body = "{" + top.substr(1, top.size() - 2) + "," + body.substr(1);
  }
  return JsonReply(200, std::move(body));
}

http::Response HandleUiMounts(const std::vector<MountConfig>& mounts, std::string_view cluster_name,
                              std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) {
    return JsonReply(200, kv::EnvelopeJson(
                              [&](JsonWriter& w) {
                                w.StartObject();
                                w.Key("auth");
                                w.StartObject();
                                w.EndObject();
                                w.Key("secret");
                                w.StartObject();
                                for (const MountConfig& m : mounts) {
                                  w.Key(m.path.c_str());
                                  WriteMount(w, m, cluster_name, false);
                                }
                                w.EndObject();
                                w.EndObject();
                              },
                              {}));
  }
  std::string with_slash(path);
  if (with_slash.back() != '/') with_slash.push_back('/');
  for (const MountConfig& m : mounts) {
    if (with_slash.compare(0, m.path.size(), m.path) == 0) {
      return JsonReply(
          200, kv::EnvelopeJson([&](JsonWriter& w) { WriteMount(w, m, cluster_name, true); }, {}));
    }
  }
  return ErrorReply(400,
                    "preflight capability check returned 403, please ensure client's "
                    "policies grant access to path \"" +
                        std::string(path) + "\"");
}

}  // namespace halo::node
