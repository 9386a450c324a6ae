#include "router/router_config.h"

#include <doctest/doctest.h>

namespace halo::router {
namespace {

const char* kFull = R"({
  "listener": {"tcp": {"address": "127.0.0.1:8200"}},
  "workers": 2,
  "log_level": "debug",
  "nodes": [
    {"name": "node1", "address": "127.0.0.1:8210"},
    {"name": "node2", "address": "127.0.0.1:8220"},
    {"address": "[::1]:8230"}
  ],
  "health_check": {"interval": "500ms", "timeout": 300, "rise": 3, "fall": 1,
                   "leader_watch": false, "leader_wait": "10s"},
  "reads": "any",
  "mode": "auto",
  "failover_hold_ms": 2500,
  "limits": {"max_header_bytes": 8192, "max_body_bytes": 1048576, "header_timeout": "5s"},
  "rules": [
    {"path": "sys/*", "class": "write", "comment": "admin"},
    {"path": "*/creds/*", "methods": ["get"], "class": "write", "mode": "redirect"}
  ]
})";

TEST_CASE("ParseRouterConfig reads every section") {
  Result<RouterConfig> r = ParseRouterConfig(kFull, "router.json");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const RouterConfig& c = *r;
  CHECK(c.listeners.at(0).host == "127.0.0.1");
  CHECK(c.listeners.at(0).port == 8200);
  CHECK(c.workers == 2);
  CHECK(c.log_level == "debug");
  REQUIRE(c.nodes.size() == 3);
  CHECK(c.nodes[0].name == "node1");
  CHECK(c.nodes[0].port == 8210);
  CHECK(c.nodes[2].host == "::1");
  CHECK(c.nodes[2].name == "[::1]:8230");
  CHECK(c.health.interval_ms == 500);
  CHECK(c.health.timeout_ms == 300);
  CHECK(c.health.rise == 3);
  CHECK(c.health.fall == 1);
  CHECK_FALSE(c.health.leader_watch);
  CHECK(c.health.leader_wait_ms == 10000);
  CHECK(c.reads == ReadPolicy::kAny);
  CHECK(c.mode == WriteMode::kAuto);
  CHECK(c.failover_hold_ms == 2500);
  CHECK(c.limits.max_header_bytes == 8192);
  CHECK(c.limits.max_body_bytes == 1048576);
  CHECK(c.limits.header_timeout_ms == 5000);
  REQUIRE(c.rules.size() == 2);
  CHECK(c.rules[1].methods == std::vector<std::string>{"GET"});
  CHECK(*c.rules[1].mode == WriteMode::kRedirect);
}

TEST_CASE("ParseRouterConfig defaults") {
  Result<RouterConfig> r =
      ParseRouterConfig(R"({"nodes":[{"name":"a","address":"127.0.0.1:1"}]})", "x");
  REQUIRE(r.ok());
  CHECK(r->workers == 1);
  CHECK(r->reads == ReadPolicy::kStandbys);
  CHECK(r->mode == WriteMode::kForward);
  CHECK(r->listeners.at(0).port == 8200);
  CHECK(r->admin_host == "127.0.0.1");  // the admin listener defaults to loopback
  CHECK(r->admin_port == 8201);
  CHECK(r->admin_token.empty());
  CHECK(r->rules.empty());
  CHECK(r->limits.max_connections_per_client == 0);  // off
  CHECK(r->limits.max_blocking_queries == 256);
  Result<RouterConfig> a = ParseRouterConfig(
      R"({"nodes":[{"address":"h:1"}],"admin":{"address":"[::1]:9001","token":"t0k"}})", "x");
  REQUIRE(a.ok());
  CHECK(a->admin_host == "::1");
  CHECK(a->admin_port == 9001);
  CHECK(a->admin_token == "t0k");
  CHECK(r->limits.max_body_bytes_in_flight == int64_t{128} << 20);
  CHECK(r->upstream_h2);  // HTTP/2 to the nodes unless told otherwise
  CHECK(r->upstream_h2_connections == 1);
  CHECK(r->listeners.at(0).tls.offer_h2);
  Result<RouterConfig> h1 = ParseRouterConfig(
      R"({"nodes":[{"address":"h:1"}],"upstream_protocol":"http1","upstream_h2_connections":4,
          "listener":{"tcp":{"address":"127.0.0.1:1","http2_disable":true}}})",
      "x");
  REQUIRE_MESSAGE(h1.ok(), h1.status().ToString());
  CHECK_FALSE(h1->upstream_h2);
  CHECK(h1->upstream_h2_connections == 4);
  CHECK_FALSE(h1->listeners.at(0).tls.offer_h2);
}

