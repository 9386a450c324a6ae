// TLS on the router's client listener, in front of three real halo-nodes: real clients
// (curl, hvac, node-vault) with the CA, a wrong CA, plaintext on the TLS port, client
// certificates, hostile handshakes, a SIGHUP certificate swap under a kept-alive connection,
// and a key that does not match its certificate. Certificates come from scripts/make-certs.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/http_test_client.h"
#include "test/support/test_pki.h"
#include "test/support/testbed.h"

namespace halo::router::testing {
namespace {

using halo::testing::CommandResult;
using halo::testing::H2loadOk;
using halo::testing::HttpTestClient;
using halo::testing::PollUntil;
using halo::testing::RunCommand;
using halo::testing::TestPki;
using halo::testing::TlsClientConfig;
using Ms = std::chrono::milliseconds;

const http::Headers kToken = {{"X-Vault-Token", kRootToken}};

// The router's config with `listener` replaced by `listener_json`.
std::string WithListener(const std::string& config, int port, const std::string& listener_json) {
  std::string plain =
      R"({"listener":{"tcp":{"address":"127.0.0.1:)" + std::to_string(port) + R"("}})";
  REQUIRE(config.rfind(plain, 0) == 0);
  return "{\"listener\":" + listener_json + config.substr(plain.size());
}

std::string TlsTcp(int port, const TestPki& pki, const std::string& leaf,
                   const std::string& extra = "") {
  return R"({"tcp":{"address":"127.0.0.1:)" + std::to_string(port) + R"(","tls_cert_file":")" +
         pki.cert(leaf) + R"(","tls_key_file":")" + pki.key(leaf) + "\"" +
         (extra.empty() ? "" : "," + extra) + "}}";
}

// Real nodes (plaintext) and a router with TLS on port() and plaintext on plain_port.
struct TlsStack {
  explicit TlsStack(const std::string& tls_extra = "", const std::string& extra = "")
      : pki("halo test CA", {"router", "client"}), other("other CA", {"router", "client"}) {
    REQUIRE(pki.ok());
    REQUIRE(other.ok());
    REQUIRE(nodes.Start());
    REQUIRE(router.Start(Config(tls_extra, extra)));
    REQUIRE(router.WaitRoles(nodes.name(nodes.Active()), 3));
  }
  std::string Config(const std::string& tls_extra = "", const std::string& extra = "") {
    std::string base = R"("health_check":{"interval":"100ms","timeout":"500ms"})";
    std::string cfg = RouterConfigJson(router.port(), nodes.RouterNodes(),
                                       base + (extra.empty() ? "" : "," + extra));
    return WithListener(cfg, router.port(),
                        "[" + TlsTcp(router.port(), pki, "router", tls_extra) +
                            R"(,{"tcp":{"address":"127.0.0.1:)" + std::to_string(plain_port) +
                            "\"}}]");
  }
  std::string url() const { return "https://localhost:" + std::to_string(router.port()); }
  TlsClientConfig Verified() const {
    TlsClientConfig c;
    c.ca_file = pki.ca();
    return c;
  }
  TestPki pki, other;
  NodeCluster nodes;
  int plain_port = halo::testing::PickFreePort();
  RouterProcess router;
};

