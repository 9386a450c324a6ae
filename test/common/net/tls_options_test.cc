#include "common/net/tls_options.h"

#include <doctest/doctest.h>

#include "common/json_config.h"
#include "common/net/tls_context.h"
#include "test/support/test_pki.h"

namespace halo::net {
namespace {

// Parses `tcp_json` as a listener.tcp block.
Status Parse(const std::string& tcp_json, TlsOptions* out) {
  Result<rapidjson::Document> doc = ParseJson(tcp_json, "test");
  REQUIRE(doc.ok());
  ConfigObject tcp(*doc, "listener.tcp");
  return ParseTlsListener(tcp, out);
}

TEST_CASE("ParseTlsListener: OpenBao's keys, TLS on only with a certificate and key") {
  struct Case {
    const char* json;
    bool ok;
    bool enabled;
    const char* error;  // substring of the message
  };
  const Case cases[] = {
      {R"({})", true, false, ""},
      {R"({"tls_disable":true})", true, false, ""},
      {R"({"tls_disable":true,"tls_cert_file":"c","tls_key_file":"k"})", true, false, ""},
      {R"({"tls_cert_file":"c","tls_key_file":"k"})", true, true, ""},
      {R"({"tls_disable":false,"tls_cert_file":"c","tls_key_file":"k"})", true, true, ""},
      {R"({"tls_disable":false})", false, false, "listener.tcp.tls_disable: false, but no"},
      {R"({"tls_cert_file":"c"})", false, false, "listener.tcp.tls_key_file: missing"},
      {R"({"tls_key_file":"k"})", false, false, "listener.tcp.tls_cert_file: missing"},
      {R"({"tls_cert_file":"c","tls_key_file":"k","tls_min_version":"tls11"})", false, false,
       "listener.tcp.tls_min_version: expected"},
      {R"({"tls_cert_file":"c","tls_key_file":"k","tls_min_version":"tls13"})", true, true, ""},
      {R"({"tls_cert_file":"c","tls_key_file":"k","tls_require_and_verify_client_cert":true})",
       false, false, "needs tls_client_ca_file"},
      {R"({"tls_disable":"yes"})", false, false, "listener.tcp.tls_disable"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    TlsOptions o;
    Status st = Parse(c.json, &o);
    CHECK(st.ok() == c.ok);
    if (st.ok()) CHECK(o.enabled == c.enabled);
    if (!c.ok) CHECK(st.message().find(c.error) != std::string::npos);
  }
}

TEST_CASE(
    "TlsContext::CreateServer: clear errors for missing files, a mismatched key and a bad "
    "cipher list") {
  halo::testing::TestPki pki("unit CA", {"a", "b"});
  REQUIRE(pki.ok());
  TlsOptions o;
  o.enabled = true;
  o.cert_file = pki.cert("a");
  o.key_file = pki.key("a");
  Result<std::shared_ptr<TlsContext>> good = TlsContext::CreateServer(o);
  REQUIRE(good.ok());
  CHECK((*good)->seconds_to_expiry() > 364 * 86400);

  TlsOptions mismatch = o;
  mismatch.key_file = pki.key("b");
  Result<std::shared_ptr<TlsContext>> m = TlsContext::CreateServer(mismatch);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("does not match tls_cert_file") != std::string::npos);

  TlsOptions missing = o;
  missing.cert_file = pki.dir() + "/nope.pem";
  Result<std::shared_ptr<TlsContext>> n = TlsContext::CreateServer(missing);
  REQUIRE_FALSE(n.ok());
  CHECK(n.status().message().find("tls_cert_file " + missing.cert_file) != std::string::npos);

  TlsOptions ciphers = o;
  ciphers.cipher_suites = "NOT-A-CIPHER";
  Result<std::shared_ptr<TlsContext>> c = TlsContext::CreateServer(ciphers);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("tls_cipher_suites") != std::string::npos);

  // A reload that fails keeps the context it had.
  std::shared_ptr<const TlsContext> current = *good;
  CHECK_FALSE(ReloadServerContext(mismatch, &current).ok());
  CHECK(current == *good);
  CHECK(ReloadServerContext(o, &current).ok());
  CHECK(current != *good);
}

}  // namespace
}  // namespace halo::net
