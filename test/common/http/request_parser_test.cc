#include "common/http/request_parser.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test/common/http/parse_helpers.h"

namespace halo::http {
namespace {

using testing::ParseRequests;
using namespace std::string_literals;

// Parses `input` whole and checks it fails with `status`.
void ExpectReject(const std::string& input, int status, const std::string& why = "") {
  std::string shown = input.substr(0, 200);
  CAPTURE(shown);
  CAPTURE(why);
  // Rejected from the bytes alone, without waiting for the connection to close.
  testing::ParsedRequests p = ParseRequests(input, {}, {}, /*eof=*/false);
  CHECK(p.error);
  CHECK(p.http_status == status);
  // The same verdict when the bytes trickle in one at a time.
  std::vector<size_t> splits;
  for (size_t i = 1; i < input.size(); ++i) splits.push_back(i);
  testing::ParsedRequests b = ParseRequests(input, splits, {}, /*eof=*/false);
  CHECK(b.error);
  CHECK(b.http_status == status);
}

TEST_CASE("RequestParser: simple GET") {
  auto p = ParseRequests(
      "GET /v1/secret/a%20b?list=true&x=1 HTTP/1.1\r\nHost: h\r\n"
      "X-Vault-Token: s.abc\r\nX-Multi: 1\r\nx-multi:  2 \r\n\r\n");
  REQUIRE_FALSE(p.error);
  REQUIRE(p.requests.size() == 1);
  const Request& r = p.requests[0];
  CHECK(r.method == "GET");
  CHECK(r.target == "/v1/secret/a%20b?list=true&x=1");
  CHECK(r.path == "/v1/secret/a b");
  CHECK(r.query == "list=true&x=1");
  CHECK(r.QueryFlag("list"));
  CHECK(r.QueryParam("x") == std::optional<std::string>("1"));
  CHECK(r.version_major == 1);
  CHECK(r.version_minor == 1);
  CHECK(r.keep_alive);
  CHECK(r.content_length == -1);
  CHECK_FALSE(r.chunked);
  CHECK(r.headers.size() == 4);
  CHECK(r.headers.Get("x-vault-token") == std::optional<std::string_view>("s.abc"));
  CHECK(r.headers.at(1).name == "X-Vault-Token");
  auto multi = r.headers.GetAll("X-MULTI");
  REQUIRE(multi.size() == 2);
  CHECK(multi[1] == "2");  // OWS trimmed
  CHECK(p.eof_clean);
}

TEST_CASE("RequestParser: LIST and SCAN are accepted and kept, pipelined") {
  std::string in =
      "LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /v1/sys/health HTTP/1.1\r\nHost: h\r\n\r\n"
      "SCAN /v1/secret/ HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
      "LIST /v1/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
      "PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
  auto p = ParseRequests(in);
  REQUIRE_FALSE(p.error);
  REQUIRE(p.requests.size() == 5);
  CHECK(p.requests[0].method == "LIST");
  CHECK(p.requests[0].path == "/v1/secret/metadata/");
  CHECK(p.requests[1].method == "GET");
  CHECK(p.requests[2].method == "SCAN");
  CHECK(p.requests[2].body == "abc");
  CHECK(p.requests[3].method == "LIST");
  CHECK(p.requests[3].body == "hi");
  CHECK(p.requests[4].method == "PATCH");
  // Every single split point and one-byte-at-a-time delivery give the same result.
  testing::CheckRequestsAtEverySplit(in);
}

TEST_CASE("RequestParser: methods") {
  ExpectReject("FOO / HTTP/1.1\r\nHost: h\r\n\r\n", 501, "unknown method");
  ExpectReject("get / HTTP/1.1\r\nHost: h\r\n\r\n", 501, "methods are case-sensitive");
  ExpectReject("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 501, "no CONNECT");
  ExpectReject("LISTX / HTTP/1.1\r\nHost: h\r\n\r\n", 501, "prefix of a known one");
  ExpectReject(std::string(40, 'A') + " / HTTP/1.1\r\n\r\n", 501, "long token");
  ExpectReject("G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "control char in method");
  ExpectReject(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "leading space");
  ExpectReject("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "tab after method");
  // Extra methods are configurable.
  ParserOptions o;
  o.extra_methods = {"PURGEALL"};
  auto p = ParseRequests("PURGEALL / HTTP/1.1\r\nHost: h\r\n\r\n", {}, o);
  REQUIRE_FALSE(p.error);
  CHECK(p.requests[0].method == "PURGEALL");
  CHECK(ParseRequests("LIST / HTTP/1.1\r\nHost: h\r\n\r\n", {}, o).http_status == 501);
  // Every method http_parser knows still parses (except CONNECT).
  for (const char* m :
       {"DELETE", "HEAD", "POST", "PUT", "OPTIONS", "TRACE", "M-SEARCH", "PROPFIND", "PURGE"}) {
    auto q = ParseRequests(std::string(m) + " / HTTP/1.1\r\nHost: h\r\n\r\n");
    CAPTURE(m);
    REQUIRE_FALSE(q.error);
    CHECK(q.requests[0].method == m);
  }
}

TEST_CASE("RequestParser: Content-Length / Transfer-Encoding smuggling rejects") {
  ExpectReject(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400, "CL.TE");
  ExpectReject(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 3\r\n\r\n0\r\n\r\n",
      400, "TE.CL");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
               400, "differing CL");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
               400, "identical duplicate CL is refused too");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", 400, "CL list");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", 400, "CL sign");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc", 400, "CL hex");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3 3\r\n\r\nabc", 400, "CL space");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400, "CL empty");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
               "CL overflow");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
               501, "gzip,chunked");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501,
               "chunked not last");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501,
               "identity");
  ExpectReject(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400, "chunked twice");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400,
               "chunked twice in a list");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 400, "empty TE");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 501,
               "xchunked");
  ExpectReject("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
               "TE on HTTP/1.0");
  // http_parser treats any name starting with Transfer-Encoding as one; refused (fuzzer).
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encodingx: chunked\r\n\r\n", 400,
               "TE-prefixed name");
  ExpectReject(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding-X: a\r\n"
      "Content-Length: 1\r\n\r\nx",
      400, "TE-prefixed name with CL");
  ExpectReject(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-EncodingLIST: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400, "TE-prefixed name next to a real TE");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400,
               "space before colon in TE");
  ExpectReject("POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 3\r\n\r\nabc", 400,
               "space before colon in CL");
  ExpectReject(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\n"
      "Content-Length: 3\r\n\r\n0\r\n\r\n",
      400, "HTAB OWS TE with CL");
  // Case and OWS variations of chunked are still chunked (and parse).
  auto p = ParseRequests(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n");
  REQUIRE_FALSE(p.error);
  CHECK(p.requests[0].body == "abc");
  CHECK(p.requests[0].chunked);
}

