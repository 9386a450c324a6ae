// Integration: bad input to a real halo-node: each gets a clear error and the node stays up.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "test/node/local_cluster.h"
#include "test/support/http_test_client.h"

namespace halo::node::testing {
namespace {

using halo::testing::HttpTestClient;

std::string Error(const http::Response& r) { return r.body; }

TEST_CASE("node bad input: API errors are clear and the node survives them") {
  ClusterOptions options;
  options.nodes = 1;
  LocalCluster c(options);
  REQUIRE(c.Start());

  SUBCASE("malformed JSON") {
    auto r = c.Call(0, "PUT", "/v1/secret/data/x", "{\"data\": {");
    REQUIRE(r.ok());
    CHECK(r->status == 400);
    CHECK(Error(*r).find("\"errors\"") != std::string::npos);
    CHECK(r->headers.Get("Content-Type") == "application/json");
  }
  SUBCASE("a JSON body that is not an object") {
    auto r = c.Call(0, "PUT", "/v1/kv/x", "[1,2]");
    REQUIRE(r.ok());
    CHECK(r->status == 400);
  }
  SUBCASE("unknown path") {
    auto r = c.Call(0, "GET", "/v1/nope/x");
    REQUIRE(r.ok());
    CHECK(r->status == 404);
    CHECK(Error(*r).find("no handler for route") != std::string::npos);
    auto outside = c.Call(0, "GET", "/favicon.ico");
    REQUIRE(outside.ok());
    CHECK(outside->status == 404);
  }
  SUBCASE("bad method") {
    auto r = c.Call(0, "OPTIONS", "/v1/secret/data/x");
    REQUIRE(r.ok());
    CHECK(r->status == 405);
    CHECK(r->body == "{\"errors\":[]}\n");
    auto health = c.Call(0, "DELETE", "/v1/sys/health");
    REQUIRE(health.ok());
    CHECK(health->status == 405);
  }
  SUBCASE("PATCH without the merge-patch content type") {
    http::Headers h{{"Content-Type", "application/json"}};
    auto r = c.Call(0, "PATCH", "/v1/secret/data/x", R"({"data":{"a":"b"}})", h);
    REQUIRE(r.ok());
    CHECK(r->status == 415);
  }
  SUBCASE("missing or wrong token") {
    auto none = c.Call(0, "GET", "/v1/secret/data/x", {}, {{"X-Vault-Token", ""}});
    REQUIRE(none.ok());
    CHECK(none->status == 403);
    CHECK(none->body == "{\"errors\":[\"permission denied\"]}\n");
    auto wrong = c.Call(0, "GET", "/v1/secret/data/x", {}, {{"X-Vault-Token", "guess"}});
    REQUIRE(wrong.ok());
    CHECK(wrong->status == 403);
    auto bearer = c.Call(0, "GET", "/v1/secret/data/x", {},
                         {{"X-Vault-Token", ""}, {"Authorization", "Bearer guess"}});
    REQUIRE(bearer.ok());
    CHECK(bearer->status == 403);
    auto good = c.Call(0, "GET", "/v1/secret/data/x", {},
                       {{"X-Vault-Token", ""}, {"Authorization", std::string("Bearer ") + kToken}});
    REQUIRE(good.ok());
    CHECK(good->status == 404);  // authorised; nothing there
  }
  SUBCASE("bad query parameters") {
    CHECK(c.Call(0, "GET", "/v1/sys/health?standbycode=abc")->status == 400);
    CHECK(c.Call(0, "GET", "/v1/secret/data/x?list=perhaps")->status == 400);
    CHECK(c.Call(0, "GET", "/v1/sys/leader?index=x")->status == 400);
  }
  SUBCASE("malformed HTTP") {
    for (const char* raw : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
                            "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                            "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                            "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
      HttpTestClient client(c.port(0));
      REQUIRE(client.SendRaw(raw).ok());
      auto r = client.ReadResponse();
      INFO(raw);
      if (r.ok()) {
        CHECK(r->status >= 400);
        CHECK(r->status < 600);
      }
      CHECK(client.WaitForClose());
    }
  }
  // Whatever was sent, the node is still healthy and serving.
  CHECK(c.Health(0) == 200);
  CHECK(c.process(0).Running());
}

TEST_CASE("node bad input: a body over max_request_size is 413") {
  ClusterOptions options;
  options.nodes = 1;
  options.tcp_extra = R"("max_request_size": 1024)";
  LocalCluster c(options);
  REQUIRE(c.Start());
  std::string big = "{\"data\":{\"v\":\"" + std::string(4096, 'x') + "\"}}";
  auto r = c.Call(0, "PUT", "/v1/secret/data/big", big);
  REQUIRE(r.ok());
  CHECK(r->status == 413);
  CHECK(r->body.find("\"errors\"") != std::string::npos);
  auto small = c.Call(0, "PUT", "/v1/secret/data/small", R"({"data":{"v":"1"}})");
  REQUIRE(small.ok());
  CHECK(small->status == 200);
  CHECK(c.Health(0) == 200);
}

struct Run {
  int status = -1;
  std::string output;
};

// Runs halo-node with `args` until it exits (it must, for a bad config).
Run RunNode(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv{halo::testing::BinPath("halo-node")};
  argv.insert(argv.end(), args.begin(), args.end());
  halo::testing::Subprocess p = halo::testing::Subprocess::Start(argv, {}, log);
  Run run;
  if (!p.WaitExit(std::chrono::seconds(10), &run.status)) p.Stop(9);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  run.output = ss.str();
  return run;
}

TEST_CASE("node bad input: a bad config is a startup error naming the key") {
  halo::testing::TempDir dir("halo-node-badcfg");
  std::string base =
      "\"storage\": {\"inmem\": {}}, \"root_token\": \"t\", "
      "\"listener\": {\"tcp\": {\"address\": \"127.0.0.1:0\"}}";
  struct Case {
    std::string text;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"{" + base + ", \"colour\": \"blue\"}", "colour: unknown key"},
      {"{" + base + ", \"disable_standby_reads\": \"no\"}", "disable_standby_reads"},
      {"{" + base + ", \"api_addr\": \"localhost\"}", "api_addr"},
      {"{\"storage\": {\"lmdb\": {}}, \"root_token\": \"t\"}", "storage.lmdb.path"},
      {"{\"storage\": {\"inmem\": {}}}", "root_token"},
      {"{" + base + ", \"mounts\": {\"x/\": {\"type\": \"pki\"}}}", "mounts.x/.type"},
      {"{" + base, "config.json:1:"},
  };
  int n = 0;
  for (const Case& c : cases) {
    std::string path = dir.Join("config.json");
    halo::testing::WriteFile(path, c.text);
    Run run = RunNode({"--config", path}, dir.Join("out" + std::to_string(n++)));
    INFO(c.text);
    INFO(run.output);
    CHECK(WIFEXITED(run.status));
    CHECK(WEXITSTATUS(run.status) == 1);
    CHECK(run.output.find(c.expect) != std::string::npos);
  }
  Run missing = RunNode({"--config", dir.Join("nope.json")}, dir.Join("out-missing"));
  CHECK(WEXITSTATUS(missing.status) == 1);
  CHECK(missing.output.find("nope.json") != std::string::npos);
  Run noflag = RunNode({}, dir.Join("out-noflag"));
  CHECK(WEXITSTATUS(noflag.status) == 2);
  CHECK(noflag.output.find("--config") != std::string::npos);
  Run busy = RunNode({"--bogus"}, dir.Join("out-bogus"));
  CHECK(WEXITSTATUS(busy.status) == 2);
  CHECK(busy.output.find("--bogus") != std::string::npos);
}

}  // namespace
}  // namespace halo::node::testing
