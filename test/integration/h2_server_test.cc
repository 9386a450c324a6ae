// HTTP/2 on the plaintext listeners (prior knowledge) of a real halo-node and the real
// halo-router in front of three nodes:
//   hostile peers in real frames (test/support/h2_hostile.py, python3-h2 and raw bytes):
//   rapid reset (CVE-2023-44487), a CONTINUATION flood (CVE-2024-27316), PING and SETTINGS
//   floods and an HPACK bomb each get GOAWAY ENHANCE_YOUR_CALM (0xb), an oversized header
//   list a 431 on its stream; memory stays bounded and the server keeps answering;
//   real clients: curl --http2-prior-knowledge, nghttp and h2load.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test/router/failover_load.h"
#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/proc_status.h"
#include "test/support/subprocess.h"
#include "test/support/testbed.h"

namespace halo::router::testing {
namespace {

using halo::testing::CommandResult;
using halo::testing::H2loadOk;
using halo::testing::ProcStatusKb;
using halo::testing::RunCommand;

std::string Hostile(int port, const std::string& which) {
  CommandResult r =
      RunCommand({"/usr/bin/python3", "test/support/h2_hostile.py", std::to_string(port), which});
  std::string out = r.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  size_t nl = out.rfind('\n');  // the outcome is the last line
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

// Every hostile case against the server on `port` (process `pid`); `ok` is the status the
// plain request after them must get.
void RunHostileCases(const std::string& who, int port, pid_t pid, const std::string& ok) {
  const int64_t rss0 = ProcStatusKb(pid, "VmRSS");
  for (std::string which : {"rapid-reset", "continuation", "ping", "settings", "hpack-bomb"}) {
    std::string got = Hostile(port, which);
    MESSAGE(who << " " << which << ": " << got);
    CHECK_MESSAGE(got == "goaway 11", who << " " << which);  // ENHANCE_YOUR_CALM
  }
  std::string big = Hostile(port, "big-header");
  MESSAGE(who << " big-header: " << big);
  CHECK(big == "status 431");
  CHECK(Hostile(port, "ok") == "status " + ok);
  const int64_t rss1 = ProcStatusKb(pid, "VmRSS");
  MESSAGE(who << " RSS " << rss0 / 1024 << " -> " << rss1 / 1024 << " MiB");
  CHECK(rss1 < rss0 + 16 * 1024);
}

struct H2Stack {
  H2Stack() {
    REQUIRE(nodes.Start());
    active = nodes.Active();
    REQUIRE(active >= 0);
    REQUIRE(StartFailoverRouter(router, nodes, active));
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(router.port()) + path;
  }
  NodeCluster nodes;
  RouterProcess router;
  int active = -1;
};

TEST_CASE(
    "h2 server: rapid reset, CONTINUATION, PING and SETTINGS floods and an HPACK bomb get "
    "GOAWAY ENHANCE_YOUR_CALM from the node and the router; memory stays bounded") {
  H2Stack s;
  RunHostileCases("node", s.nodes.port(s.active), s.nodes.process(s.active).pid(), "200");
  int standby = s.active == 0 ? 1 : 0;
  CHECK(Hostile(s.nodes.port(standby), "ok") == "status 429");  // sys/health of a standby
  // Through the router, sys/health is read from a standby.
  RunHostileCases("router", s.router.port(), s.router.process().pid(), "429");
  for (int i = 0; i < s.nodes.size(); ++i) CHECK(s.nodes.process(i).Running());
  CHECK(s.router.process().Running());
}

TEST_CASE("h2 clients: curl --http2-prior-knowledge, nghttp and h2load through the router") {
  H2Stack s;
  const std::string token = std::string("X-Vault-Token: ") + kRootToken;
  CommandResult put =
      RunCommand({"/usr/bin/curl", "-sS", "--http2-prior-knowledge", "-X", "PUT", "-H", token, "-d",
                  R"({"data":{"v":"h2"}})", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                  s.url("/v1/secret/data/h2/curl")});
  CHECK_MESSAGE(put.output == "2 200", put.output);
  CommandResult get = RunCommand({"/usr/bin/curl", "-sS", "--http2-prior-knowledge", "-H", token,
                                  "-w", "\n%{http_version}", s.url("/v1/secret/data/h2/curl")});
  CHECK(get.output.find(R"("v":"h2")") != std::string::npos);
  CHECK(get.output.substr(get.output.rfind('\n') + 1) == "2");

  CommandResult ng =
      RunCommand({"/usr/bin/nghttp", "-nv", "-H", token, s.url("/v1/secret/data/h2/curl")});
  CHECK_MESSAGE(ng.status == 0, ng.output);
  CHECK(ng.output.find(":status: 200") != std::string::npos);

  // Many streams on a few connections, reads and writes.
  CommandResult reads = RunCommand({"/usr/bin/h2load", "-n", "2000", "-c", "4", "-m", "10", "-H",
                                    token, s.url("/v1/secret/data/h2/curl")});
  MESSAGE("h2load reads: " << reads.output.substr(reads.output.find("finished in")));
  CHECK(H2loadOk(reads.output) == 2000);
  halo::testing::TempDir dir("h2load-put");
  std::string body = halo::testing::WriteFile(dir.Join("body.json"), R"({"data":{"v":"load"}})");
  CommandResult writes =
      RunCommand({"/usr/bin/h2load", "-n", "400", "-c", "2", "-m", "4", "-d", body, "-H", token,
                  "-H", "Content-Type: application/json", s.url("/v1/secret/data/h2/load")});
  CHECK(H2loadOk(writes.output) == 400);
  auto r = s.nodes.Call(s.active, "GET", "/v1/secret/data/h2/load");
  REQUIRE(r);
  CHECK(r->body.find(R"("version":400)") != std::string::npos);
  CHECK(s.router.process().Running());
}

}  // namespace
}  // namespace halo::router::testing