TEST_CASE("ParseRouterConfig: limits.max_body_bytes_in_flight") {
  auto parse = [](const std::string& limits) {
    return ParseRouterConfig(R"({"nodes":[{"address":"h:1"}],"limits":)" + limits + "}", "x");
  };
  Result<RouterConfig> ok = parse(R"({"max_body_bytes":1024,"max_body_bytes_in_flight":4096})");
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->limits.max_body_bytes_in_flight == 4096);
  Result<RouterConfig> small = parse(R"({"max_body_bytes_in_flight":1024})");
  REQUIRE_FALSE(small.ok());
  CHECK(small.status().message() ==
        "limits.max_body_bytes_in_flight: must be at least limits.max_body_bytes (33554432)");
  Result<RouterConfig> zero = parse(R"({"max_body_bytes_in_flight":0})");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message().find("limits.max_body_bytes_in_flight") == 0);
}

TEST_CASE("ParseRouterConfig names the bad key") {
  auto msg = [](const char* json) {
    Result<RouterConfig> r = ParseRouterConfig(json, "x");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  CHECK(msg(R"({})").find("nodes: missing") == 0);
  CHECK(msg(R"({"nodes":[]})").find("nodes: expected") == 0);
  CHECK(msg(R"({"nodes":[{"address":"nohost"}]})") == "nodes[0].address: expected \"host:port\"");
  CHECK(msg(R"({"nodes":[{"address":"h:0"}]})") == "nodes[0].address: expected \"host:port\"");
  CHECK(msg(R"({"nodes":[{"address":"h:1","weight":2}]})") == "nodes[0].weight: unknown key");
  CHECK(msg(R"({"nodes":[{"name":"a","address":"h:1"},{"name":"a","address":"h:2"}]})")
            .find("duplicate") != std::string::npos);
  const char* n = R"("nodes":[{"address":"h:1"}])";
  CHECK(msg((std::string("{") + n + R"(,"reads":"some"})").c_str()) ==
        "reads: expected standbys, active or any");
  CHECK(msg((std::string("{") + n + R"(,"mode":"proxy"})").c_str()) ==
        "mode: expected forward, redirect or auto");
  CHECK(msg((std::string("{") + n + R"(,"rules":[{"path":"x","class":"maybe"}]})").c_str()) ==
        "rules[0].class: expected read or write");
  CHECK(msg((std::string("{") + n + R"(,"rules":[{"path":"/v1/x","class":"read"}]})").c_str())
            .find("rules[0].path") == 0);
  CHECK(msg((std::string("{") + n + R"(,"rules":[{"path":"x"}]})").c_str()) ==
        "rules[0].class: a rule needs a class or a mode");
  CHECK(msg((std::string("{") + n + R"(,"rules":[{"path":"x","methods":["G T"],"class":"read"}]})")
                .c_str())
            .find("bad method") != std::string::npos);
  CHECK(msg((std::string("{") + n + R"(,"workers":0})").c_str()).find("workers") == 0);
  CHECK(msg((std::string("{") + n + R"(,"health_check":{"interval":0}})").c_str()) ==
        "health_check.interval: must be positive");
  CHECK(msg((std::string("{") + n + R"(,"limits":{"max_headers":"x"}})").c_str()) ==
        "limits.max_headers: expected an integer");
  CHECK(msg((std::string("{") + n + R"(,"limits":{"max_connections_per_client":-1}})").c_str())
            .find("limits.max_connections_per_client") == 0);
  CHECK(msg((std::string("{") + n + R"(,"limits":{"max_blocking_queries":"x"}})").c_str())
            .find("limits.max_blocking_queries") == 0);
  CHECK(msg((std::string("{") + n + R"(,"typo":1})").c_str()) == "typo: unknown key");
  CHECK(msg((std::string("{") + n + R"(,"upstream_protocol":"h3"})").c_str()) ==
        "upstream_protocol: expected \"h2\" or \"http1\", got \"h3\"");
  CHECK(msg((std::string("{") + n + R"(,"upstream_h2_connections":0})").c_str())
            .find("upstream_h2_connections") == 0);
  CHECK(msg((std::string("{") + n + R"(,"admin":{"address":"8201"}})").c_str()) ==
        "admin.address: expected \"host:port\"");
  CHECK(msg((std::string("{") + n + R"(,"admin":{"token":""}})").c_str()).find("admin.token") == 0);
  CHECK(msg((std::string("{") + n + R"(,"admin":{"stats":true}})").c_str()) ==
        "admin.stats: unknown key");
  CHECK(
      msg((std::string("{") + n + R"(,"shutdown_grace":"soon"})").c_str()).find("shutdown_grace") ==
      0);
  CHECK(msg((std::string("{") + n + R"(,"access_log":{"path":""}})").c_str())
            .find("access_log.path: empty") == 0);
  CHECK(msg((std::string("{") + n + R"(,"access_log":{"buffer_bytes":10}})").c_str())
            .find("access_log.buffer_bytes") == 0);
  CHECK(msg((std::string("{") + n + R"(,"access_log":{"flush_interval":"2m"}})").c_str()) ==
        "access_log.flush_interval: at most 60s");
  CHECK(msg((std::string("{") + n + R"(,"access_log":{"format":"clf"}})").c_str()) ==
        "access_log.format: unknown key");
  CHECK(msg((std::string("{") + n + R"(,"access_log":true})").c_str()).find("access_log") == 0);
}

TEST_CASE("ParseRouterConfig: access_log and shutdown_grace") {
  const char* n = R"({"nodes":[{"address":"h:1"}])";
  Result<RouterConfig> off = ParseRouterConfig(std::string(n) + "}", "x");
  REQUIRE(off.ok());
  CHECK_FALSE(off->access_log.enabled);
  CHECK(off->shutdown_grace_ms == 0);
  Result<RouterConfig> on = ParseRouterConfig(
      std::string(n) + R"(,"shutdown_grace":"2s","access_log":{"path":"/var/log/halo/access.log",)"
                       R"("buffer_bytes":65536,"flush_interval":"250ms"}})",
      "x");
  REQUIRE_MESSAGE(on.ok(), on.status().ToString());
  CHECK(on->shutdown_grace_ms == 2000);
  CHECK(on->access_log.enabled);  // a block turns it on
  CHECK(on->access_log.path == "/var/log/halo/access.log");
  CHECK(on->access_log.buffer_bytes == 65536);
  CHECK(on->access_log.flush_interval_ms == 250);
  Result<RouterConfig> kept =
      ParseRouterConfig(std::string(n) + R"(,"access_log":{"enabled":false}})", "x");
  REQUIRE(kept.ok());
  CHECK_FALSE(kept->access_log.enabled);
  CHECK(kept->access_log.path == "stdout");
}

TEST_CASE("SplitHostPort") {
  std::string h;
  uint16_t p = 0;
  CHECK(SplitHostPort("127.0.0.1:8200", &h, &p));
  CHECK(h == "127.0.0.1");
  CHECK(p == 8200);
  CHECK(SplitHostPort("[::1]:80", &h, &p));
  CHECK(h == "::1");
  CHECK_FALSE(SplitHostPort("::1:80", &h, &p));
  CHECK_FALSE(SplitHostPort("h:65536", &h, &p));
  CHECK_FALSE(SplitHostPort("h:", &h, &p));
  CHECK_FALSE(SplitHostPort(":80", &h, &p));
  CHECK_FALSE(SplitHostPort("h:8a", &h, &p));
}

TEST_CASE("The shipped conf/router.json parses") {
  Result<RouterConfig> r = LoadRouterConfig("conf/router.json");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->listeners.at(0).port == 8200);
  CHECK(r->nodes.size() == 3);
  CHECK(!r->rules.empty());
}

}  // namespace
}  // namespace halo::router