TEST_CASE("RequestParser: bad chunk syntax") {
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  ExpectReject(head + "5Q\r\nhello\r\n0\r\n\r\n", 400, "Q after size (smuggler probe)");
  ExpectReject(head + "Q\r\n\r\n", 400, "no size");
  ExpectReject(head + "\r\n0\r\n\r\n", 400, "empty size line");
  ExpectReject(head + "0x5\r\nhello\r\n0\r\n\r\n", 400, "0x prefix");
  ExpectReject(head + "-5\r\nhello\r\n0\r\n\r\n", 400, "negative");
  ExpectReject(head + "5\r\nhelloXX0\r\n\r\n", 400, "no CRLF after data");
  ExpectReject(head + "5\r\nhello\n0\r\n\r\n", 400, "bare LF after data");
  ExpectReject(head + "5\r\nhello\r0\r\n\r\n", 400, "bare CR after data");
  ExpectReject(head + "5\nhello\r\n0\r\n\r\n", 400, "bare LF after size");
  ExpectReject(head + "5\rXhello\r\n0\r\n\r\n", 400, "bare CR after size");
  ExpectReject(head + "5;a\nb\r\nhello\r\n0\r\n\r\n", 400, "LF inside extension");
  ExpectReject(head + "5;a\0b\r\nhello\r\n0\r\n\r\n"s, 400, "NUL in extension");
  ExpectReject(head + "5 \r\nhello\r\n0\r\n\r\n", 400, "whitespace without extension");
  ExpectReject(head + "00000000000000005\r\nhello\r\n0\r\n\r\n", 400, "17 hex digits");
  ExpectReject(head + "fffffffffffffffff\r\n", 400, "size overflow");
  ExpectReject(head + "0\r\n\r\n\x01", 400, "garbage where the next request line starts");
  ExpectReject(head + "0\r\nContent-Length: 5\r\n\r\n", 400, "framing field in trailers");
  ExpectReject(head + "0\r\nA: b\r\n c\r\n\r\n", 400, "obs-fold in trailers");
  ExpectReject(head + "0\r\nA : b\r\n\r\n", 400, "space before colon in trailers");
  ExpectReject(head + "5;" + std::string(5000, 'x') + "\r\nhello\r\n0\r\n\r\n", 400,
               "chunk line too long");
}