TEST_CASE(
    "router TLS: curl, hvac and node-vault through the router with the CA; a wrong CA "
    "fails cleanly; plaintext on the TLS port gets a 400") {
  TlsStack s;
  // curl: a write and its read back.
  CommandResult put =
      RunCommand({"/usr/bin/curl", "-sS", "--cacert", s.pki.ca(), "-X", "PUT", "-H",
                  std::string("X-Vault-Token: ") + kRootToken, "-d", R"({"data":{"v":"curl"}})",
                  "-o", "/dev/null", "-w", "%{http_code}", s.url() + "/v1/secret/data/tls/curl"});
  CHECK(put.output == "200");
  CommandResult get = RunCommand({"/usr/bin/curl", "-sS", "--cacert", s.pki.ca(), "-H",
                                  std::string("X-Vault-Token: ") + kRootToken,
                                  s.url() + "/v1/secret/data/tls/curl"});
  CHECK(get.status == 0);
  CHECK(get.output.find(R"("v":"curl")") != std::string::npos);
  CommandResult wrong = RunCommand({"/usr/bin/curl", "-sS", "--cacert", s.other.ca(),
                                    s.url() + "/v1/sys/health?standbyok=true"});
  CHECK(wrong.status == 60);  // curl: peer certificate cannot be authenticated
  MESSAGE("curl with another CA: " << wrong.output);

  // hvac (Debian's python3-hvac) with verify=<ca>, and with the wrong CA.
  const char* hvac_script =
      "import sys, hvac, requests\n"
      "c = hvac.Client(url=sys.argv[1], token=sys.argv[2], verify=sys.argv[3])\n"
      "try:\n"
      "    c.secrets.kv.v2.create_or_update_secret(path='tls/hvac', secret={'v': 'hvac'})\n"
      "    print(c.secrets.kv.v2.read_secret_version(path='tls/hvac')['data']['data']['v'])\n"
      "except requests.exceptions.SSLError as e:\n"
      "    print('SSLError', e)\n"
      "    sys.exit(3)\n";
  CommandResult hvac =
      RunCommand({"/usr/bin/python3", "-c", hvac_script, s.url(), kRootToken, s.pki.ca()});
  CHECK(hvac.status == 0);
  CHECK(hvac.output == "hvac\n");
  CommandResult hvac_wrong =
      RunCommand({"/usr/bin/python3", "-c", hvac_script, s.url(), kRootToken, s.other.ca()});
  CHECK(hvac_wrong.status == 3);
  CHECK(hvac_wrong.output.find("CERTIFICATE_VERIFY_FAILED") != std::string::npos);

  // node-vault (npm, installed by scripts/deps into build/npm) with the CA.
  const char* node_script =
      "const fs = require('fs');"
      "const v = require('node-vault')({apiVersion: 'v1', endpoint: process.argv[1],"
      "  token: process.argv[2], requestOptions: {ca: fs.readFileSync(process.argv[3])}});"
      "v.write('secret/data/tls/node', {data: {v: 'node-vault'}})"
      ".then(() => v.read('secret/data/tls/node'))"
      ".then(r => console.log(r.data.data.v))"
      ".catch(e => { console.log('error', e.message); process.exit(3); });";
  std::string node_path = "NODE_PATH=build/npm/node_modules";
  CommandResult nv = RunCommand(
      {"/usr/bin/env", node_path, "node", "-e", node_script, s.url(), kRootToken, s.pki.ca()});
  CHECK(nv.status == 0);
  CHECK(nv.output == "node-vault\n");
  CommandResult nv_wrong = RunCommand(
      {"/usr/bin/env", node_path, "node", "-e", node_script, s.url(), kRootToken, s.other.ca()});
  CHECK(nv_wrong.status == 3);
  MESSAGE("node-vault with another CA: " << nv_wrong.output);

  // Plaintext HTTP to the TLS port: a clear 400, then the close (not a hang).
  HttpTestClient plain(s.router.port());
  auto r = plain.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r.ok());
  CHECK(r->status == 400);
  CHECK(r->body.find("plain HTTP request to a TLS port") != std::string::npos);
  CHECK(plain.WaitForClose(Ms(3000)));
  // The plaintext listener beside it serves as before.
  HttpTestClient loopback(s.plain_port);
  auto h = loopback.Get("/v1/sys/health?standbyok=true");
  REQUIRE(h.ok());
  CHECK(h->status == 200);
}

TEST_CASE(
    "router TLS: HTTP/2 by ALPN: curl --http2 and h2load over https, h2 to the nodes; "
    "http2_disable keeps the listener on HTTP/1.1") {
  const std::string token = std::string("X-Vault-Token: ") + kRootToken;
  {
    TlsStack s;
    CommandResult put =
        RunCommand({"/usr/bin/curl", "-sS", "--http2", "--cacert", s.pki.ca(), "-X", "PUT", "-H",
                    token, "-d", R"({"data":{"v":"alpn"}})", "-o", "/dev/null", "-w",
                    "%{http_version} %{http_code}", s.url() + "/v1/secret/data/tls/h2"});
    CHECK_MESSAGE(put.output == "2 200", put.output);
    CommandResult get =
        RunCommand({"/usr/bin/curl", "-sS", "--http2", "--cacert", s.pki.ca(), "-H", token, "-w",
                    "\n%{http_version}", s.url() + "/v1/secret/data/tls/h2"});
    CHECK(get.output.find(R"("v":"alpn")") != std::string::npos);
    CHECK(get.output.substr(get.output.rfind('\n') + 1) == "2");
    CommandResult load = RunCommand({"/usr/bin/h2load", "-n", "1000", "-c", "4", "-m", "10", "-H",
                                     token, s.url() + "/v1/secret/data/tls/h2"});
    CHECK_MESSAGE(load.output.find("Application protocol: h2") != std::string::npos, load.output);
    CHECK(H2loadOk(load.output) == 1000);
    rapidjson::Document st = s.router.Status();
    int h2 = 0;
    for (const auto& n : st["nodes"].GetArray()) {
      h2 += std::string(n["upstream_protocol"].GetString()) == "h2";
    }
    CHECK(h2 >= 2);  // the active and the standby that served the reads
  }
  TlsStack off(R"("http2_disable": true)");
  CommandResult one = RunCommand({"/usr/bin/curl", "-sS", "--http2", "--cacert", off.pki.ca(), "-o",
                                  "/dev/null", "-w", "%{http_version} %{http_code}",
                                  off.url() + "/v1/sys/health?standbyok=true"});
  CHECK_MESSAGE(one.output == "1.1 200", one.output);
}

