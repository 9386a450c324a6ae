// `Expect: 100-continue` through the real halo-router, as curl sends it for large bodies:
// the client sends the head, waits (curl: up to 1 s) for "100 Continue" or a final answer,
// and only then sends the body. The router's server connection answers 100 itself when
// the request will be proxied, and the final answer straight away when it is not (307 in
// redirect mode), closing the connection since the body never comes.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "test/router/router_harness.h"
#include "test/support/subprocess.h"

namespace halo::router::testing {
namespace {

using Role = FakeNode::Role;

struct ExpectCluster {
  explicit ExpectCluster(const std::string& mode) : n1("n1"), n2("n2") {
    n1.SetRole(Role::kActive);
    n2.SetRole(Role::kStandby);
    for (FakeNode* n : {&n1, &n2}) n->SetLeader(n1.api_addr());
    std::string extra = R"("health_check":{"interval":"100ms","timeout":"500ms","rise":1,)"
                        R"("fall":1},"mode":")" +
                        mode + "\"";
    REQUIRE(router.Start(
        RouterConfigJson(router.port(), {{"n1", n1.address()}, {"n2", n2.address()}}, extra)));
    REQUIRE(router.WaitRoles("n1", 2));
  }
  FakeNode n1, n2;
  RouterProcess router;
};

std::string Head(const std::string& method, const std::string& path, size_t length) {
  return method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(length) + "\r\nExpect: 100-continue\r\n\r\n";
}

// What curl does: head, wait for the interim or final answer, then the body.
TEST_CASE("router: Expect: 100-continue is answered before the body (forward mode)") {
  ExpectCluster c("forward");
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  const std::string body = R"({"data":{"k":")" + std::string(4096, 'v') + "\"}}";
  for (int i = 0; i < 3; ++i) {  // also on a kept-alive connection
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(client.Send(Head("PUT", "/v1/secret/data/e" + std::to_string(i), body.size())));
    // curl's own wait is 1 s; the body has not been sent, so only the router can answer.
    bool interim = client.ReadPrefix("HTTP/1.1 100 Continue\r\n\r\n", std::chrono::seconds(1));
    auto ms =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count() /
        1000.0;
    REQUIRE(interim);
    MESSAGE("100 Continue after " << ms << " ms (forward, request " << i << ")");
    REQUIRE(client.Send(body));
    auto final_answer = client.Read();
    REQUIRE(final_answer);
    CHECK(final_answer->status == 200);
    CHECK(final_answer->headers.Get("X-Fake-Node") == std::optional<std::string_view>("n1"));
    // The node saw the whole body and no Expect (the router did the handshake).
    CHECK(final_answer->body.find(std::string(4096, 'v')) != std::string::npos);
  }
  CHECK(c.n1.writes() == 3);
}

// curl itself, with a large body (curl adds the Expect header for bodies over 1 MiB). Its
// wait for the interim answer is set far beyond the test's deadline, so the case fails
// unless the router answers "100 Continue" itself.
TEST_CASE("router: curl's PUT with Expect: 100-continue gets 100 Continue, then 200") {
  ExpectCluster c("forward");
  halo::testing::TempDir dir("halo-expect");
  const std::string body = R"({"data":{"k":")" + std::string(1536 * 1024, 'v') + "\"}}";
  const std::string body_path = halo::testing::WriteFile(dir.Join("body.json"), body);
  const std::string log = dir.Join("curl.log");
  auto curl = halo::testing::Subprocess::Start(
      {"/usr/bin/curl", "-sS", "-v", "-o", "/dev/null", "-w", "status=%{http_code}\n",
       "--expect100-timeout", "60", "-H", "Expect: 100-continue", "-H",
       "Content-Type: application/json", "-X", "PUT", "--data-binary", "@" + body_path,
       "http://127.0.0.1:" + std::to_string(c.router.port()) + "/v1/secret/data/curl"},
      {}, log);
  int status = 0;
  REQUIRE(curl.WaitExit(std::chrono::seconds(20), &status));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::ifstream in(log);
  std::stringstream out;
  out << in.rdbuf();
  INFO("curl output: " << out.str());
  CHECK(out.str().find("< HTTP/1.1 100 Continue") != std::string::npos);
  CHECK(out.str().find("status=200") != std::string::npos);
  CHECK(c.n1.writes() == 1);
}

TEST_CASE("router: Expect: 100-continue in redirect mode gets the 307 at once, then a close") {
  ExpectCluster c("redirect");
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  REQUIRE(client.Send(Head("PUT", "/v1/secret/data/r", 100000)));
  auto r = client.Read(std::chrono::milliseconds(1000));
  REQUIRE(r);
  CHECK(r->status == 307);
  CHECK(r->headers.Get("Location") ==
        std::optional<std::string_view>(c.n1.api_addr() + "/v1/secret/data/r"));
  CHECK(r->headers.Get("Connection") == std::optional<std::string_view>("close"));
  CHECK(client.WaitClosed());  // the unsent body never comes: the connection cannot be reused
  CHECK(c.n1.writes() == 0);
}

TEST_CASE("router: an unknown expectation is refused with 417") {
  ExpectCluster c("forward");
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  REQUIRE(
      client.Send("PUT /v1/secret/data/q HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                  "Expect: something-else\r\n\r\n"));
  auto r = client.Read(std::chrono::milliseconds(1000));
  REQUIRE(r);
  CHECK(r->status == 417);
  CHECK(c.n1.writes() == 0);
}

}  // namespace
}  // namespace halo::router::testing