TEST_CASE("RequestParser: chunked with extensions and trailers") {
  std::string in =
      "PUT /v1/kv/a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value;quoted=\"a b\"\r\nhello\r\n"
      "6 ; ext\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0;last\r\nX-Checksum: abc\r\nX-Other:  2\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  auto p = ParseRequests(in);
  REQUIRE_FALSE(p.error);
  REQUIRE(p.requests.size() == 2);
  const Request& r = p.requests[0];
  CHECK(r.body == "hello world0123456789");
  CHECK(r.chunked);
  CHECK(r.trailers.size() == 2);
  CHECK(r.trailers.Get("x-checksum") == std::optional<std::string_view>("abc"));
  CHECK(r.trailers.Get("X-Other") == std::optional<std::string_view>("2"));
  CHECK(r.headers.size() == 2);  // trailers are not mixed into headers
  CHECK(p.requests[1].path == "/next");
  testing::CheckRequestsAtEverySplit(in);
}

TEST_CASE("RequestParser: head syntax rejects") {
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\n\r\n", 400, "obs-fold SP");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\tc\r\n\r\n", 400, "obs-fold HTAB");
  ExpectReject("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, "first header line starts with SP");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\rc\r\n\r\n", 400, "bare CR in value");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\nB: c\r\n\r\n", 400, "bare LF in value");
  ExpectReject("GET / HTTP/1.1\nHost: h\n\n", 400, "LF-only line endings");
  ExpectReject("GET / HTTP/1.1\rHost: h\r\n\r\n", 400, "bare CR after request line");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400, "bare CR in final line");
  ExpectReject("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400, "NUL in target");
  ExpectReject("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400, "HTAB in target");
  ExpectReject("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, "DEL in target");
  ExpectReject("GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "raw UTF-8 in target");
  ExpectReject("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "two spaces");
  ExpectReject("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "space after version");
  ExpectReject("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400, "two-digit minor");
  ExpectReject("GET / http/1.1\r\nHost: h\r\n\r\n", 400, "lowercase version");
  ExpectReject("GET /\r\nHost: h\r\n\r\n", 400, "HTTP/0.9 style");
  ExpectReject("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "HTTP/2.0");
  ExpectReject("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505, "HTTP/0.9");
  ExpectReject("GET / HTTP/1.1\r\nHo\x01st: h\r\n\r\n", 400, "control char in name");
  ExpectReject("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "space before colon");
  ExpectReject("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400, "HTAB before colon");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA(b): c\r\n\r\n", 400, "'(' in name");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA\"b: c\r\n\r\n", 400, "quote in name");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA@b: c\r\n\r\n", 400, "'@' in name");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\n: c\r\n\r\n", 400, "empty name");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400, "no colon");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\x01\r\n\r\n", 400, "control char in value");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\0\r\n\r\n"s, 400, "NUL in value");
  ExpectReject("GET / HTTP/1.1\r\nHost: h\r\nA: b\x7f\r\n\r\n", 400, "DEL in value");
  ExpectReject("GET / HTTP/1.1\r\n\r\n", 400, "missing Host");
  ExpectReject("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "two Hosts");
  ExpectReject("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400, "fragment");
  ExpectReject("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad escape");
  ExpectReject("GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "escaped NUL");
  ExpectReject("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "relative target");
  ExpectReject("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, "* only for OPTIONS");
  ExpectReject("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare LF before request line");
  // obs-text in values is allowed, as is HTAB.
  auto p = ParseRequests("GET / HTTP/1.1\r\nHost: h\r\nA: caf\xc3\xa9\tx\r\n\r\n");
  REQUIRE_FALSE(p.error);
  CHECK(p.requests[0].headers.Get("A") == std::optional<std::string_view>("caf\xc3\xa9\tx"));
}

TEST_CASE("RequestParser: accepted forms") {
  auto p = ParseRequests(
      "\r\n\r\nGET / HTTP/1.0\r\n\r\n"  // empty lines before a request are ignored
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET http://example.com:8200/v1/a%2Fb?x=%20 HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET http://example.com HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE_FALSE(p.error);
  REQUIRE(p.requests.size() == 4);
  CHECK(p.requests[0].version_minor == 0);
  CHECK(p.requests[1].path == "*");
  CHECK(p.requests[2].path == "/v1/a/b");
  CHECK(p.requests[2].query == "x=%20");
  CHECK(p.requests[2].QueryParam("x") == std::optional<std::string>(" "));
  CHECK(p.requests[3].path == "/");
}

TEST_CASE("RequestParser: keep-alive rules") {
  auto p = ParseRequests(
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
      "GET /3 HTTP/1.0\r\n\r\n"
      "GET /4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "GET /5 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\nUpgrade: h2c\r\n\r\n"
      "GET /6 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
      "GET /7 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "GET /8 HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE_FALSE(p.error);
  REQUIRE(p.requests.size() == 8);
  CHECK(p.requests[0].keep_alive);
  CHECK_FALSE(p.requests[1].keep_alive);
  CHECK_FALSE(p.requests[2].keep_alive);
  CHECK(p.requests[3].keep_alive);
  CHECK_FALSE(p.requests[4].keep_alive);
  CHECK(p.requests[5].keep_alive);
  CHECK(p.requests[6].keep_alive);  // Upgrade is ignored, the next request still parses
  CHECK(p.requests[7].path == "/8");
}

TEST_CASE("RequestParser: limits") {
  ParserOptions o;
  o.max_header_bytes = 256;
  o.max_header_count = 5;
  o.max_body_bytes = 10;
  auto at = [&](const std::string& in) { return ParseRequests(in, {}, o); };
  std::string big_value(300, 'v');
  CHECK(at("GET / HTTP/1.1\r\nHost: h\r\nA: " + big_value + "\r\n\r\n").http_status == 431);
  CHECK(at("GET /" + big_value + " HTTP/1.1\r\nHost: h\r\n\r\n").http_status == 414);
  std::string fields = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 4; ++i) fields += "A" + std::to_string(i) + ": x\r\n";
  CHECK_FALSE(at(fields + "\r\n").error);  // exactly 5 fields
  CHECK(at(fields + "B: y\r\n\r\n").http_status == 431);
  CHECK_FALSE(at("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789").error);
  // 413 as soon as the head announces too much: the body is never needed.
  auto p = ParseRequests("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", {}, o, false);
  CHECK(p.http_status == 413);
  const std::string chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK_FALSE(at(chunked + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n").error);
  CHECK(at(chunked + "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n").http_status == 413);
  CHECK(at(chunked + "b\r\n").http_status == 413);
  // Exactly at the limit is fine; the trailer section has its own field count.
  std::string exact = "GET / HTTP/1.1\r\nHost: h\r\nA: ";
  exact += std::string(256 - exact.size() - 4, 'v') + "\r\n\r\n";
  REQUIRE(exact.size() == 256);
  CHECK_FALSE(at(exact).error);
  CHECK(at(exact.substr(0, exact.size() - 4) + "v\r\n\r\n").http_status == 431);
  // Defaults: 16 KiB of head, 100 fields.
  ParserOptions d;
  CHECK(d.max_header_bytes == 16 * 1024);
  CHECK(d.max_header_count == 100);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 100; ++i) many += "F" + std::to_string(i) + ": x\r\n";
  CHECK(ParseRequests(many + "\r\n").http_status == 431);
  CHECK(ParseRequests("GET / HTTP/1.1\r\nHost: h\r\nA: " + std::string(17000, 'x') + "\r\n\r\n")
            .http_status == 431);
}

TEST_CASE("RequestParser: EOF handling") {
  CHECK(ParseRequests("").eof_clean);
  CHECK(ParseRequests("\r\n").eof_clean);
  CHECK(ParseRequests("GET / HTTP/1.1\r\nHost: h\r\n\r\n").eof_clean);
  CHECK(ParseRequests("GET / HTTP/1.1\r\nHost: h\r\n").http_status == 400);
  CHECK(ParseRequests("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab").http_status ==
        400);
  CHECK(ParseRequests("G").http_status == 400);
}

struct Recorder : RequestParser::Callbacks {
  std::vector<std::string> events;
  RequestParser* parser = nullptr;
  bool reject = false;
  void OnHead(Request& r) override {
    events.push_back("head " + r.method + " " + r.path + " cl=" + std::to_string(r.content_length));
    if (reject) parser->Reject(417, Status::InvalidArgument("expectation failed"));
  }
  void OnBody(std::string_view d) override { events.push_back("body " + std::string(d)); }
  void OnComplete(Request& r) override {
    events.push_back("done trailers=" + std::to_string(r.trailers.size()));
  }
};

TEST_CASE("RequestParser: streaming callbacks") {
  Recorder rec;
  RequestParser parser({}, &rec);
  rec.parser = &parser;
  std::string in = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabc";
  ParseProgress p = parser.Feed(in);
  CHECK(p.state == ParseState::kNeedMore);
  CHECK(p.consumed == in.size());
  CHECK(parser.head_complete());
  CHECK_FALSE(parser.idle());
  p = parser.Feed("defGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(p.state == ParseState::kMessageComplete);
  CHECK(p.consumed == 3);
  CHECK(parser.request().body.empty());  // streamed, not buffered
  p = parser.Feed("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(p.state == ParseState::kMessageComplete);
  CHECK(parser.idle());
  std::vector<std::string> want = {"head POST /a cl=6", "body abc",          "body def",
                                   "done trailers=0",   "head GET /b cl=-1", "done trailers=0"};
  CHECK(rec.events == want);

  // Chunk data is delivered as it arrives, before the chunk is complete.
  rec.events.clear();
  p = parser.Feed("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nabcd");
  CHECK(p.state == ParseState::kNeedMore);
  REQUIRE(rec.events.size() == 2);
  CHECK(rec.events[1] == "body abcd");
  p = parser.Feed("efgh\r\n0\r\nT: 1\r\n\r\n");
  CHECK(p.state == ParseState::kMessageComplete);
  CHECK(rec.events.back() == "done trailers=1");

  // Reject from OnHead stops the parse with the caller's status.
  rec.reject = true;
  p = parser.Feed(
      "PUT /d HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  CHECK(p.state == ParseState::kError);
  CHECK(parser.error().http_status == 417);
  CHECK(parser.Feed("x").state == ParseState::kError);
}

TEST_CASE("RequestParser: every split of every reject gives the same verdict") {
  std::vector<std::pair<std::string, int>> cases = {
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\n\r\n", 400},
      {"LIST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
  };
  for (const auto& [in, status] : cases) {
    for (size_t i = 0; i <= in.size(); ++i) {
      CAPTURE(in);
      CAPTURE(i);
      auto p = ParseRequests(in, {i});
      REQUIRE(p.error);
      REQUIRE(p.http_status == status);
    }
  }
}

}  // namespace
}  // namespace halo::http