TEST_CASE("router TLS: a required client certificate: missing or from another CA is refused") {
  TlsStack s;
  TestPki& pki = s.pki;
  std::string mtls =
      R"("tls_client_ca_file":")" + pki.ca() + R"(","tls_require_and_verify_client_cert":true)";
  REQUIRE(s.router.Reload(s.Config(mtls)) == true);
  auto answered = [&](TlsClientConfig cfg) {
    HttpTestClient c(s.router.port());
    REQUIRE(c.UseTls(cfg).ok());
    if (!c.Connect().ok()) return false;
    auto r = c.Get("/v1/sys/health?standbyok=true");
    return r.ok() && r->status == 200;
  };
  TlsClientConfig none = s.Verified();
  CHECK_FALSE(answered(none));
  TlsClientConfig foreign = none;
  foreign.cert_file = s.other.cert("client");
  foreign.key_file = s.other.key("client");
  CHECK_FALSE(answered(foreign));
  TlsClientConfig good = none;
  good.cert_file = pki.cert("client");
  good.key_file = pki.key("client");
  CHECK(answered(good));
}

TEST_CASE(
    "router TLS: garbage, truncated and stalled ClientHellos and renegotiation are "
    "closed within the header timeout; the router keeps serving") {
  TlsStack s("", R"("limits":{"header_timeout":"500ms"})");
  // TLS record header, then garbage.
  HttpTestClient garbage(s.router.port());
  REQUIRE(garbage.SendRaw(std::string("\x16\x03\x01\x00\x40", 5) + std::string(64, 'Z')).ok());
  CHECK(garbage.WaitForClose(Ms(3000)));
  // A ClientHello cut short, then silence: the header timeout ends it.
  HttpTestClient truncated(s.router.port());
  REQUIRE(truncated.SendRaw(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)).ok());
  auto t0 = std::chrono::steady_clock::now();
  CHECK(truncated.WaitForClose(Ms(5000)));
  auto waited = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("truncated ClientHello closed after " << waited << " ms (header_timeout 500ms)");
  // A connection that never starts the handshake.
  HttpTestClient silent(s.router.port());
  REQUIRE(silent.Connect().ok());
  CHECK(silent.WaitForClose(Ms(5000)));
  // Renegotiation (TLS 1.2): refused.
  TlsClientConfig tls12 = s.Verified();
  tls12.tls12_only = true;
  HttpTestClient reneg(s.router.port());
  REQUIRE(reneg.UseTls(tls12).ok());
  REQUIRE(reneg.Connect().ok());
  Status st = reneg.Renegotiate();
  CHECK_FALSE(st.ok());
  MESSAGE("renegotiation: " << st.ToString());
  // The router still serves TLS clients.
  HttpTestClient good(s.router.port());
  REQUIRE(good.UseTls(s.Verified()).ok());
  auto r = good.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
}

