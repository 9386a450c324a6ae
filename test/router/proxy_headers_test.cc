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

TEST_CASE("IsHopByHop: the RFC 9110 set, Content-Length, and what Connection names") {
  for (const char* n : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer",
                        "Transfer-Encoding", "Upgrade", "content-length"}) {
    CHECK(IsHopByHop(n, ""));
  }
  CHECK_FALSE(IsHopByHop("X-Vault-Token", ""));
  CHECK_FALSE(IsHopByHop("X-Vault-No-Request-Forwarding", "keep-alive"));
  CHECK(IsHopByHop("X-Hop", "keep-alive, x-hop"));
  CHECK_FALSE(IsHopByHop("X-Hopper", "x-hop"));
}

TEST_CASE("AppendUpstreamRequestHead rewrites only what crosses the proxy") {
  http::Request req = Parse(
      "PUT /v1/secret/data/x?cas=1 HTTP/1.1\r\nHost: vault\r\nConnection: keep-alive, X-Hop\r\n"
      "X-Hop: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\n"
      "X-Forwarded-For: 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Vault-Token: t\r\n"
      "X-Vault-No-Request-Forwarding: 1\r\nContent-Length: 2\r\n\r\n{}");
  std::string out;
  AppendUpstreamRequestHead(req, "127.0.0.9", "router:8200", &out);
  CHECK(out ==
        "PUT /v1/secret/data/x?cas=1 HTTP/1.1\r\nHost: vault\r\n"
        "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 127.0.0.9\r\nX-Vault-Token: t\r\n"
        "X-Vault-No-Request-Forwarding: 1\r\nX-Forwarded-Proto: http\r\nContent-Length: 2\r\n\r\n");
}

TEST_CASE("AppendUpstreamRequestHead: HTTP/1.0 without Host, chunked bodies") {
  http::Request req = Parse("GET /v1/x HTTP/1.0\r\n\r\n");
  std::string out;
  AppendUpstreamRequestHead(req, "::1", "router:8200", &out);
  CHECK(out ==
        "GET /v1/x HTTP/1.1\r\nHost: router:8200\r\nX-Forwarded-For: ::1\r\n"
        "X-Forwarded-Proto: http\r\n\r\n");
  http::Request c =
      Parse("POST /v1/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  out.clear();
  AppendUpstreamRequestHead(c, "1.2.3.4", "", &out);
  CHECK(out.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(out.find("Content-Length") == std::string::npos);
}

TEST_CASE("ClientFraming follows the response and the client's version") {
  http::Response r;
  r.status = 200;
  r.content_length = 10;
  CHECK(ClientFraming(r, "GET", 1) == BodyFraming::kLength);
  CHECK(ClientFraming(r, "HEAD", 1) == BodyFraming::kNone);
  r.content_length = -1;
  r.chunked = true;
  CHECK(ClientFraming(r, "GET", 1) == BodyFraming::kChunked);
  CHECK(ClientFraming(r, "GET", 0) == BodyFraming::kCloseDelimited);
  r.chunked = false;  // close-delimited from the node
  CHECK(ClientFraming(r, "GET", 1) == BodyFraming::kChunked);
  r.status = 204;
  CHECK(ClientFraming(r, "GET", 1) == BodyFraming::kNone);
  r.status = 304;
  CHECK(ClientFraming(r, "GET", 1) == BodyFraming::kNone);
}

TEST_CASE("AppendClientResponseHead drops hop-by-hop fields and writes its own framing") {
  http::ResponseParser p;
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: X-Secret\r\n"
      "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  REQUIRE(p.Feed(in).state == http::ParseState::kMessageComplete);
  http::Response resp = p.TakeResponse();
  std::string out;
  AppendClientResponseHead(resp, BodyFraming::kChunked, true, &out);
  CHECK(out ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  out.clear();
  AppendClientResponseHead(resp, BodyFraming::kCloseDelimited, true, &out);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
  // HEAD answers keep the length they announce.
  http::Response head;
  head.status = 200;
  head.headers.Add("Content-Length", "42");
  out.clear();
  AppendClientResponseHead(head, BodyFraming::kNone, false, &out);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nConnection: close\r\n\r\n");
}

TEST_CASE("AppendLocalResponse and ErrorsJson") {
  std::string out;
  AppendLocalResponse(307, {}, {}, true, "Location", "http://a:1/v1/x?y", &out);
  CHECK(out ==
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://a:1/v1/x?y\r\n"
        "Cache-Control: no-store\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  AppendLocalResponse(503, "application/json", ErrorsJson("no \"active\"\n"), false, "Retry-After",
                      "1", &out, /*head_only=*/true);
  CHECK(out ==
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
        "Cache-Control: no-store\r\nContent-Length: 30\r\nConnection: close\r\n\r\n");
  CHECK(ErrorsJson("no \"active\"\n") == R"({"errors":["no \"active\"\n"]})");
  CHECK(ErrorsJson(std::string("a\x01", 2)) == R"({"errors":["a\u0001"]})");
}

}  // namespace
}  // namespace halo::router
