#include "common/http/response_parser.h"

#include <doctest/doctest.h>

#include "test/common/http/parse_helpers.h"

namespace halo::http {
namespace {

using testing::ParseResponses;

TEST_CASE("ResponseParser: Content-Length, chunked, pipelined, every split") {
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
      "{\"data\":{}}"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n"
      "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://n2:8200/v1/a\r\n"
      "Content-Length: 2\r\n\r\n{}";
  auto p = ParseResponses(in);
  REQUIRE_FALSE(p.error);
  REQUIRE(p.responses.size() == 4);
  CHECK(p.responses[0].status == 200);
  CHECK(p.responses[0].reason == "OK");
  CHECK(p.responses[0].body == "{\"data\":{}}");
  CHECK(p.responses[0].content_length == 11);
  CHECK(p.responses[1].status == 404);
  CHECK(p.responses[1].body.empty());
  CHECK(p.responses[2].body == "abcd");
  CHECK(p.responses[2].trailers.Get("T") == std::optional<std::string_view>("1"));
  CHECK(p.responses[3].headers.Get("location") ==
        std::optional<std::string_view>("http://n2:8200/v1/a"));
  testing::CheckResponsesAtEverySplit(in);
}

TEST_CASE("ResponseParser: bodies that are not there (HEAD, 204, 304, 1xx)") {
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"  // answers HEAD: no body follows
      "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";  // HEAD again: no chunks
  auto p = ParseResponses(in, {}, {"HEAD", "GET", "GET", "PUT", "HEAD"});
  REQUIRE_FALSE(p.error);
  REQUIRE(p.responses.size() == 5);
  CHECK(p.responses[0].body.empty());
  CHECK(p.responses[0].content_length == 5);
  CHECK(p.responses[0].keep_alive);
  CHECK(p.responses[1].status == 204);
  CHECK(p.responses[2].status == 304);
  CHECK(p.responses[3].status == 200);  // the interim responses were skipped
  CHECK(p.responses[3].body == "ok");
  CHECK(p.responses[3].headers.size() == 1);
  CHECK(p.responses[4].body.empty());
}

TEST_CASE("ResponseParser: close-delimited body ends at EOF") {
  auto p = ParseResponses("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello world");
  REQUIRE_FALSE(p.error);
  REQUIRE(p.responses.size() == 1);
  CHECK(p.responses[0].body == "hello world");
  CHECK_FALSE(p.responses[0].keep_alive);
  auto q = ParseResponses("HTTP/1.0 200 OK\r\n\r\n");
  REQUIRE(q.responses.size() == 1);
  CHECK(q.responses[0].body.empty());
  // Without EOF nothing is reported yet.
  CHECK(ParseResponses("HTTP/1.1 200 OK\r\n\r\nabc", {}, {}, false).responses.empty());
}

TEST_CASE("ResponseParser: keep-alive") {
  auto p = ParseResponses(
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  REQUIRE(p.responses.size() == 2);
  CHECK(p.responses[0].keep_alive);
  CHECK_FALSE(p.responses[1].keep_alive);
  auto q = ParseResponses("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  CHECK_FALSE(q.responses[0].keep_alive);
  auto r = ParseResponses("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  CHECK(r.responses[0].keep_alive);
}

TEST_CASE("ResponseParser: rejects, always 502") {
  struct Case {
    std::string in;
    const char* why;
  };
  std::vector<Case> cases = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "CL+TE"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "two CL"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n", "chunk CRLF"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", "gzip"},
      {"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "obs-fold"},
      {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"},
      {"HTTP/1.1 20 OK\r\n\r\n", "two-digit status"},
      {"HTTP/1.1 2000 OK\r\n\r\n", "four-digit status"},
      {"HTTP/1.1 000 OK\r\nContent-Length: 0\r\n\r\n", "status below 100"},
      {"HTTP/1.1 099 OK\r\nContent-Length: 0\r\n\r\n", "status below 100"},
      {"HTTP/2.0 200 OK\r\n\r\n", "version"},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", "control in reason"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
       "upgrade"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "truncated"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "truncated chunk"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nXYZ", "garbage after response"},
      {"ICY 200 OK\r\n\r\n", "not HTTP"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.why);
    auto p = ParseResponses(c.in);
    CHECK(p.error);
    CHECK(p.http_status == 502);
  }
  ParserOptions small;
  small.max_body_bytes = 4;
  auto big =
      ParseResponses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde", {}, {}, true, small);
  CHECK(big.error);
  CHECK(big.http_status == 502);
  CHECK(big.message.find("too large") != std::string::npos);
  auto close_big = ParseResponses("HTTP/1.1 200 OK\r\n\r\nabcde", {}, {}, true, small);
  CHECK(close_big.error);
}

TEST_CASE("ResponseParser: status line without reason") {
  auto p = ParseResponses("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 204 \r\n\r\n");
  REQUIRE_FALSE(p.error);
  REQUIRE(p.responses.size() == 2);
  CHECK(p.responses[0].reason.empty());
  CHECK(p.responses[1].status == 204);
}

}  // namespace
}  // namespace halo::http