TEST_CASE(
    "router TLS: SIGHUP swaps the certificate; a kept-alive connection keeps working; "
    "a bad new file keeps the old certificate") {
  TlsStack s;
  HttpTestClient kept(s.router.port());
  REQUIRE(kept.UseTls(s.Verified()).ok());
  auto r1 = kept.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r1.ok());
  std::string old_cert = kept.PeerCertificate();
  REQUIRE(!old_cert.empty());
  // Renew in place (as cert-manager or certbot do), then SIGHUP.
  REQUIRE(s.pki.AddLeaf("router"));
  REQUIRE(s.router.Reload(s.Config()));
  auto r2 = kept.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r2.ok());
  CHECK(r2->status == 200);
  CHECK(kept.connections_opened() == 1);
  HttpTestClient fresh(s.router.port());
  REQUIRE(fresh.UseTls(s.Verified()).ok());
  auto r3 = fresh.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r3.ok());
  std::string new_cert = fresh.PeerCertificate();
  CHECK(new_cert != old_cert);
  MESSAGE("certificate before SIGHUP " << old_cert << ", after " << new_cert);
  // A broken file: the reload keeps the running certificate and says why.
  halo::testing::WriteFile(s.pki.cert("router"), "not a certificate\n");
  REQUIRE(s.router.Reload(s.Config()));
  HttpTestClient after_bad(s.router.port());
  REQUIRE(after_bad.UseTls(s.Verified()).ok());
  auto r4 = after_bad.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r4.ok());
  CHECK(after_bad.PeerCertificate() == new_cert);
  CHECK(StatusCounter(s.router.Status(), "tls_reload_failures") == 1);
  CHECK(s.router.log().find("keeps its running TLS certificate") != std::string::npos);
}

TEST_CASE(
    "router and node TLS: a key that does not match its certificate stops startup with a "
    "clear error") {
  TestPki pki("halo test CA", {"a", "b"});
  REQUIRE(pki.ok());
  halo::testing::TempDir dir("tlsbad");
  int port = halo::testing::PickFreePort();
  std::string listener = R"({"tcp":{"address":"127.0.0.1:)" + std::to_string(port) +
                         R"(","tls_cert_file":")" + pki.cert("a") + R"(","tls_key_file":")" +
                         pki.key("b") + "\"}}";
  std::string router_cfg = halo::testing::WriteFile(
      dir.Join("router.json"), R"({"listener":)" + listener + R"(,"admin":{"address":"127.0.0.1:)" +
                                   std::to_string(halo::testing::PickFreePort()) +
                                   R"("},"nodes":[{"name":"n","address":"127.0.0.1:1"}]})");
  CommandResult r = RunCommand({halo::testing::BinPath("halo-router"), "--config", router_cfg});
  CHECK(r.status != 0);
  CHECK(r.output.find("does not match") != std::string::npos);
  MESSAGE("router: " << r.output);
  std::string node_cfg = halo::testing::WriteFile(
      dir.Join("node.json"),
      R"({"storage":{"inmem":{}},"root_token":"t","listener":)" + listener + "}");
  CommandResult n = RunCommand({halo::testing::BinPath("halo-node"), "--config", node_cfg});
  CHECK(n.status != 0);
  CHECK(n.output.find("does not match") != std::string::npos);
  MESSAGE("node: " << n.output);
}

