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

TEST_CASE("node TLS: the node's own listener serves https and its banner says so") {
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
}

}  // namespace
}  // namespace halo::router::testing
