// Request-smuggling and resource hardening of the real halo-router: every case is an exact
// status and a connection the router closed (nginx-style hard reject), and none of these
// requests may reach a node.
#include <doctest/doctest.h>

#include <memory>

#include "test/router/router_harness.h"

namespace halo::router::testing {
namespace {

using Role = FakeNode::Role;

struct Hardened {
  Hardened() : node("n1") {
    node.SetRole(Role::kActive);
    REQUIRE(router.Start(RouterConfigJson(
        router.port(), {{"n1", node.address()}},
        R"("health_check":{"interval":"100ms","rise":1,"fall":1},)"
        R"("limits":{"max_header_bytes":4096,"max_headers":20,"max_body_bytes":1024})")));
    REQUIRE(router.WaitRoles("n1", 1));
  }
  // Sends `bytes` on a fresh connection; returns the status and whether the router closed.
  std::pair<int, bool> Send(const std::string& bytes) {
    RawClient c;
    REQUIRE(c.Connect(router.port()));
    REQUIRE(c.Send(bytes));
    std::optional<http::Response> r = c.Read(std::chrono::seconds(5));
    int status = r ? r->status : 0;
    return {status, c.WaitClosed(std::chrono::seconds(3))};
  }
  FakeNode node;
  RouterProcess router;
};

void Expect(Hardened& h, const std::string& bytes, int status) {
  auto [got, closed] = h.Send(bytes);
  CHECK(got == status);
  CHECK(closed);
  CHECK(h.node.reads() + h.node.writes() == 0);
}

const std::string kPost = "POST /v1/secret/data/x HTTP/1.1\r\nHost: r\r\n";

TEST_CASE("hardening: Content-Length together with Transfer-Encoding -> 400, closed") {
  Hardened h;
  Expect(h, kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  Expect(h, kPost + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400);
}

TEST_CASE("hardening: differing duplicate Content-Length -> 400, closed") {
  Hardened h;
  // Like nginx, even identical duplicates are refused.
  Expect(h, kPost + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400);
  Expect(h, kPost + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
  Expect(h, kPost + "Content-Length: 3, 4\r\n\r\nabcd", 400);
}

TEST_CASE("hardening: invalid Content-Length values -> 400, closed") {
  Hardened h;
  Expect(h, kPost + "Content-Length: -1\r\n\r\n", 400);
  Expect(h, kPost + "Content-Length: +3\r\n\r\nabc", 400);
  Expect(h, kPost + "Content-Length: 1 2\r\n\r\nabc", 400);
  Expect(h, kPost + "Content-Length: 0x10\r\n\r\nabc", 400);
}

TEST_CASE("hardening: bad chunk syntax -> 400, closed") {
  Hardened h;
  const std::string te = kPost + "Transfer-Encoding: chunked\r\n\r\n";
  Expect(h, te + "Q\r\nabc\r\n0\r\n\r\n", 400);          // not hex (the Burp probe)
  Expect(h, te + "3\r\nabcXX0\r\n\r\n", 400);            // no CRLF after the data
  Expect(h, te + "-3\r\nabc\r\n0\r\n\r\n", 400);         // sign
  Expect(h, te + "3 \r\nabc\r\n0\r\n\r\n", 400);         // trailing space in the size
  Expect(h, te + "ffffffffffffffffff\r\nabc\r\n", 400);  // overflow
}

TEST_CASE("hardening: Transfer-Encoding other than a final chunked") {
  Hardened h;
  // A coding after chunked: the parser refuses the coding itself (501) and closes; either
  // way the body length is never guessed.
  Expect(h, kPost + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 501);
  Expect(h, kPost + "Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 501);
  Expect(h, kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400);
  // HTTP/1.0 with Transfer-Encoding (nginx 1.21.2 rule).
  Expect(h, "POST /v1/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST_CASE("hardening: obs-fold -> 400, closed") {
  Hardened h;
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: r\r\nX-A: b\r\n c\r\n\r\n", 400);
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: r\r\nX-A: b\r\n\tc\r\n\r\n", 400);
}

TEST_CASE("hardening: bare CR -> 400, closed") {
  Hardened h;
  Expect(h, "GET /v1/x HTTP/1.1\rHost: r\r\n\r\n", 400);
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: r\rX-A: b\r\n\r\n", 400);
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: r\r\nX-A: a\rb\r\n\r\n", 400);
}

TEST_CASE("hardening: control characters in the request line or header names -> 400, closed") {
  Hardened h;
  Expect(h, std::string("GET /v1/\x01x HTTP/1.1\r\nHost: r\r\n\r\n"), 400);
  Expect(h, std::string("GET /v1/x\x7f HTTP/1.1\r\nHost: r\r\n\r\n"), 400);
  Expect(h, std::string("GE\x01T /v1/x HTTP/1.1\r\nHost: r\r\n\r\n"), 400);
  Expect(h, std::string("GET /v1/x HTTP/1.1\r\nHost: r\r\nX\x01Y: b\r\n\r\n"), 400);
  Expect(h, std::string("GET /v1/x HTTP/1.1\r\nHost: r\r\nX-A\x00: b\r\n\r\n", 39), 400);
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: r\r\nX-A : b\r\n\r\n", 400);  // space before ':'
  Expect(h, "GET /v1/x  HTTP/1.1\r\nHost: r\r\n\r\n", 400);            // double space
}

TEST_CASE("hardening: targets that cannot be normalised safely -> 400, closed") {
  Hardened h;
  Expect(h, "GET /v1/../../etc/passwd HTTP/1.1\r\nHost: r\r\n\r\n", 400);
  Expect(h, "GET /v1/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: r\r\n\r\n", 400);
  Expect(h, "GET /v1/a%00b HTTP/1.1\r\nHost: r\r\n\r\n", 400);
  Expect(h, "GET /v1/a%0d%0aSet-Cookie:x HTTP/1.1\r\nHost: r\r\n\r\n", 400);
  Expect(h, "GET /v1/a%zz HTTP/1.1\r\nHost: r\r\n\r\n", 400);
  Expect(h, "GET * HTTP/1.1\r\nHost: r\r\n\r\n", 400);
}

TEST_CASE("hardening: missing or duplicate Host on HTTP/1.1 -> 400, closed") {
  Hardened h;
  Expect(h, "GET /v1/x HTTP/1.1\r\n\r\n", 400);
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST_CASE("hardening: header section too large or too many fields -> 431, closed") {
  Hardened h;
  Expect(h, "GET /v1/x HTTP/1.1\r\nHost: r\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n", 431);
  std::string many = "GET /v1/x HTTP/1.1\r\nHost: r\r\n";
  for (int i = 0; i < 30; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  Expect(h, many + "\r\n", 431);
}

TEST_CASE("hardening: body over the limit -> 413, closed") {
  Hardened h;
  Expect(h, kPost + "Content-Length: 1025\r\n\r\n" + std::string(1025, 'a'), 413);
  Expect(h,
         kPost + "Transfer-Encoding: chunked\r\n\r\n800\r\n" + std::string(0x800, 'a') +
             "\r\n0\r\n\r\n",
         413);
}

TEST_CASE("hardening: what is allowed still passes on a kept-alive connection") {
  Hardened h;
  RawClient c;
  REQUIRE(c.Connect(h.router.port()));
  REQUIRE(c.Send(kPost + "Content-Length: 2\r\n\r\n{}"));
  auto r = c.Read();
  REQUIRE(r);
  CHECK(r->status == 200);
  // Two more on the same connection (RawClient never reconnects): it stayed open after each.
  for (const char* path : {"/v1/secret/data/x", "/v1/secret/data/y"}) {
    auto g = c.Request("GET", path);
    REQUIRE(g);
    CHECK(g->status == 200);
  }
}

}  // namespace
}  // namespace halo::router::testing
