#include "common/http/framing.h"

#include <doctest/doctest.h>

#include "common/http/error_body.h"
#include "common/http/request_parser.h"
#include "common/http/response_parser.h"

namespace halo::http {
namespace {

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

TEST_CASE("ClientFraming follows the response and the client's version") {
  Response r;
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
  ResponseParser p;
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: X-Secret\r\n"
      "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  REQUIRE(p.Feed(in).state == ParseState::kMessageComplete);
  Response resp = p.TakeResponse();
  std::string out;
  AppendClientResponseHead(resp, BodyFraming::kChunked, true, &out);
  CHECK(out ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  out.clear();
  AppendClientResponseHead(resp, BodyFraming::kCloseDelimited, true, &out);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
  // HEAD answers keep the length they announce.
  Response head;
  head.status = 200;
  head.headers.Add("Content-Length", "42");
  out.clear();
  AppendClientResponseHead(head, BodyFraming::kNone, false, &out);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nConnection: close\r\n\r\n");
}

TEST_CASE("AppendLocalResponse") {
  std::string out;
  AppendLocalResponse(307, {}, {}, true, "Location", "http://a:1/v1/x?y", &out);
  CHECK(out ==
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://a:1/v1/x?y\r\n"
        "Cache-Control: no-store\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  AppendLocalResponse(503, "application/json", ErrorBody("no \"active\"\n"), false, "Retry-After",
                      "1", &out, /*head_only=*/true);
  CHECK(out ==
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
        "Cache-Control: no-store\r\nContent-Length: 30\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace halo::http
