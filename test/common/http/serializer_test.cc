#include "common/http/serializer.h"

#include <doctest/doctest.h>

#include "test/common/http/parse_helpers.h"

namespace halo::http {
namespace {

TEST_CASE("Serializer: request and response heads") {
  std::string out;
  Headers h{{"Host", "n1:8200"}, {"X-Vault-Token", "s.1"}};
  REQUIRE(AppendRequestHead(&out, "LIST", "/v1/secret/?list=true", h).ok());
  CHECK(out ==
        "LIST /v1/secret/?list=true HTTP/1.1\r\nHost: n1:8200\r\nX-Vault-Token: s.1\r\n\r\n");
  out.clear();
  REQUIRE(AppendResponseHead(&out, 404, "", Headers{{"Content-Length", "0"}}).ok());
  CHECK(out == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  REQUIRE(AppendResponseHead(&out, 299, "", {}).ok());
  CHECK(out == "HTTP/1.1 299 \r\n\r\n");
}

TEST_CASE("Serializer: refuses what would split the message") {
  std::string out = "keep";
  CHECK_FALSE(AppendRequestHead(&out, "GET", "/a", Headers{{"X", "a\r\nInjected: 1"}}).ok());
  CHECK_FALSE(
      AppendRequestHead(&out, "GET", "/a", Headers{{"X", std::string_view("a\0b", 3)}}).ok());
  CHECK_FALSE(AppendRequestHead(&out, "GET", "/a", Headers{{"X Y", "v"}}).ok());
  CHECK_FALSE(AppendRequestHead(&out, "GET", "/a", Headers{{"", "v"}}).ok());
  CHECK_FALSE(AppendRequestHead(&out, "GET", "/a b", {}).ok());
  CHECK_FALSE(AppendRequestHead(&out, "GET", "/a\r\n", {}).ok());
  CHECK_FALSE(AppendRequestHead(&out, "G T", "/a", {}).ok());
  CHECK_FALSE(AppendResponseHead(&out, 200, "OK\r\nX: y", {}).ok());
  CHECK_FALSE(AppendResponseHead(&out, 42, "", {}).ok());
  CHECK_FALSE(AppendLastChunk(&out, Headers{{"T", "\n"}}).ok());
  CHECK(out == "keep");
  CHECK(IsWritableField("X-A", "tab\tand obs-text \xc3\xa9"));
}

TEST_CASE("Serializer: whole messages round-trip through the parser") {
  Request req;
  req.method = "PUT";
  req.target = "/v1/secret/data/a";
  req.headers.Add("Host", "h");
  req.headers.Add("Content-Length", "999");         // replaced by the real length
  req.headers.Add("Transfer-Encoding", "chunked");  // dropped
  req.body = "{\"data\":{\"k\":\"v\"}}";
  Request get;
  get.method = "GET";
  get.target = "/v1/sys/health";
  get.headers.Add("Host", "h");
  Request post;
  post.method = "POST";
  post.target = "/v1/sys/step-down";
  post.headers.Add("Host", "h");
  std::string wire;
  REQUIRE(AppendRequest(&wire, req).ok());
  REQUIRE(AppendRequest(&wire, get).ok());
  REQUIRE(AppendRequest(&wire, post).ok());
  CHECK(wire.find("GET /v1/sys/health HTTP/1.1\r\nHost: h\r\n\r\n") != std::string::npos);
  CHECK(wire.find("Content-Length: 0\r\n") != std::string::npos);  // POST, empty body
  auto p = testing::ParseRequests(wire);
  REQUIRE_FALSE(p.error);
  REQUIRE(p.requests.size() == 3);
  CHECK(p.requests[0].body == req.body);
  CHECK(p.requests[0].headers.Count("Content-Length") == 1);
  CHECK_FALSE(p.requests[0].headers.Has("Transfer-Encoding"));

  Response resp;
  resp.status = 200;
  resp.headers.Add("Content-Type", "application/json");
  resp.body = "{}";
  Response no_content;
  no_content.status = 204;
  no_content.headers.Add("Content-Length", "7");
  std::string rw;
  REQUIRE(AppendResponse(&rw, resp).ok());
  REQUIRE(AppendResponse(&rw, no_content).ok());
  std::string head_only;
  REQUIRE(AppendResponse(&head_only, resp, true).ok());
  CHECK(head_only ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n");
  rw += head_only;
  auto r = testing::ParseResponses(rw, {}, {"GET", "GET", "HEAD"});
  REQUIRE_FALSE(r.error);
  REQUIRE(r.responses.size() == 3);
  CHECK(r.responses[0].body == "{}");
  CHECK(r.responses[1].status == 204);
  CHECK_FALSE(r.responses[1].headers.Has("Content-Length"));
  CHECK(r.responses[2].content_length == 2);
  CHECK(r.responses[2].body.empty());
}

TEST_CASE("Serializer: chunked encoding") {
  std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  AppendChunk(&out, "hello");
  AppendChunk(&out, "");  // writes nothing
  AppendChunk(&out, std::string(300, 'x'));
  REQUIRE(AppendLastChunk(&out, Headers{{"X-Sum", "1"}}).ok());
  CHECK(out.find("5\r\nhello\r\n12c\r\n") != std::string::npos);
  auto r = testing::ParseResponses(out);
  REQUIRE_FALSE(r.error);
  REQUIRE(r.responses.size() == 1);
  CHECK(r.responses[0].body == "hello" + std::string(300, 'x'));
  CHECK(r.responses[0].trailers.Get("x-sum") == std::optional<std::string_view>("1"));
}

}  // namespace
}  // namespace halo::http
