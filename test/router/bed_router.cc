#include "test/router/bed_router.h"

#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"

namespace halo::router::testing {

using halo::testing::PollUntil;

namespace {
const std::string& TokenHeader() {
  static const std::string h = std::string("X-Vault-Token: ") + kRootToken;
  return h;
}
}  // namespace

rapidjson::Document BedRouter::Status() const {
  rapidjson::Document d;
  bed_->InHost(host_, [&] {
    std::optional<http::Response> r = HttpCall(admin_port_, "GET", "/_halo/status");
    if (r && r->status == 200) d.Parse(r->body.c_str());
  });
  return d;
}

std::string BedRouter::WaitActive(int routable, std::chrono::milliseconds timeout) const {
  std::string active;
  bool ok = PollUntil(
      [&] {
        rapidjson::Document d = Status();
        if (!d.IsObject() || !d.HasMember("active") || !d["active"].IsString()) return false;
        int n = 0;
        for (const auto& node : d["nodes"].GetArray()) n += node["routable"].GetBool() ? 1 : 0;
        active = d["active"].GetString();
        return n >= routable;
      },
      timeout, std::chrono::milliseconds(50));
  return ok ? active : "";
}

std::optional<http::Response> BedRouter::Call(const std::string& method, const std::string& target,
                                              const std::string& body) const {
  std::optional<http::Response> out;
  bed_->InHost(host_, [&] { out = HttpCall(port_, method, target, body, {TokenHeader()}); });
  return out;
}

std::unique_ptr<FailoverLoad> BedRouter::StartLoad(int writers, int readers,
                                                   std::chrono::milliseconds op_timeout) const {
  std::unique_ptr<FailoverLoad> load;
  bed_->InHost(host_,
               [&] { load = std::make_unique<FailoverLoad>(port_, writers, readers, op_timeout); });
  return load;
}

int BedRouter::Lost(const std::vector<AckedWrite>& acked) const {
  int lost = 0;
  bed_->InHost(host_, [&] {
    RawClient c;
    for (const AckedWrite& a : acked) {
      if (!c.connected()) c.Connect(port_);
      auto r = c.Request("GET", "/v1/secret/data/" + a.key, "", {TokenHeader()},
                         std::chrono::seconds(5));
      if (!r || !r->keep_alive) c.Close();
      if (!r || r->status != 200 || KvField(*r, "v") != a.value) ++lost;
    }
  });
  return lost;
}

halo::testing::Subprocess StartBedNode(halo::testing::Testbed& bed, int host, int n, int port,
                                       const halo::testing::TempDir& dir,
                                       const std::string& storage, const std::string& cluster) {
  std::string addr = bed.address(host) + ":" + std::to_string(port);
  std::string config = "{" + storage + R"(,"listener":{"tcp":{"address":")" + addr +
                       R"(","tls_disable":true}},"api_addr":"http://)" + addr +
                       R"(","cluster_name":")" + cluster + R"(","root_token":")" + kRootToken +
                       R"(","log_level":"info","node_name":"node)" + std::to_string(n) + "\"}";
  std::string path = dir.Join("node" + std::to_string(n) + ".json");
  halo::testing::WriteFile(path, config);
  return bed.Start(host, {halo::testing::BinPath("halo-node"), "-config", path}, {},
                   dir.Join("node" + std::to_string(n) + ".log"));
}

}  // namespace halo::router::testing
