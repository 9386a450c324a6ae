#include "test/node/local_cluster.h"

#include <rapidjson/document.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "test/support/http_test_client.h"

namespace halo::node::testing {

using halo::testing::HttpTestClient;
using halo::testing::PollUntil;

LocalCluster::LocalCluster(ClusterOptions options)
    : options_(std::move(options)), dir_("halo-node-it") {
  for (int i = 0; i < options_.nodes; ++i) ports_.push_back(halo::testing::PickFreePort());
  procs_.resize(static_cast<size_t>(options_.nodes));
}

LocalCluster::~LocalCluster() {
  for (auto& p : procs_) {
    if (p.started()) p.Stop(SIGKILL, std::chrono::seconds(5));
  }
}

std::string LocalCluster::config_path(int i) const {
  return dir_.Join("node" + std::to_string(i + 1) + ".json");
}

std::string LocalCluster::log(int i) const {
  std::ifstream in(dir_.Join("node" + std::to_string(i + 1) + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string LocalCluster::Config(int i) const {
  std::string extra = options_.extra_json.empty() ? "" : ",\n  " + options_.extra_json;
  if (static_cast<size_t>(i) < options_.node_extra_json.size() &&
      !options_.node_extra_json[i].empty()) {
    extra += ",\n  " + options_.node_extra_json[i];
  }
  std::string storage = "\"storage\": {\"lmdb\": {\"path\": \"%DIR%/data\"}}";
  if (!options_.storage_json.empty()) storage = options_.storage_json;
  for (size_t at; (at = storage.find("%DIR%")) != std::string::npos;) {
    storage.replace(at, 5, dir_.path());
  }
  return "{\n  " + storage +
         ",\n  \"listener\": {\"tcp\": {\"address\": \"127.0.0.1:" + std::to_string(ports_[i]) +
         "\"" + (options_.tcp_extra.empty() ? "" : ", " + options_.tcp_extra) +
         "}},\n  \"cluster_name\": \"node-it\",\n" + "  \"node_name\": \"node" +
         std::to_string(i + 1) + "\",\n  \"root_token\": \"" + kToken + "\",\n  \"log_level\": \"" +
         options_.log_level + "\"" + extra + "\n}\n";
}

bool LocalCluster::StartNode(int i) {
  halo::testing::WriteFile(config_path(i), Config(i));
  procs_[i] = halo::testing::Subprocess::Start(
      {halo::testing::BinPath("halo-node"), "--config", config_path(i)}, {},
      dir_.Join("node" + std::to_string(i + 1) + ".log"));
  if (!procs_[i].started()) return false;
  bool up = PollUntil(
      [&] {
        int h = Health(i);
        return h == 200 || h == 429 || !procs_[i].Running();
      },
      std::chrono::seconds(15));
  return up && procs_[i].Running();
}

bool LocalCluster::Start() {
  for (int i = 0; i < size(); ++i) {
    if (!StartNode(i)) return false;
  }
  int active = WaitActive();
  if (active < 0) return false;
  // Settled: every node names the active in sys/leader (standbys poll the lock holder).
  return PollUntil(
      [&] {
        for (int i = 0; i < size(); ++i) {
          Result<http::Response> r = Call(i, "GET", "/v1/sys/leader");
          if (!r.ok()) return false;
          bool single = r->body.find("\"ha_enabled\":false") != std::string::npos;
          if (!single && JsonString(r->body, {"leader_address"}) != api_addr(active)) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(10));
}

void LocalCluster::Kill(int i) { procs_[i].Stop(SIGKILL, std::chrono::seconds(5)); }

int LocalCluster::Term(int i, std::chrono::milliseconds timeout) {
  return procs_[i].Stop(SIGTERM, timeout);
}

int LocalCluster::Health(int i) {
  Result<http::Response> r =
      Call(i, "GET", "/v1/sys/health", {}, {}, std::chrono::milliseconds(1000));
  return r.ok() ? r->status : 0;
}

int LocalCluster::Active() {
  int active = -1;
  for (int i = 0; i < size(); ++i) {
    if (!procs_[i].started() || !procs_[i].Running()) continue;
    if (Health(i) == 200) {
      if (active >= 0) return -1;
      active = i;
    }
  }
  return active;
}

int LocalCluster::WaitActive(int not_this, std::chrono::milliseconds timeout) {
  int found = -1;
  const bool seen = PollUntil(
      [&] {
        found = Active();
        return found >= 0 && found != not_this;
      },
      timeout);
  return seen ? found : -1;
}

Result<http::Response> LocalCluster::Call(int i, std::string_view method, std::string_view target,
                                          std::string_view body, http::Headers headers,
                                          std::chrono::milliseconds timeout) {
  HttpTestClient client(ports_[i]);
  RETURN_IF_ERROR(client.Connect(timeout));
  if (!headers.Has("X-Vault-Token")) headers.Add("X-Vault-Token", kToken);
  if (headers.Get("X-Vault-Token") == "") headers.Remove("X-Vault-Token");
  return client.Request(method, target, headers, body, timeout);
}

namespace {

const rapidjson::Value* Walk(const rapidjson::Document& doc,
                             std::initializer_list<const char*> path) {
  const rapidjson::Value* v = &doc;
  for (const char* key : path) {
    if (!v->IsObject() || !v->HasMember(key)) return nullptr;
    v = &(*v)[key];
  }
  return v;
}

}  // namespace

std::string JsonString(const std::string& body, std::initializer_list<const char*> path) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError()) return "";
  const rapidjson::Value* v = Walk(doc, path);
  return v != nullptr && v->IsString() ? std::string(v->GetString()) : "";
}

int64_t JsonInt(const std::string& body, std::initializer_list<const char*> path) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError()) return -1;
  const rapidjson::Value* v = Walk(doc, path);
  return v != nullptr && v->IsUint64() ? static_cast<int64_t>(v->GetUint64()) : -1;
}

}  // namespace halo::node::testing