TEST_CASE(
    "node TLS: the node's own listener serves https, its banner says so, SIGHUP "
    "reloads the certificate") {
  TestPki pki("halo test CA", {"node"});
  REQUIRE(pki.ok());
  halo::testing::TempDir dir("tlsnode");
  int port = halo::testing::PickFreePort();
  std::string cfg = halo::testing::WriteFile(
      dir.Join("node.json"), R"({"storage":{"inmem":{}},"listener":{"tcp":{"address":"127.0.0.1:)" +
                                 std::to_string(port) + R"(","tls_cert_file":")" +
                                 pki.cert("node") + R"(","tls_key_file":")" + pki.key("node") +
                                 R"("}},"root_token":"t"})");
  std::string log = dir.Join("node.log");
  halo::testing::Subprocess node = halo::testing::Subprocess::Start(
      {halo::testing::BinPath("halo-node"), "--config", cfg}, {}, log);
  HttpTestClient c(port);
  TlsClientConfig tls;
  tls.ca_file = pki.ca();
  REQUIRE(c.UseTls(tls).ok());
  REQUIRE(PollUntil([&] { return c.Connect(Ms(200)).ok(); }, std::chrono::seconds(10)));
  auto r = c.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CommandResult cat = RunCommand({"/bin/cat", log});
  CHECK(cat.output.find("tls: \"enabled\"") != std::string::npos);
  CHECK(cat.output.find("Api Address: https://127.0.0.1:" + std::to_string(port)) !=
        std::string::npos);
  HttpTestClient plain(port);
  auto p = plain.Get("/v1/sys/health?standbyok=true");
  REQUIRE(p.ok());
  CHECK(p->status == 400);
  // SIGHUP: the renewed certificate for new connections; the open one keeps working.
  std::string old_cert = c.PeerCertificate();
  REQUIRE(pki.AddLeaf("node"));
  node.Signal(SIGHUP);
  REQUIRE(PollUntil(
      [&] {
        return RunCommand({"/bin/cat", log}).output.find("reloaded the TLS certificate") !=
               std::string::npos;
      },
      std::chrono::seconds(10)));
  auto again = c.Get("/v1/sys/health?standbyok=true");
  REQUIRE(again.ok());
  CHECK(again->status == 200);
  CHECK(c.connections_opened() == 1);
  HttpTestClient fresh(port);
  REQUIRE(fresh.UseTls(tls).ok());
  REQUIRE(fresh.Get("/v1/sys/health?standbyok=true").ok());
  CHECK(fresh.PeerCertificate() != old_cert);
  // A broken file: the node keeps serving the certificate it has, and says why.
  halo::testing::WriteFile(pki.cert("node"), "garbage\n");
  node.Signal(SIGHUP);
  REQUIRE(PollUntil(
      [&] {
        return RunCommand({"/bin/cat", log}).output.find("keeping the running TLS certificate") !=
               std::string::npos;
      },
      std::chrono::seconds(10)));
  HttpTestClient after(port);
  REQUIRE(after.UseTls(tls).ok());
  REQUIRE(after.Get("/v1/sys/health?standbyok=true").ok());
  CHECK(after.PeerCertificate() == fresh.PeerCertificate());
}

}  // namespace
}  // namespace halo::router::testing

namespace halo::router::testing {
namespace {

// Three halo-nodes with TLS listeners that require a client certificate from the cluster CA,
// forwarding to the active over mutual TLS (cluster_tls), and the router in front with
// upstream_tls (the same CA, its own client certificate). `rogue` >= 0: that node's
// certificates come from another CA.
struct MtlsCluster {
  explicit MtlsCluster(int rogue = -1)
      : pki("cluster CA", {"node1", "node2", "node3", "router", "client"}),
        other("rogue CA", {"node1", "node2", "node3"}),
        dir("mtls") {
    REQUIRE(pki.ok());
    REQUIRE(other.ok());
    for (int i = 0; i < 3; ++i) ports.push_back(halo::testing::PickFreePort());
    procs.resize(3);
    for (int i = 0; i < 3; ++i) {
      const TestPki& p = i == rogue ? other : pki;
      std::string n = "node" + std::to_string(i + 1);
      std::string cfg = halo::testing::WriteFile(
          dir.Join(n + ".json"),
          R"({"storage":{"lmdb":{"path":")" + dir.Join("data") +
              R"("}},"listener":{"tcp":{"address":"127.0.0.1:)" + std::to_string(ports[i]) +
              R"(","tls_cert_file":")" + p.cert(n) + R"(","tls_key_file":")" + p.key(n) +
              R"(","tls_client_ca_file":")" + p.ca() +
              R"(","tls_require_and_verify_client_cert":true}},"cluster_tls":{"ca_file":")" +
              p.ca() + R"(","cert_file":")" + p.cert(n) + R"(","key_file":")" + p.key(n) +
              R"("},"cluster_name":"mtls","node_name":")" + n + R"(","root_token":")" + kRootToken +
              R"(","log_level":"warn","cluster_secret":"mtls-test-secret-)" + dir.path() + R"("})");
      procs[i] = halo::testing::Subprocess::Start(
          {halo::testing::BinPath("halo-node"), "--config", cfg}, {}, dir.Join(n + ".log"));
      // node1 first, active before the others start: the test knows who holds the lock.
      if (i == 0) REQUIRE(PollUntil([&] { return Health(0) == 200; }, std::chrono::seconds(15)));
    }
  }
  TlsClientConfig Client() const {
    TlsClientConfig c;
    c.ca_file = pki.ca();
    c.cert_file = pki.cert("client");
    c.key_file = pki.key("client");
    return c;
  }
  // sys/health of node i over mTLS (0: no answer).
  int Health(int i) {
    HttpTestClient c(ports[i]);
    if (!c.UseTls(Client()).ok() || !c.Connect(Ms(500)).ok()) return 0;
    auto r = c.Get("/v1/sys/health");
    return r.ok() ? r->status : 0;
  }
  int WaitActive() {
    int active = -1;
    (void)PollUntil(
        [&] {
          for (int i = 0; i < 3; ++i) {
            if (Health(i) == 200) active = i;
          }
          return active >= 0;
        },
        std::chrono::seconds(15));
    return active;
  }
  std::string RouterConfig(int port) {
    std::vector<std::pair<std::string, std::string>> nodes;
    for (int i = 0; i < 3; ++i) {
      nodes.push_back({"node" + std::to_string(i + 1), "127.0.0.1:" + std::to_string(ports[i])});
    }
    std::string extra =
        R"("health_check":{"interval":"100ms","timeout":"500ms"},"upstream_tls":{"ca_file":")" +
        pki.ca() + R"(","cert_file":")" + pki.cert("router") + R"(","key_file":")" +
        pki.key("router") + R"("})";
    return RouterConfigJson(port, nodes, extra);
  }
  TestPki pki, other;
  halo::testing::TempDir dir;
  std::vector<int> ports;
  std::vector<halo::testing::Subprocess> procs;
};

