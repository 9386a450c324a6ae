#include "test/router/node_cluster.h"

#include <rapidjson/document.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "test/router/router_harness.h"

namespace halo::router::testing {

using halo::testing::PollUntil;

NodeCluster::NodeCluster(int n) : dir_("router-nodes") {
  for (int i = 0; i < n; ++i) ports_.push_back(halo::testing::PickFreePort());
  procs_.resize(static_cast<size_t>(n));
  listener_extra_.resize(static_cast<size_t>(n));
}

NodeCluster::~NodeCluster() {
  for (auto& p : procs_) {
    if (p.started()) p.Stop(SIGKILL, std::chrono::seconds(5));
  }
}

std::string NodeCluster::NodeConfig(int i) const {
  return std::string("{\"storage\":{\"lmdb\":{\"path\":\"") + dir_.Join("data") +
         "\"}},\"listener\":{\"tcp\":{\"address\":\"" + address(i) + "\",\"tls_disable\":true" +
         (listener_extra_[i].empty() ? "" : "," + listener_extra_[i]) + "}},\"api_addr\":\"" +
         api_addr(i) + "\",\"cluster_name\":\"router-test\",\"node_name\":\"" + name(i) +
         "\",\"root_token\":\"" + kRootToken + "\",\"log_level\":\"warn\"" +
         // One secret per cluster (its temp dir is unique): the hop marker between nodes.
         ",\"cluster_secret\":\"router-test-secret:" + dir_.path() + "\"}";
}

bool NodeCluster::StartNode(int i) {
  std::string cfg = dir_.Join(name(i) + ".json");
  halo::testing::WriteFile(cfg, NodeConfig(i));
  procs_[i] = halo::testing::Subprocess::Start(
      {halo::testing::BinPath("halo-node"), "--config", cfg}, {}, dir_.Join(name(i) + ".log"));
  if (!procs_[i].started()) return false;
  return PollUntil(
             [&] {
               int h = Health(i);
               return h == 200 || h == 429 || !procs_[i].Running();
             },
             std::chrono::seconds(15)) &&
         procs_[i].Running();
}

bool NodeCluster::Restart(int i, const std::string& listener_extra) {
  procs_[i].Stop(SIGTERM);
  listener_extra_[i] = listener_extra;
  return StartNode(i);
}

bool NodeCluster::Start() {
  for (int i = 0; i < size(); ++i) {
    if (!StartNode(i)) return false;
  }
  return WaitActive() >= 0;
}

int NodeCluster::Health(int i) {
  std::optional<http::Response> r = HttpCall(ports_[i], "GET", "/v1/sys/health");
  return r ? r->status : 0;
}

int NodeCluster::Active() {
  int found = -1;
  for (int i = 0; i < size(); ++i) {
    if (!procs_[i].started() || !procs_[i].Running()) continue;
    if (Health(i) == 200) {
      if (found >= 0) return -1;
      found = i;
    }
  }
  return found;
}

int NodeCluster::WaitActive(int not_this, std::chrono::milliseconds timeout) {
  int a = -1;
  const bool seen = PollUntil(
      [&] {
        a = Active();
        return a >= 0 && a != not_this;
      },
      timeout, std::chrono::milliseconds(10));
  return seen ? a : -1;
}

std::optional<http::Response> NodeCluster::Call(int i, const std::string& method,
                                                const std::string& target,
                                                const std::string& body) {
  return HttpCall(ports_[i], method, target, body, {std::string("X-Vault-Token: ") + kRootToken});
}

std::vector<std::pair<std::string, std::string>> NodeCluster::RouterNodes() const {
  std::vector<std::pair<std::string, std::string>> v;
  for (int i = 0; i < size(); ++i) v.emplace_back(name(i), address(i));
  return v;
}

std::string NodeCluster::log(int i) const {
  std::ifstream in(dir_.Join(name(i) + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> KvField(const http::Response& r, const char* field) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("data") || !d["data"].IsObject()) {
    return std::nullopt;
  }
  const rapidjson::Value& outer = d["data"];
  if (!outer.HasMember("data") || !outer["data"].IsObject()) return std::nullopt;
  const rapidjson::Value& inner = outer["data"];
  if (!inner.HasMember(field) || !inner[field].IsString()) return std::nullopt;
  return std::string(inner[field].GetString());
}

}  // namespace halo::router::testing
