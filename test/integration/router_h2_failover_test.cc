// Failover with HTTP/2 end to end: HTTP/2 clients (Debian's python3-h2, test/support/
// h2_load.py) through halo-router, which reaches the three real halo-nodes over HTTP/2
// (upstream_protocol h2, the default), and standbys that forward to the active over HTTP/2.
//   SIGTERM of the active: zero client errors;
//   SIGKILL of the active: only writes whose outcome is unknown fail (502), reads never,
//   and zero acknowledged writes are lost.
// Also: the status page shows h2 to every node and a node with http2_disable falls back.
#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <sstream>

#include "test/router/failover_load.h"
#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/subprocess.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;
using halo::testing::Subprocess;
using halo::testing::TempDir;

struct H2Op {
  bool write;
  int status;
  double start, end;
  std::string key, value;
};

std::vector<H2Op> ReadOps(const std::string& path) {
  std::vector<H2Op> ops;
  std::ifstream in(path);
  std::string kind;
  H2Op op;
  while (in >> kind >> op.status >> op.start >> op.end >> op.key >> op.value) {
    op.write = kind == "w";
    ops.push_back(op);
  }
  return ops;
}

size_t AckedWrites(const std::string& path) {
  size_t n = 0;
  for (const H2Op& op : ReadOps(path)) n += op.write && op.status == 200;
  return n;
}

struct H2FailoverResult {
  std::map<int, int> write_errors;  // status -> count (0: no answer)
  int read_errors = 0;
  size_t acked = 0;
  int lost = 0;
  int64_t gap_ms = 0;
};

H2FailoverResult RunH2Failover(int sig) {
  H2FailoverResult res;
  NodeCluster nodes;
  REQUIRE(nodes.Start());
  int old_active = nodes.Active();
  REQUIRE(old_active >= 0);
  RouterProcess router;
  REQUIRE(StartFailoverRouter(router, nodes, old_active));
  TempDir dir("h2load");
  std::string out = dir.path() + "/ops.txt", stop = dir.path() + "/stop";
  Subprocess load =
      Subprocess::Start({"/usr/bin/python3", "test/support/h2_load.py",
                         std::to_string(router.port()), kRootToken, out, stop, "2", "2"},
                        {}, dir.path() + "/h2load.log");
  REQUIRE(PollUntil([&] { return AckedWrites(out) >= 50; }, std::chrono::seconds(15)));
  // Every node reached so far is reached over HTTP/2 (a standby the reads have not picked
  // yet shows none), the active certainly.
  rapidjson::Document st = router.Status();
  for (const auto& n : st["nodes"].GetArray()) {
    std::string proto = n["upstream_protocol"].GetString();
    CHECK_MESSAGE((proto == "h2" || (proto.empty() && !n["active"].GetBool())), proto);
  }
  double event =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  nodes.process(old_active).Signal(sig);
  int new_active = nodes.WaitActive(old_active);
  REQUIRE(new_active >= 0);
  REQUIRE(router.WaitRoles(nodes.name(new_active), 2));
  size_t at = AckedWrites(out);
  CHECK(PollUntil([&] { return AckedWrites(out) >= at + 100; }, std::chrono::seconds(15)));
  std::ofstream(stop).put('x');
  CHECK(load.WaitExit(std::chrono::seconds(20)));
  std::vector<H2Op> ops = ReadOps(out);
  std::vector<double> acked_ends;
  for (const H2Op& op : ops) {
    if (op.write && op.status == 200) {
      ++res.acked;
      acked_ends.push_back(op.end);
      auto r = nodes.Call(new_active, "GET", "/v1/secret/data/" + op.key);
      if (!r || r->status != 200 || KvField(*r, "v") != op.value) ++res.lost;
    } else if (op.write) {
      ++res.write_errors[op.status];
    } else if (op.status != 200) {
      ++res.read_errors;
    }
  }
  std::sort(acked_ends.begin(), acked_ends.end());
  double prev = event;
  for (double t : acked_ends) {
    if (t < event) continue;
    res.gap_ms = std::max<int64_t>(res.gap_ms, static_cast<int64_t>((t - prev) * 1000));
    prev = t;
  }
  st = router.Status();
  MESSAGE("router counters: retries " << StatusCounter(st, "retries") << ", upstream_errors "
                                      << StatusCounter(st, "upstream_errors"));
  return res;
}

std::string Describe(const H2FailoverResult& r) {
  std::ostringstream s;
  s << r.acked << " acked writes, write gap " << r.gap_ms << " ms, read errors " << r.read_errors
    << ", write errors";
  if (r.write_errors.empty()) s << " 0";
  for (auto [status, n] : r.write_errors) s << " " << n << "x" << status;
  s << ", lost " << r.lost;
  return s.str();
}

TEST_CASE("h2 failover: SIGTERM of the active, h2 clients and h2 upstreams -> zero errors") {
  H2FailoverResult r = RunH2Failover(SIGTERM);
  MESSAGE("SIGTERM over h2: " << Describe(r));
  CHECK(r.write_errors.empty());
  CHECK(r.read_errors == 0);
  CHECK(r.lost == 0);
}

TEST_CASE("h2 failover: SIGKILL of the active -> only unknown-outcome writes fail, none lost") {
  H2FailoverResult r = RunH2Failover(SIGKILL);
  MESSAGE("SIGKILL over h2: " << Describe(r));
  for (auto [status, n] : r.write_errors)
    CHECK_MESSAGE(status == 502, n << " writes got " << status);
  CHECK(r.read_errors == 0);
  CHECK(r.lost == 0);
}

TEST_CASE("h2 upstreams: a node with http2_disable is reached over HTTP/1.1, the others over h2") {
  NodeCluster nodes;
  REQUIRE(nodes.Start());
  int active = nodes.Active();
  REQUIRE(active >= 0);
  RouterProcess router;
  REQUIRE(StartFailoverRouter(router, nodes, active));
  for (int i = 0; i < 40; ++i) {
    auto r = HttpCall(router.port(), "GET", "/v1/secret/data/seed/" + std::to_string(i % 20), "",
                      {std::string("X-Vault-Token: ") + kRootToken});
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  rapidjson::Document st = router.Status();
  int h2 = 0;
  for (const auto& n : st["nodes"].GetArray()) {
    h2 += std::string(n["upstream_protocol"].GetString()) == "h2";
  }
  CHECK(h2 == 3);
  // Restart one standby with HTTP/2 off: the router falls back for it, nothing fails.
  int standby = (active + 1) % 3;
  REQUIRE(nodes.Restart(standby, R"("http2_disable": true)"));
  REQUIRE(router.WaitRoles(nodes.name(active), 3));
  for (int i = 0; i < 60; ++i) {
    auto r = HttpCall(router.port(), "GET", "/v1/secret/data/seed/" + std::to_string(i % 20), "",
                      {std::string("X-Vault-Token: ") + kRootToken});
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(router.WaitStatus([&](const rapidjson::Document& d) {
    for (const auto& n : d["nodes"].GetArray()) {
      if (std::string(n["name"].GetString()) == nodes.name(standby)) {
        return std::string(n["upstream_protocol"].GetString()) == "http1";
      }
    }
    return false;
  }));
  CHECK(router.log().find("does not offer HTTP/2") != std::string::npos);
}

}  // namespace
}  // namespace halo::router::testing