TEST_CASE(
    "TLS to the nodes: the router over upstream_tls and standbys forwarding to the "
    "active over mutual TLS") {
  MtlsCluster c;
  int active = c.WaitActive();
  REQUIRE(active >= 0);
  RouterProcess router;
  REQUIRE(router.Start(c.RouterConfig(router.port())));
  REQUIRE(router.WaitRoles("node" + std::to_string(active + 1), 3));
  // Through the router (plaintext client listener here; the hops to the nodes are TLS).
  HttpTestClient client(router.port());
  auto w = client.Put("/v1/secret/data/mtls/a", R"({"data":{"v":"1"}})", kToken);
  REQUIRE(w.ok());
  CHECK(w->status == 200);
  auto r = client.Get("/v1/secret/data/mtls/a", kToken);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.find(R"("v":"1")") != std::string::npos);
  // A write sent to a standby is forwarded to the active over mutual TLS.
  int standby = active == 0 ? 1 : 0;
  HttpTestClient direct(c.ports[standby]);
  REQUIRE(direct.UseTls(c.Client()).ok());
  auto f = direct.Put("/v1/secret/data/mtls/b", R"({"data":{"v":"2"}})", kToken);
  REQUIRE(f.ok());
  CHECK(f->status == 200);
  // A client without a certificate is refused by every node.
  TlsClientConfig anonymous;
  anonymous.ca_file = c.pki.ca();
  HttpTestClient anon(c.ports[active]);
  REQUIRE(anon.UseTls(anonymous).ok());
  auto a = anon.Get("/v1/sys/health");
  CHECK_FALSE(a.ok());
  // Renewed client certificates: SIGHUP reads the router's upstream_tls and the standby's
  // cluster_tls files again; writes go on. A broken file is refused and the running
  // certificates stay (the error is logged; info lines are off at log_level warn).
  std::string node_log = c.dir.Join("node" + std::to_string(standby + 1) + ".log");
  REQUIRE(c.pki.AddLeaf("router"));
  REQUIRE(c.pki.AddLeaf("node" + std::to_string(standby + 1)));
  REQUIRE(router.Reload(c.RouterConfig(router.port())));
  c.procs[standby].Signal(SIGHUP);
  halo::testing::WriteFile(c.pki.cert("router"), "garbage\n");
  REQUIRE(router.Reload(c.RouterConfig(router.port())));
  CHECK(router.log().find("upstream_tls keeps its running certificates") != std::string::npos);
  CHECK(StatusCounter(router.Status(), "tls_reload_failures") == 1);
  halo::testing::WriteFile(c.pki.cert("node" + std::to_string(standby + 1)), "garbage\n");
  c.procs[standby].Signal(SIGHUP);
  REQUIRE(PollUntil(
      [&] {
        return RunCommand({"/bin/cat", node_log}).output.find("keeping the running cluster_tls") !=
               std::string::npos;
      },
      std::chrono::seconds(10)));
  HttpTestClient after(router.port());
  auto w2 = after.Put("/v1/secret/data/mtls/c", R"({"data":{"v":"3"}})", kToken);
  REQUIRE(w2.ok());
  CHECK(w2->status == 200);
  HttpTestClient direct2(c.ports[standby]);
  REQUIRE(direct2.UseTls(c.Client()).ok());
  auto f2 = direct2.Put("/v1/secret/data/mtls/d", R"({"data":{"v":"4"}})", kToken);
  REQUIRE(f2.ok());
  CHECK(f2->status == 200);
}

