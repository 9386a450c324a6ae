// The router finds its nodes by DNS (c-ares): a name with three A records served by a
// dnsmasq the test starts on loopback is three nodes; records added and removed move the
// node set within dns_refresh + 1 s; while DNS does not answer the last set stays.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "test/router/router_harness.h"
#include "test/support/dns_server.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;
using Ms = std::chrono::milliseconds;

const char* kName = "nodes.halo.test";

std::vector<std::string> NodeSet(RouterProcess& r) {
  std::vector<std::string> out;
  rapidjson::Document d = r.Status();
  if (!d.IsObject() || !d.HasMember("nodes")) return out;
  for (const auto& n : d["nodes"].GetArray()) out.push_back(n["name"].GetString());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Named(const std::vector<std::string>& ips) {
  std::vector<std::string> out;
  for (const std::string& ip : ips) out.push_back(std::string("nodes@") + ip);
  std::sort(out.begin(), out.end());
  return out;
}

// Milliseconds until the router's node set is `want`, or -1 after `limit`.
int64_t WaitSet(RouterProcess& r, const std::vector<std::string>& want, Ms limit) {
  auto t0 = std::chrono::steady_clock::now();
  if (!PollUntil([&] { return NodeSet(r) == want; }, limit, Ms(20))) return -1;
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0).count();
}

TEST_CASE(
    "router DNS: a name with several A records is one node per address; records added "
    "and removed move the set within dns_refresh + 1 s; DNS down keeps the last set") {
  halo::testing::DnsServer dns;
  REQUIRE(dns.Start(kName, {"127.0.0.1", "127.0.0.2", "127.0.0.3"}));
  RouterProcess router;
  const int node_port = halo::testing::PickFreePort();  // nothing listens: the set is the test
  std::string cfg = RouterConfigJson(
      router.port(), {{"nodes", std::string(kName) + ":" + std::to_string(node_port)}},
      R"("dns_servers":[")" + dns.server() +
          R"("],"dns_refresh":"1s","health_check":{"interval":"200ms","timeout":"100ms"})");
  REQUIRE(router.Start(cfg));
  CHECK(NodeSet(router) == Named({"127.0.0.1", "127.0.0.2", "127.0.0.3"}));

  const Ms bound(1000 + 1000);  // dns_refresh + 1 s
  REQUIRE(dns.SetRecords(kName, {"127.0.0.1", "127.0.0.2"}));
  int64_t removed = WaitSet(router, Named({"127.0.0.1", "127.0.0.2"}), bound);
  CHECK(removed >= 0);
  REQUIRE(dns.SetRecords(kName, {"127.0.0.1", "127.0.0.2", "127.0.0.4", "127.0.0.5"}));
  int64_t added =
      WaitSet(router, Named({"127.0.0.1", "127.0.0.2", "127.0.0.4", "127.0.0.5"}), bound);
  CHECK(added >= 0);
  MESSAGE("node set followed DNS: removal after " << removed << " ms, addition after " << added
                                                  << " ms (dns_refresh 1s)");

  // DNS stops answering: the set stays (and that is logged once).
  dns.Pause();
  REQUIRE(PollUntil(
      [&] { return router.log().find("keeping its last 4 address") != std::string::npos; },
      std::chrono::seconds(10)));
  CHECK(NodeSet(router) == Named({"127.0.0.1", "127.0.0.2", "127.0.0.4", "127.0.0.5"}));
  // Still the same after a few more refresh rounds, and logged only once.
  CHECK_FALSE(PollUntil([&] { return NodeSet(router).size() != 4; }, Ms(3000), Ms(50)));
  std::string log = router.log();
  size_t first = log.find("keeping its last");
  CHECK(log.find("keeping its last", first + 1) == std::string::npos);
  dns.Resume();
  REQUIRE(dns.SetRecords(kName, {"127.0.0.1"}));
  // One address: the node keeps its configured name.
  CHECK(WaitSet(router, {"nodes"}, Ms(5000)) >= 0);
}

TEST_CASE("router DNS: a node name that does not resolve at startup is a clear error") {
  halo::testing::DnsServer dns;
  REQUIRE(dns.Start(kName, {"127.0.0.1"}));
  RouterProcess router;
  std::string cfg = RouterConfigJson(router.port(), {{"n", "missing.halo.test:8200"}},
                                     R"("dns_servers":[")" + dns.server() + R"("])");
  CHECK_FALSE(router.Start(cfg));
  CHECK(router.log().find("node n: cannot resolve missing.halo.test") != std::string::npos);
  MESSAGE(router.log());
}

}  // namespace
}  // namespace halo::router::testing
