// Integration (issue 9, defect 3): a real halo-node decides a request with a body from its
// head (token, route, method, declared size, the body bytes in flight) and answers before
// it reads a byte of the body, then closes with a lingering close. Before: 8 connections
// each sending 16 MiB of an unauthenticated 32 MiB PUT took a node from 7 MB to 150 MB RSS.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "test/node/local_cluster.h"
#include "test/support/body_attack.h"
#include "test/support/http_test_client.h"
#include "test/support/proc_status.h"

namespace halo::node::testing {
namespace {

using halo::testing::HttpTestClient;
using halo::testing::PollUntil;
using halo::testing::ProcStatusKb;
using Ms = std::chrono::milliseconds;
using halo::testing::BodyHead;
using halo::testing::kAnsweredAtOnce;
using halo::testing::kMiB;
using halo::testing::KvBodyOfSize;
using halo::testing::PushRefusedBodies;

// A refusal from the head: `status`, {"errors":[...]}, and the connection ends after it.
void CheckRefusedAtHead(HttpTestClient& client, int status, const std::string& error) {
  Result<http::Response> r = client.ReadResponse(kAnsweredAtOnce, "PUT");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->status == status);
  CHECK(r->headers.Get("Content-Type").value_or("") == "application/json");
  CHECK(r->body.find("{\"errors\":[") == 0);
  CHECK_MESSAGE(r->body.find(error) != std::string::npos, r->body);
  CHECK(r->headers.Get("Connection").value_or("") == "close");
  CHECK(client.WaitForClose(Ms(5000)));  // the lingering close ends it
}

TEST_CASE("node body: 8 unauthenticated 32 MiB PUTs get 403 at the head, RSS stays bounded") {
  ClusterOptions options;
  options.nodes = 1;
  LocalCluster c(options);
  REQUIRE(c.Start());
  pid_t pid = c.process(0).pid();
  int64_t rss0 = ProcStatusKb(pid, "VmRSS");
  int64_t hwm0 = ProcStatusKb(pid, "VmHWM");
  REQUIRE(rss0 > 0);

  constexpr int kConns = 8;
  PushRefusedBodies(c.port(0), kConns);

  int64_t rss1 = ProcStatusKb(pid, "VmRSS");
  int64_t hwm1 = ProcStatusKb(pid, "VmHWM");
  MESSAGE("node RSS " << rss0 / 1024 << " MiB -> " << rss1 / 1024 << " MiB, peak " << hwm0 / 1024
                      << " -> " << hwm1 / 1024 << " MiB after " << kConns
                      << " x 16 MiB of refused bodies");
  // Buffering the bodies would add 128 MiB; what is left is sockets and read buffers.
  CHECK(rss1 < rss0 + 20 * 1024);
  CHECK(hwm1 < hwm0 + 20 * 1024);

  REQUIRE(c.process(0).Running());
  Result<http::Response> put = c.Call(0, "PUT", "/v1/secret/data/after", R"({"data":{"k":"v"}})");
  REQUIRE(put.ok());
  CHECK(put->status == 200);
  Result<http::Response> get = c.Call(0, "GET", "/v1/secret/data/after");
  REQUIRE(get.ok());
  CHECK(JsonString(get->body, {"data", "data", "k"}) == "v");
}

TEST_CASE("node body: 404, 405, 413 and a chunked 403 are answered at the head") {
  ClusterOptions options;
  options.nodes = 1;
  options.tcp_extra = R"("max_request_size": 1048576)";
  LocalCluster c(options);
  REQUIRE(c.Start());
  HttpTestClient client(c.port(0));

  SUBCASE("413: a declared size over max_request_size, with or without the token") {
    REQUIRE(client.SendRaw(BodyHead("PUT", "/v1/secret/data/x", 2 * kMiB, kToken)).ok());
    CheckRefusedAtHead(client, 413, "body too large");
    REQUIRE(client.Connect().ok());
    REQUIRE(client.SendRaw(BodyHead("PUT", "/v1/secret/data/x", 2 * kMiB)).ok());
    CheckRefusedAtHead(client, 413, "body too large");
  }
  SUBCASE("405: a method the mount has no operation for") {
    REQUIRE(client.SendRaw(BodyHead("OPTIONS", "/v1/secret/data/x", 512 * 1024, kToken)).ok());
    CheckRefusedAtHead(client, 405, "{\"errors\":[]}");
    REQUIRE(client.Connect().ok());  // and on a local sys endpoint, token or not
    REQUIRE(client.SendRaw(BodyHead("PUT", "/v1/sys/health", 512 * 1024)).ok());
    CheckRefusedAtHead(client, 405, "{\"errors\":[]}");
  }
  SUBCASE("404: no route (with the token; without it, 403 as OpenBao)") {
    REQUIRE(client.SendRaw(BodyHead("PUT", "/v1/nope/x", 512 * 1024, kToken)).ok());
    CheckRefusedAtHead(client, 404, "no handler for route");
    REQUIRE(client.Connect().ok());
    REQUIRE(client.SendRaw(BodyHead("PUT", "/v1/nope/x", 512 * 1024)).ok());
    CheckRefusedAtHead(client, 403, "permission denied");
  }
  SUBCASE("403: a chunked body without a token, before its first chunk") {
    REQUIRE(client
                .SendRaw("PUT /v1/secret/data/x HTTP/1.1\r\nHost: node\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n")
                .ok());
    CheckRefusedAtHead(client, 403, "permission denied");
  }
  SUBCASE("403 instead of 100 Continue") {
    REQUIRE(client
                .SendRaw(BodyHead("PUT", "/v1/secret/data/x", 512 * 1024, "wrong-token",
                                  "Expect: 100-continue\r\n"))
                .ok());
    REQUIRE(client.WaitForBytes("\r\n\r\n", kAnsweredAtOnce));
    CHECK(client.buffered().rfind("HTTP/1.1 403 ", 0) == 0);  // no interim 100 first
    CheckRefusedAtHead(client, 403, "permission denied");
  }
  SUBCASE("a chunked body over max_request_size: 413 before the chunk's data") {
    REQUIRE(client
                .SendRaw("PUT /v1/secret/data/x HTTP/1.1\r\nHost: node\r\nX-Vault-Token: " +
                         std::string(kToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n")
                .ok());
    CheckRefusedAtHead(client, 413, "body too large");
  }
  // Keep-alive requests without a body are answered as before, on the same connection.
  HttpTestClient after(c.port(0));
  Result<http::Response> a =
      after.Request("GET", "/v1/secret/data/x", {{"X-Vault-Token", kToken}}, {});
  REQUIRE(a.ok());
  CHECK(a->status == 404);
  Result<http::Response> b = after.Request("GET", "/v1/nope", {{"X-Vault-Token", "bad"}}, {});
  REQUIRE(b.ok());
  CHECK(b->status == 403);
  CHECK(after.connections_opened() == 1);
  CHECK(c.process(0).Running());
}

TEST_CASE(
    "node body: limits.max_body_bytes_in_flight refuses a second body with 503 + Retry-After") {
  ClusterOptions options;
  options.nodes = 1;
  options.tcp_extra = R"("max_request_size": 1048576)";
  options.extra_json = R"("limits": {"max_body_bytes_in_flight": 1048576})";
  LocalCluster c(options);
  REQUIRE(c.Start());
  const std::string body = KvBodyOfSize(768 * 1024);

  // The first body is in progress: its head and a part of it sent, 768 KiB reserved.
  HttpTestClient first(c.port(0));
  REQUIRE(first.SendRaw(BodyHead("PUT", "/v1/secret/data/first", body.size(), kToken)).ok());
  REQUIRE(first.SendRaw(body.substr(0, 1000)).ok());
  // A second one does not fit: refused from its head.
  HttpTestClient second(c.port(0));
  REQUIRE(second.SendRaw(BodyHead("PUT", "/v1/secret/data/second", body.size(), kToken)).ok());
  Result<http::Response> refused = second.ReadResponse(kAnsweredAtOnce, "PUT");
  REQUIRE_MESSAGE(refused.ok(), refused.status().ToString());
  CHECK(refused->status == 503);
  CHECK(refused->headers.Get("Retry-After").value_or("") == "1");
  CHECK(refused->body.find("{\"errors\":[\"too many request bodies") == 0);
  CHECK(refused->headers.Get("Connection").value_or("") == "close");
  CHECK(second.WaitForClose(Ms(5000)));
  // A chunked body counts what it has sent: 768 KiB + 2 x 128 KiB fit, the third does not.
  HttpTestClient chunked(c.port(0));
  std::string piece = std::string(128 * 1024, 'c');
  char size_line[32];
  snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
  REQUIRE(chunked
              .SendRaw("PUT /v1/kv/chunked HTTP/1.1\r\nHost: node\r\nX-Vault-Token: " +
                       std::string(kToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n")
              .ok());
  for (int i = 0; i < 3; ++i) (void)chunked.SendRaw(size_line + piece + "\r\n");
  Result<http::Response> chunk_refused = chunked.ReadResponse(kAnsweredAtOnce, "PUT");
  REQUIRE_MESSAGE(chunk_refused.ok(), chunk_refused.status().ToString());
  CHECK(chunk_refused->status == 503);
  CHECK(chunk_refused->headers.Get("Retry-After").value_or("") == "1");

  // The first finishes normally; then the second fits.
  REQUIRE(first.SendRaw(body.substr(1000)).ok());
  Result<http::Response> done = first.ReadResponse(Ms(10000), "PUT");
  REQUIRE_MESSAGE(done.ok(), done.status().ToString());
  CHECK(done->status == 200);
  REQUIRE(second.Connect().ok());
  REQUIRE(
      second.SendRaw(BodyHead("PUT", "/v1/secret/data/second", body.size(), kToken) + body).ok());
  Result<http::Response> ok = second.ReadResponse(Ms(10000), "PUT");
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->status == 200);

  // A reservation is given back when its connection dies mid-body, too: while it holds
  // 768 KiB another body is refused; once it is gone, one fits again.
  HttpTestClient dies(c.port(0));
  REQUIRE(dies.SendRaw(BodyHead("PUT", "/v1/secret/data/dies", body.size(), kToken) + "{").ok());
  auto probe = [&] {
    HttpTestClient p(c.port(0));
    Result<http::Response> r =
        p.Request("PUT", "/v1/secret/data/probe", {{"X-Vault-Token", kToken}}, body);
    return r.ok() ? r->status : 0;
  };
  CHECK(PollUntil([&] { return probe() == 503; }, Ms(5000), Ms(20)));
  dies.Close();
  CHECK(PollUntil([&] { return probe() == 200; }, Ms(5000), Ms(20)));
  CHECK(c.process(0).Running());
}

}  // namespace
}  // namespace halo::node::testing