TEST_CASE(
    "TLS to the nodes: a node serving an expired certificate is marked down, and the "
    "status page says the certificate has expired") {
  TestPki pki("cluster CA", {"unused"});
  REQUIRE(pki.ok());
  REQUIRE(pki.AddLeaf("expired", -1));
  halo::testing::TempDir dir("expired");
  int port = halo::testing::PickFreePort();
  std::string cfg = halo::testing::WriteFile(
      dir.Join("node.json"), R"({"storage":{"inmem":{}},"listener":{"tcp":{"address":"127.0.0.1:)" +
                                 std::to_string(port) + R"(","tls_cert_file":")" +
                                 pki.cert("expired") + R"(","tls_key_file":")" +
                                 pki.key("expired") + R"("}},"root_token":"t"})");
  halo::testing::Subprocess node = halo::testing::Subprocess::Start(
      {halo::testing::BinPath("halo-node"), "--config", cfg}, {}, dir.Join("node.log"));
  RouterProcess router;
  REQUIRE(router.Start(RouterConfigJson(
      router.port(), {{"n1", "127.0.0.1:" + std::to_string(port)}},
      R"("health_check":{"interval":"100ms","timeout":"500ms"},"upstream_tls":{"ca_file":")" +
          pki.ca() + R"("})")));
  std::string reason;
  CHECK(router.WaitStatus([&](const rapidjson::Document& d) {
    const auto& n = d["nodes"].GetArray()[0];
    reason = n.HasMember("last_error") ? n["last_error"].GetString() : "";
    return reason.find("expired") != std::string::npos && !n["up"].GetBool();
  }));
  MESSAGE("expired upstream certificate: " << reason);
  HttpTestClient c(router.port());
  auto r = c.Get("/v1/sys/health?standbyok=true");
  REQUIRE(r.ok());
  CHECK(r->status == 503);
}

TEST_CASE(
    "TLS to the nodes: a node with a certificate from another CA can neither forward nor "
    "be forwarded to, and the router marks it down with the reason") {
  // node3 is the rogue; start the two good ones first so that one of them is active.
  MtlsCluster c(2);
  int active = c.WaitActive();
  REQUIRE(active >= 0);
  REQUIRE(active != 2);  // the rogue cannot even be reached to be asked
  RouterProcess router;
  REQUIRE(router.Start(c.RouterConfig(router.port())));
  REQUIRE(router.WaitRoles("node" + std::to_string(active + 1), 2));
  // The router's status names the certificate problem for node3.
  bool reason = router.WaitStatus([](const rapidjson::Document& d) {
    for (const auto& n : d["nodes"].GetArray()) {
      if (std::string(n["name"].GetString()) != "node3") continue;
      std::string err = n.HasMember("last_error") ? n["last_error"].GetString() : "";
      return err.find("certificate") != std::string::npos;
    }
    return false;
  });
  CHECK(reason);
  rapidjson::Document st = router.Status();
  for (const auto& n : st["nodes"].GetArray()) {
    if (std::string(n["name"].GetString()) == "node3") {
      MESSAGE("node3 on the status page: " << std::string(n["last_error"].GetString()));
    }
  }
  // The rogue, asked directly (with a certificate it trusts), cannot forward to the active:
  // the active refuses its client certificate and it refuses the active's server certificate.
  HttpTestClient rogue(c.ports[2]);
  TlsClientConfig rc;
  rc.ca_file = c.other.ca();
  rc.cert_file = c.other.cert("node1");
  rc.key_file = c.other.key("node1");
  REQUIRE(rogue.UseTls(rc).ok());
  auto w = rogue.Put("/v1/secret/data/mtls/rogue", R"({"data":{"v":"x"}})", kToken);
  REQUIRE(w.ok());
  CHECK(w->status >= 500);
  MESSAGE("write through the rogue node: " << w->status << " " << w->body);
  // Nothing was written.
  HttpTestClient good(c.ports[active]);
  REQUIRE(good.UseTls(c.Client()).ok());
  auto r = good.Get("/v1/secret/data/mtls/rogue", kToken);
  REQUIRE(r.ok());
  CHECK(r->status == 404);
}

}  // namespace
}  // namespace halo::router::testing
