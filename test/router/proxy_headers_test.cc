#include "router/proxy_headers.h"

#include <doctest/doctest.h>

#include "common/http/request_parser.h"
#include "common/http/response_parser.h"

namespace halo::router {
namespace {

http::Request Parse(const std::string& bytes) {
  http::RequestParser p;
  http::ParseProgress pr = p.Feed(bytes);
  REQUIRE(pr.state == http::ParseState::kMessageComplete);
  return p.TakeRequest();
}

TEST_CASE("AppendUpstreamRequestHead rewrites only what crosses the proxy") {
  http::Request req = Parse(
      "PUT /v1/secret/data/x?cas=1 HTTP/1.1\r\nHost: vault\r\nConnection: keep-alive, X-Hop\r\n"
      "X-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\n"
      "X-Forwarded-For: 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Vault-Token: t\r\n"
      "X-Vault-No-Request-Forwarding: 1\r\nContent-Length: 2\r\n\r\n{}");
  std::string out;
  AppendUpstreamRequestHead(req, "127.0.0.9", false, "router:8200", &out);
  CHECK(out ==
        "PUT /v1/secret/data/x?cas=1 HTTP/1.1\r\nHost: vault\r\n"
        "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 127.0.0.9\r\nX-Vault-Token: t\r\n"
        "X-Vault-No-Request-Forwarding: 1\r\nX-Forwarded-Proto: http\r\nContent-Length: 2\r\n\r\n");
}

TEST_CASE(
    "AppendUpstreamRequestHead: X-Forwarded-Proto says https for a TLS client, whatever "
    "the client claimed") {
  http::Request req = Parse("GET /v1/a HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: http\r\n\r\n");
  std::string out;
  AppendUpstreamRequestHead(req, "127.0.0.9", true, "router:8200", &out);
  CHECK(out ==
        "GET /v1/a HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 127.0.0.9\r\n"
        "X-Forwarded-Proto: https\r\n\r\n");
}

TEST_CASE("AppendUpstreamRequestHead drops a client's hop marker X-Halo-Forwarded") {
  http::Request req = Parse(
      "PUT /v1/secret/data/x HTTP/1.1\r\nHost: vault\r\nX-Halo-Forwarded: 1\r\n"
      "x-halo-forwarded: forged\r\nX-Vault-Token: t\r\nContent-Length: 0\r\n\r\n");
  std::string out;
  AppendUpstreamRequestHead(req, "127.0.0.9", false, "router:8200", &out);
  CHECK(out ==
        "PUT /v1/secret/data/x HTTP/1.1\r\nHost: vault\r\nX-Vault-Token: t\r\n"
        "X-Forwarded-For: 127.0.0.9\r\nX-Forwarded-Proto: http\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("AppendUpstreamRequestHead: HTTP/1.0 without Host, chunked bodies") {
  http::Request req = Parse("GET /v1/x HTTP/1.0\r\n\r\n");
  std::string out;
  AppendUpstreamRequestHead(req, "::1", false, "router:8200", &out);
  CHECK(out ==
        "GET /v1/x HTTP/1.1\r\nHost: router:8200\r\nX-Forwarded-For: ::1\r\n"
        "X-Forwarded-Proto: http\r\n\r\n");
  http::Request c =
      Parse("POST /v1/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  out.clear();
  AppendUpstreamRequestHead(c, "1.2.3.4", false, "", &out);
  CHECK(out.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(out.find("Content-Length") == std::string::npos);
}

TEST_CASE("ErrorsJson escapes through the one error-body writer") {
  CHECK(ErrorsJson("no \"active\"\n") == R"({"errors":["no \"active\"\n"]})");
  CHECK(ErrorsJson(std::string("a\x01", 2)) == R"({"errors":["a\u0001"]})");
}

}  // namespace
}  // namespace halo::router
