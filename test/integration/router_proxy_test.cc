// The real halo-router binary in front of scripted fake nodes (test/router/router_harness.h):
// routing, forward/redirect/auto, hold and retry rules, header handling, reload, drain,
// limits and timeouts. The same behaviours against real halo-nodes are in
// router_cluster_test.cc and router_failover_test.cc.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "common/time_util.h"
#include "test/router/router_harness.h"
#include "test/support/testbed.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;
using Role = FakeNode::Role;

// Three fake nodes (n1 active, n2/n3 standbys) and a router in front.
struct Cluster {
  explicit Cluster(const std::string& extra = "", bool start = true)
      : n1("n1"), n2("n2"), n3("n3") {
    n1.SetRole(Role::kActive);
    n2.SetRole(Role::kStandby);
    n3.SetRole(Role::kStandby);
    for (FakeNode* n : {&n1, &n2, &n3}) n->SetLeader(n1.api_addr());
    if (start) REQUIRE(Start(extra));
  }
  std::string Config(const std::string& extra = "") {
    std::string base = R"("health_check":{"interval":"100ms","timeout":"500ms","rise":1,"fall":1})";
    return RouterConfigJson(router.port(), Nodes(), base + (extra.empty() ? "" : "," + extra));
  }
  std::vector<std::pair<std::string, std::string>> Nodes() {
    return {{"n1", n1.address()}, {"n2", n2.address()}, {"n3", n3.address()}};
  }
  bool Start(const std::string& extra) {
    return router.Start(Config(extra)) && router.WaitRoles("n1", 3);
  }
  FakeNode n1, n2, n3;
  RouterProcess router;
};

std::string Body(const std::optional<http::Response>& r) { return r ? r->body : "<none>"; }

std::string Header(const std::optional<http::Response>& r, const char* name) {
  if (!r) return "<none>";
  std::optional<std::string_view> v = r->headers.Get(name);
  return v ? std::string(*v) : "";
}

TEST_CASE("router: writes go to the active, reads to the standbys by least outstanding") {
  Cluster c;
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  for (int i = 0; i < 20; ++i) {
    auto w = client.Request("PUT", "/v1/secret/data/k" + std::to_string(i), R"({"data":{}})");
    REQUIRE(w);
    CHECK(w->status == 200);
    CHECK(Header(w, "X-Fake-Node") == "n1");
    auto r = client.Request("GET", "/v1/secret/data/k" + std::to_string(i));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(Header(r, "X-Fake-Node") != "n1");
  }
  CHECK(c.n1.writes() == 20);
  CHECK(c.n1.reads() == 0);
  CHECK(c.n2.writes() + c.n3.writes() == 0);
  CHECK(c.n2.reads() + c.n3.reads() == 20);
  // Sequential requests see zero outstanding everywhere: the random tie-break spreads them.
  CHECK(c.n2.reads() > 0);
  CHECK(c.n3.reads() > 0);
  // LIST and ?list=true are reads; sys/* is a write by the shipped-style rule set.
  auto l = client.Request("LIST", "/v1/secret/metadata/");
  CHECK(Header(l, "X-Fake-Node") != "n1");
  auto lq = client.Request("GET", "/v1/secret/metadata/?list=true");
  CHECK(Header(lq, "X-Fake-Node") != "n1");
  rapidjson::Document st = c.router.Status();
  CHECK(NodeRequests(st, "n1", "write") == 20);
  CHECK(NodeRequests(st, "n2", "read") + NodeRequests(st, "n3", "read") == 22);
}

TEST_CASE("router: classification rules from config") {
  Cluster c(R"("rules":[{"path":"sys/*","class":"write"},
                        {"path":"*/creds/*","methods":["GET"],"class":"write"},
                        {"path":"transit/decrypt/*","methods":["POST"],"class":"read"}])");
  CHECK(Header(HttpCall(c.router.port(), "GET", "/v1/database/creds/ro"), "X-Fake-Node") == "n1");
  CHECK(Header(HttpCall(c.router.port(), "GET", "/v1/sys/mounts"), "X-Fake-Node") == "n1");
  CHECK(Header(HttpCall(c.router.port(), "POST", "/v1/transit/decrypt/k", "{}"), "X-Fake-Node") !=
        "n1");
  // Normalised before matching: //, ., .. and %-escapes cannot dodge a rule.
  CHECK(Header(HttpCall(c.router.port(), "GET", "/v1//secret/../sys/./mounts"), "X-Fake-Node") ==
        "n1");
  CHECK(Header(HttpCall(c.router.port(), "GET", "/v1/%73ys/mounts"), "X-Fake-Node") == "n1");
  // The original target is what the node receives.
  CHECK(c.n1.targets().back() == "GET /v1/%73ys/mounts");
  // Response wrapping writes even on a GET.
  CHECK(Header(HttpCall(c.router.port(), "GET", "/v1/secret/data/x", "", {"X-Vault-Wrap-TTL: 60"}),
               "X-Fake-Node") == "n1");
}

TEST_CASE("router: hop-by-hop headers dropped, X-Forwarded-* added, the rest passed") {
  Cluster c;
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/h", "{}",
                    {"Connection: keep-alive, X-Hop", "X-Hop: secret", "Keep-Alive: timeout=5",
                     "X-Forwarded-For: 10.0.0.1", "X-Forwarded-Proto: https",
                     "X-Vault-No-Request-Forwarding: true", "X-Vault-Token: root"});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Body(r).find("\"xff\":\"10.0.0.1, 127.0.0.1\"") != std::string::npos);
  CHECK(Body(r).find("\"xfp\":\"http\"") != std::string::npos);
  CHECK(Body(r).find("\"connection\":\"\"") != std::string::npos);
  // forward mode passes the client's no-forwarding header through to the active
  CHECK(Body(r).find("\"no_forward\":\"true\"") != std::string::npos);
  CHECK(Header(r, "X-Fake-Node") == "n1");
}

TEST_CASE("router: redirect mode answers 307 with the active's api_addr, path and query") {
  Cluster c(R"("mode":"redirect")");
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/a%20b?cas=1", "{}");
  REQUIRE(r);
  CHECK(r->status == 307);
  CHECK(Header(r, "Location") == c.n1.api_addr() + "/v1/secret/data/a%20b?cas=1");
  CHECK(c.n1.writes() == 0);
  // Reads are still proxied.
  auto g = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
  CHECK(g->status == 200);
  CHECK(StatusCounter(c.router.Status(), "redirects") == 1);
}

TEST_CASE("router: per-rule mode overrides the global default") {
  Cluster c(R"("mode":"forward","rules":[{"path":"auth/*","mode":"redirect"}])");
  auto r = HttpCall(c.router.port(), "POST", "/v1/auth/userpass/login/u", "{}");
  CHECK(r->status == 307);
  CHECK(Header(r, "Location") == c.n1.api_addr() + "/v1/auth/userpass/login/u");
  auto w = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  CHECK(w->status == 200);
  CHECK(Header(w, "X-Fake-Node") == "n1");
}

TEST_CASE("router: auto mode forwards, and redirects on the client's header") {
  Cluster c(R"("mode":"auto")");
  auto f = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  CHECK(f->status == 200);
  CHECK(Header(f, "X-Fake-Node") == "n1");
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x?v=2", "{}",
                    {"X-Vault-No-Request-Forwarding: 1"});
  CHECK(r->status == 307);
  CHECK(Header(r, "Location") == c.n1.api_addr() + "/v1/secret/data/x?v=2");
  CHECK(c.n1.writes() == 1);
}

TEST_CASE("router: auto redirects when the active is out of the router's reach") {
  // The router only knows the standbys; they report n1 as the leader.
  FakeNode n1("n1"), n2("n2"), n3("n3");
  n1.SetRole(Role::kActive);
  for (FakeNode* n : {&n2, &n3}) {
    n->SetRole(Role::kStandby);
    n->SetLeader(n1.api_addr());
  }
  RouterProcess router;
  const std::string hc = R"("health_check":{"interval":"100ms","rise":1,"fall":1})";
  REQUIRE(router.Start(RouterConfigJson(router.port(), {{"n2", n2.address()}, {"n3", n3.address()}},
                                        hc + R"(,"mode":"auto")")));
  REQUIRE(router.WaitStatus([&](const rapidjson::Document& d) {
    return std::string(d["redirect_addr"].GetString()) == n1.api_addr();
  }));
  auto r = HttpCall(router.port(), "POST", "/v1/secret/data/y", "{}");
  REQUIRE(r);
  CHECK(r->status == 307);
  CHECK(Header(r, "Location") == n1.api_addr() + "/v1/secret/data/y");
  // forward mode: the leader is outside our node set, so a standby gets it (and forwards).
  REQUIRE(router.Reload(RouterConfigJson(
      router.port(), {{"n2", n2.address()}, {"n3", n3.address()}}, hc + R"(,"mode":"forward")")));
  auto f = HttpCall(router.port(), "POST", "/v1/secret/data/y", "{}");
  CHECK(f->status == 200);
  CHECK(Header(f, "X-Fake-Node") != "n1");
}

TEST_CASE("router: sealed and down nodes get no traffic") {
  Cluster c;
  c.n3.SetRole(Role::kSealed);
  REQUIRE(c.router.WaitRoles("n1", 2));
  c.n2.ResetCounts();
  c.n3.ResetCounts();
  for (int i = 0; i < 10; ++i)
    CHECK(HttpCall(c.router.port(), "GET", "/v1/secret/data/x")->status == 200);
  CHECK(c.n2.reads() == 10);
  CHECK(c.n3.reads() == 0);
  c.n2.Stop();
  REQUIRE(c.router.WaitRoles("n1", 1));
  for (int i = 0; i < 5; ++i) {
    auto r = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
    CHECK(Header(r, "X-Fake-Node") == "n1");  // no standby left: the active serves reads
  }
  CHECK(c.n3.reads() == 0);
}

TEST_CASE("router: writes wait for a new active and go out in order") {
  // HTTP/1.1 to the nodes: the order is read from the fake node's connection numbers.
  Cluster c(R"("failover_hold_ms":5000,"upstream_protocol":"http1")");
  c.n1.Stop();  // crash: connect refused
  c.n2.SetLeader("");
  c.n3.SetLeader("");
  // Until the standbys' new word is seen, writes would go through them to n1 (which the
  // router cannot reach, but they might): wait until no leader is known at all.
  REQUIRE(c.router.WaitStatus([](const rapidjson::Document& d) {
    return d.HasMember("redirect_addr") && d["redirect_addr"].GetStringLength() == 0;
  }));
  RawClient a, b;
  REQUIRE(a.Connect(c.router.port()));
  REQUIRE(b.Connect(c.router.port()));
  REQUIRE(a.Send("PUT /v1/secret/data/first HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\n\r\n{}"));
  REQUIRE(PollUntil([&] { return StatusCounter(c.router.Status(), "held_now") == 1; },
                    std::chrono::seconds(5)));
  REQUIRE(b.Send("PUT /v1/secret/data/second HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\n\r\n{}"));
  REQUIRE(PollUntil([&] { return StatusCounter(c.router.Status(), "held_now") == 2; },
                    std::chrono::seconds(5)));
  auto t0 = std::chrono::steady_clock::now();
  c.n2.SetRole(Role::kActive);  // the new active
  auto ra = a.Read(std::chrono::seconds(5));
  auto rb = b.Read(std::chrono::seconds(5));
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->status == 200);
  CHECK(rb->status == 200);
  CHECK(Header(ra, "X-Fake-Node") == "n2");
  CHECK(Header(rb, "X-Fake-Node") == "n2");
  CHECK(c.n2.writes() == 2);
  CHECK(c.n1.writes() + c.n3.writes() == 0);
  // The one worker dispatches the held writes in arrival order, each on a new upstream
  // connection opened as it is dispatched; the node accepts connections in the order they
  // were opened. So the write that arrived first went out on the connection n2 accepted
  // first (the two requests may still be read in either order by n2's two threads).
  int first_conn = 0, second_conn = 0;
  for (const FakeNode::Arrival& arrival : c.n2.arrivals()) {
    if (arrival.target == "PUT /v1/secret/data/first") first_conn = arrival.conn;
    if (arrival.target == "PUT /v1/secret/data/second") second_conn = arrival.conn;
  }
  REQUIRE(first_conn > 0);
  REQUIRE(second_conn > 0);
  CHECK(first_conn < second_conn);
  MESSAGE("held writes dispatched " << halo::MillisSince(t0)
                                    << " ms after the new active appeared");
  rapidjson::Document st = c.router.Status();
  CHECK(StatusCounter(st, "held_writes") == 2);
  CHECK(StatusCounter(st, "held_dispatched") == 2);
  CHECK(StatusCounter(st, "failovers") == 1);
}

TEST_CASE("router: a held write gives up after failover_hold_ms with 503 and Retry-After") {
  Cluster c(R"("failover_hold_ms":300,"retry_after_s":2)");
  c.n1.SetRole(Role::kStandby);
  REQUIRE(c.router.WaitRoles("", 3));
  auto t0 = std::chrono::steady_clock::now();
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  auto ms = halo::MillisSince(t0);
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(Header(r, "Retry-After") == "2");
  CHECK(Body(r).find("{\"errors\":[") == 0);
  CHECK(ms >= 250);
  CHECK(ms < 5000);
  CHECK(c.n1.writes() + c.n2.writes() + c.n3.writes() == 0);
  CHECK(StatusCounter(c.router.Status(), "held_expired") == 1);
  // Reads are still served by the standbys meanwhile.
  CHECK(HttpCall(c.router.port(), "GET", "/v1/secret/data/x")->status == 200);
}

TEST_CASE("router: a write refused with 503 by a demoted active is retried on the new one") {
  Cluster c;
  c.n1.write_status = 503;  // n1 lost the lock but the router does not know yet
  c.n1.not_executed = true;
  c.n2.SetRole(Role::kActive);
  c.n1.SetRole(Role::kStandby);  // (health will catch up; the 503 triggers a probe at once)
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Header(r, "X-Fake-Node") == "n2");
  CHECK(c.n2.writes() == 1);
}

TEST_CASE("router: a client's X-Halo-Forwarded never reaches a node") {
  Cluster c;
  for (const char* method : {"PUT", "GET"}) {
    auto r = HttpCall(c.router.port(), method, "/v1/secret/data/x", method[0] == 'P' ? "{}" : "",
                      {"X-Halo-Forwarded: 1"});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(Body(r).find("\"halo_forwarded\":\"\"") != std::string::npos);
  }
}

TEST_CASE("router: a write's 503 without the not-executed marker is relayed, never replayed") {
  Cluster c;
  c.n1.write_status = 503;  // e.g. an answer the active relayed: the write may have run
  int64_t held_before = StatusCounter(c.router.Status(), "held_writes");
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(Header(r, "X-Fake-Node") == "n1");  // the node's own answer, not the router's
  CHECK(c.n1.writes() == 1);
  CHECK(c.n2.writes() + c.n3.writes() == 0);
  CHECK(StatusCounter(c.router.Status(), "held_writes") == held_before);
}

TEST_CASE("router: an unknown outcome is never replayed (502); a failed read is retried once") {
  Cluster c;
  c.n1.drop_writes = true;
  auto w = HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  REQUIRE(w);
  CHECK(w->status == 502);
  CHECK(Body(w).find("outcome unknown") != std::string::npos);
  CHECK(c.n1.writes() == 1);  // exactly once
  CHECK(c.n2.writes() + c.n3.writes() == 0);
  c.n1.drop_writes = false;

  c.n2.drop_reads = true;
  c.n3.drop_reads = true;
  c.n2.ResetCounts();
  c.n3.ResetCounts();
  auto r = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
  REQUIRE(r);
  CHECK(r->status == 502);  // retried once on the other standby, which failed too
  CHECK(c.n2.reads() + c.n3.reads() == 2);
  c.n3.drop_reads = false;
  for (int i = 0; i < 5; ++i) {
    c.n2.ResetCounts();
    c.n3.ResetCounts();
    auto ok = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(Header(ok, "X-Fake-Node") == "n3");
  }
  CHECK(StatusCounter(c.router.Status(), "retries") >= 1);
}

TEST_CASE("router: the leader push moves writes within milliseconds, not a probe interval") {
  Cluster c("", false);
  // Slow probes: only the blocking sys/leader query can explain a fast switch.
  REQUIRE(c.router.Start(RouterConfigJson(
      c.router.port(), c.Nodes(),
      R"("health_check":{"interval":"10s","timeout":"1s","rise":1,"fall":1,"leader_wait":"5s"})")));
  REQUIRE(c.router.WaitRoles("n1", 3));
  auto t0 = std::chrono::steady_clock::now();
  c.n1.SetRole(Role::kStandby);
  c.n2.SetRole(Role::kActive);
  REQUIRE(c.router.WaitRoles("n2", 3, std::chrono::seconds(3)));
  auto ms = halo::MillisSince(t0);
  MESSAGE("router followed the leader change in " << ms << " ms (probe interval 10 s)");
  CHECK(ms < 3000);
  CHECK(Header(HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}"), "X-Fake-Node") == "n2");
}

TEST_CASE("router: SIGHUP reload changes routing without dropping an open connection") {
  Cluster c;
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  auto before = client.Request("GET", "/v1/secret/data/x");
  CHECK(Header(before, "X-Fake-Node") != "n1");
  REQUIRE(c.router.Reload(c.Config(R"("reads":"active","mode":"redirect")")));
  auto after = client.Request("GET", "/v1/secret/data/x");  // same connection
  REQUIRE(after);
  CHECK(Header(after, "X-Fake-Node") == "n1");
  auto w = client.Request("PUT", "/v1/secret/data/x", "{}");
  REQUIRE(w);
  CHECK(w->status == 307);
  rapidjson::Document st = c.router.Status();
  CHECK(StatusCounter(st, "reloads") == 1);
  CHECK(client.Request("GET", "/v1/secret/data/y")->status == 200);
}

TEST_CASE("router: SIGHUP with a broken file keeps the running config") {
  Cluster c;
  c.router.Reload("{not json", /*wait=*/false);
  REQUIRE(c.router.WaitStatus(
      [](const rapidjson::Document& d) { return StatusCounter(d, "reload_failures") == 1; }));
  CHECK(HttpCall(c.router.port(), "GET", "/v1/secret/data/x")->status == 200);
}

TEST_CASE("router: SIGHUP with an unresolvable node name keeps the running config") {
  Cluster c;
  std::vector<std::pair<std::string, std::string>> nodes = c.Nodes();
  nodes[1].second = "no-such-host.invalid:8200";  // RFC 6761: never resolves
  c.router.Reload(RouterConfigJson(c.router.port(), nodes, R"("reads":"active")"),
                  /*wait=*/false);
  REQUIRE(c.router.WaitStatus(
      [](const rapidjson::Document& d) { return StatusCounter(d, "reload_failures") == 1; }));
  CHECK(StatusCounter(c.router.Status(), "reloads") == 0);
  // Still the old config (reads across the standbys, not "active"), still serving.
  auto r = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Header(r, "X-Fake-Node") != "n1");
}

TEST_CASE("router: SIGHUP resolves node names (asynchronously) and applies the config") {
  Cluster c;
  std::vector<std::pair<std::string, std::string>> nodes = c.Nodes();
  for (auto& n : nodes) n.second = "localhost" + n.second.substr(n.second.rfind(':'));
  REQUIRE(c.router.Reload(RouterConfigJson(c.router.port(), nodes,
                                           R"("reads":"active","health_check":{"interval":)"
                                           R"("100ms","timeout":"500ms","rise":1,"fall":1})")));
  CHECK(StatusCounter(c.router.Status(), "reloads") == 1);
  REQUIRE(c.router.WaitRoles("n1", 3));
  auto r = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Header(r, "X-Fake-Node") == "n1");
}

TEST_CASE("router: request and response bodies stream through") {
  Cluster c;
  std::string big(3 << 20, 'x');
  auto r = HttpCall(c.router.port(), "PUT", "/v1/secret/data/big", big);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.size() > big.size());  // the echo carries the body back
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  REQUIRE(
      client.Send("POST /v1/secret/data/c HTTP/1.1\r\nHost: r\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
  auto cr = client.Read();
  REQUIRE(cr);
  CHECK(cr->status == 200);
  CHECK(Body(cr).find("\"body\":\"abcdefg\"") != std::string::npos);
  CHECK(Body(cr).find("\"te\":\"chunked\"") != std::string::npos);
  // Pipelined requests come back in order on the same connection.
  REQUIRE(client.Send(
      "GET /v1/p/1 HTTP/1.1\r\nHost: r\r\n\r\nGET /v1/p/2 HTTP/1.1\r\nHost: r\r\n\r\n"));
  auto p1 = client.Read();
  auto p2 = client.Read();
  CHECK(Body(p1).find("/v1/p/1") != std::string::npos);
  CHECK(Body(p2).find("/v1/p/2") != std::string::npos);
  // HEAD: headers only.
  auto h = client.Request("HEAD", "/v1/secret/data/x");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->body.empty());
}

TEST_CASE("router: /_halo/status and /_halo/metrics on the admin listener, 404 on the client one") {
  Cluster c;
  HttpCall(c.router.port(), "PUT", "/v1/secret/data/x", "{}");
  HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
  auto m = HttpCall(c.router.admin_port(), "GET", "/_halo/metrics");
  REQUIRE(m);
  CHECK(m->status == 200);
  CHECK(Header(m, "Content-Type").find("text/plain") == 0);
  CHECK(m->body.find("halo_router_requests_total{class=\"write\",node=\"n1\",code=\"200\"} 1") !=
        std::string::npos);
  CHECK(m->body.find("halo_router_request_duration_seconds_bucket{class=\"read\"") !=
        std::string::npos);
  CHECK(m->body.find("halo_router_failovers_total 0") != std::string::npos);
  CHECK(m->body.find("halo_router_held_writes_total 0") != std::string::npos);
  rapidjson::Document st = c.router.Status();
  REQUIRE(st.IsObject());
  CHECK(std::string(st["active"].GetString()) == "n1");
  CHECK(st["nodes"].Size() == 3);
  CHECK(std::string(st["nodes"][1]["role"].GetString()) == "standby");
  CHECK(st["nodes"][0].HasMember("in_flight"));
  CHECK(HttpCall(c.router.admin_port(), "GET", "/_halo/nope")->status == 404);
  CHECK(HttpCall(c.router.admin_port(), "DELETE", "/_halo/status")->status == 405);
  // The client listener serves none of it, and passes nothing to a node.
  int writes = c.n1.writes(), reads = c.n2.reads() + c.n3.reads();
  for (const char* path : {"/_halo/status", "/_halo/metrics"}) {
    auto r = HttpCall(c.router.port(), "GET", path);
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(Body(r).find("\"nodes\"") == std::string::npos);
    CHECK(Body(r).find("halo_router_") == std::string::npos);
  }
  CHECK(c.n1.writes() == writes);
  CHECK(c.n2.reads() + c.n3.reads() == reads);
}

TEST_CASE("router: the admin token is enforced on the admin listener") {
  Cluster c("", false);
  c.router.set_admin_token("admin-test-token");  // Start() waits for the status with it
  REQUIRE(c.Start(R"("admin":{"address":"127.0.0.1:)" + std::to_string(c.router.admin_port()) +
                  R"(","token":"admin-test-token"})"));
  int admin = c.router.admin_port();
  CHECK(HttpCall(admin, "GET", "/_halo/status")->status == 403);
  CHECK(HttpCall(admin, "GET", "/_halo/metrics", "", {"X-Halo-Admin-Token: nope"})->status == 403);
  CHECK(HttpCall(admin, "GET", "/_halo/metrics", "", {"Authorization: Bearer admin-test-token"})
            ->status == 200);
  CHECK(HttpCall(admin, "GET", "/_halo/status", "", {"X-Halo-Admin-Token: admin-test-token"})
            ->status == 200);
}

TEST_CASE("router: SIGTERM finishes the request in flight, then exits 0") {
  Cluster c;
  c.n1.delay_ms = 400;
  RawClient client;
  REQUIRE(client.Connect(c.router.port()));
  REQUIRE(
      client.Send("PUT /v1/secret/data/slow HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\n\r\n{}"));
  REQUIRE(PollUntil([&] { return c.n1.targets().size() == 1; }, std::chrono::seconds(5)));
  c.router.process().Signal(SIGTERM);
  auto r = client.Read(std::chrono::seconds(5));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Header(r, "Connection") == "close");
  CHECK(client.WaitClosed());
  int st = -1;
  REQUIRE(c.router.process().WaitExit(std::chrono::seconds(10), &st));
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("router: shutdown_grace fails /_halo/health first, serves on with Connection: close") {
  Cluster c(R"("shutdown_grace":"1500ms")");
  auto healthy = HttpCall(c.router.admin_port(), "GET", "/_halo/health");
  REQUIRE(healthy);
  CHECK(healthy->status == 200);
  CHECK(Body(healthy).find("\"healthy\":true") != std::string::npos);
  RawClient keep;  // a keep-alive client from before the signal
  REQUIRE(keep.Connect(c.router.port()));
  auto first = keep.Request("GET", "/v1/secret/data/a");
  REQUIRE(first);
  CHECK(Header(first, "Connection") != "close");
  c.router.process().Signal(SIGTERM);
  REQUIRE(PollUntil(
      [&] {
        auto h = HttpCall(c.router.admin_port(), "GET", "/_halo/health");
        return h && h->status == 503;
      },
      std::chrono::seconds(2)));
  auto h = HttpCall(c.router.admin_port(), "GET", "/_halo/health");
  REQUIRE(h);
  CHECK(Body(h).find("the router is stopping") != std::string::npos);
  // The idle keep-alive connection is closed; new connections are still served, once each.
  CHECK(keep.WaitClosed());
  auto w = HttpCall(c.router.port(), "PUT", "/v1/secret/data/grace", "{}");
  REQUIRE(w);
  CHECK(w->status == 200);
  CHECK(Header(w, "Connection") == "close");
  // An HTTP/2 client accepted in the grace gets its answer, then GOAWAY (NO_ERROR).
  halo::testing::CommandResult h2 = halo::testing::RunCommand(
      {"/usr/bin/nghttp", "-nv",
       "http://127.0.0.1:" + std::to_string(c.router.port()) + "/v1/secret/data/a"});
  CHECK_MESSAGE(h2.output.find(":status: 200") != std::string::npos, h2.output);
  CHECK_MESSAGE(h2.output.find("recv GOAWAY frame") != std::string::npos, h2.output);
  int st = -1;
  REQUIRE(c.router.process().WaitExit(std::chrono::seconds(10), &st));
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("router: /_halo/health asks no admin token and fails with no routable node") {
  Cluster c("", false);
  c.router.set_admin_token("admin-test-token");
  REQUIRE(c.Start(R"("admin":{"address":"127.0.0.1:)" + std::to_string(c.router.admin_port()) +
                  R"(","token":"admin-test-token"})"));
  auto h = HttpCall(c.router.admin_port(), "GET", "/_halo/health");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(Body(h).find("\"active\":\"n1\"") != std::string::npos);
  CHECK(Body(h).find("n1.address") == std::string::npos);  // nothing beyond names and counts
  for (FakeNode* n : {&c.n1, &c.n2, &c.n3}) n->Stop();
  REQUIRE(PollUntil(
      [&] {
        auto r = HttpCall(c.router.admin_port(), "GET", "/_halo/health");
        return r && r->status == 503 && Body(r).find("no node is routable") != std::string::npos;
      },
      std::chrono::seconds(5)));
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<rapidjson::Document> JsonLines(const std::string& text) {
  std::vector<rapidjson::Document> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (!d.HasParseError() && d.IsObject()) out.push_back(std::move(d));
  }
  return out;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "<null>";
}

TEST_CASE("router: access log: a JSON line per client request, no tokens, SIGUSR1 reopens") {
  halo::testing::TempDir dir;
  const std::string path = dir.Join("access.log");
  Cluster c(R"("access_log":{"path":")" + path +
            R"(","flush_interval":"20ms"},)"
            R"("upstream_protocol":"http1",)"  // no h2 attempt first: retries stay 0
            R"("rules":[{"path":"sys/policies/*","class":"write"}])");
  const std::string token = "hvs.CAESIthisisasecrettokenvalue0123";
  auto w = HttpCall(c.router.port(), "PUT", "/v1/secret/data/app", "{\"data\":{}}",
                    {"X-Vault-Token: " + token, "X-Request-Id: client-id-7"});
  REQUIRE(w);
  CHECK(w->status == 200);
  CHECK(Body(w).find("\"request_id\":\"client-id-7\"") != std::string::npos);
  auto r = HttpCall(c.router.port(), "GET", "/v1/secret/data/app?version=2&token=qs-secret-1", "",
                    {"Authorization: Bearer " + token});
  REQUIRE(r);
  // A request id the router makes is for its log only; the client's own passes through.
  CHECK(Body(r).find("\"request_id\":\"\"") != std::string::npos);
  REQUIRE(HttpCall(c.router.port(), "GET", "/v1/auth/token/lookup/" + token));
  REQUIRE(HttpCall(c.router.port(), "GET", "/v1/sys/policies/acl/x"));  // a rule's write
  REQUIRE(HttpCall(c.router.port(), "GET", "/_halo/status")->status == 404);
  REQUIRE(HttpCall(c.router.admin_port(), "GET", "/_halo/health"));  // admin: not logged
  std::vector<rapidjson::Document> lines;
  REQUIRE(PollUntil(
      [&] {
        lines = JsonLines(ReadFile(path));
        return lines.size() >= 5;
      },
      std::chrono::seconds(5)));
  std::string text = ReadFile(path);
  CHECK(text.find(token) == std::string::npos);
  CHECK(text.find("qs-secret-1") == std::string::npos);
  CHECK(text.find("CAESI") == std::string::npos);
  REQUIRE(lines.size() == 5);
  const rapidjson::Document& put = lines[0];
  CHECK(Str(put, "method") == "PUT");
  CHECK(Str(put, "path") == "/v1/secret/data/app");
  CHECK(Str(put, "request_id") == "client-id-7");
  CHECK(Str(put, "class") == "write");
  CHECK(Str(put, "node") == "n1");
  CHECK(put["status"].GetInt() == 200);
  CHECK(put["upstream_status"].GetInt() == 200);
  CHECK(put["request_bytes"].GetInt() == 11);
  CHECK(put["bytes"].GetInt() > 0);
  CHECK(put["retries"].GetInt() == 0);
  CHECK(put["held_ms"].GetDouble() == 0.0);
  CHECK(put["duration_ms"].GetDouble() >= 0.0);
  CHECK(Str(put, "client").find("127.0.0.1:") == 0);
  CHECK(Str(put, "proto") == "HTTP/1.1");
  CHECK(Str(put, "time").size() == 24);
  CHECK(Str(lines[1], "path") == "/v1/secret/data/app?version&token");
  CHECK(Str(lines[1], "class") == "read");
  CHECK(Str(lines[1], "request_id").size() == 36);  // a UUID the router made
  CHECK(Str(lines[2], "path") == "/v1/auth/token/lookup/<redacted>");
  CHECK(Str(lines[3], "class") == "write");
  CHECK(Str(lines[3], "rule") == "sys/policies/*");
  CHECK(Str(lines[4], "path") == "/_halo/status");
  CHECK(lines[4]["status"].GetInt() == 404);
  CHECK(Str(lines[4], "node") == "<null>");
  // logrotate: move the file, SIGUSR1, and the next line lands in a new file.
  std::filesystem::rename(path, path + ".1");
  c.router.process().Signal(SIGUSR1);
  int after = 0;  // requests until one lands in the new file (the reopen is asynchronous)
  REQUIRE(PollUntil(
      [&] {
        ++after;
        HttpCall(c.router.port(), "GET", "/v1/secret/data/after");
        return !JsonLines(ReadFile(path)).empty();
      },
      std::chrono::seconds(5)));
  // Every line in one of the two files, none twice (the last may still be in the buffer).
  CHECK(PollUntil(
      [&] {
        return JsonLines(ReadFile(path + ".1")).size() + JsonLines(ReadFile(path)).size() ==
               static_cast<size_t>(5 + after);
      },
      std::chrono::seconds(5)));
  auto m = HttpCall(c.router.admin_port(), "GET", "/_halo/metrics");
  REQUIRE(m);
  CHECK(m->body.find("halo_router_access_log_lines_total " + std::to_string(5 + after)) !=
        std::string::npos);
  CHECK(m->body.find("halo_router_access_log_dropped_total 0") != std::string::npos);
}

TEST_CASE("router: an access_log path that cannot be opened stops the start with its reason") {
  halo::testing::TempDir dir;
  RouterProcess router;
  std::string cfg =
      RouterConfigJson(router.port(), {{"n1", "127.0.0.1:1"}},
                       R"("access_log":{"path":")" + dir.path() + R"(/missing/access.log"})");
  CHECK_FALSE(router.Start(cfg));
  CHECK_FALSE(router.process().Running());
  CHECK(router.log().find("access_log.path: cannot open") != std::string::npos);
}

TEST_CASE("router: connection limit, header timeout (slowloris) and idle timeout") {
  Cluster c(R"("limits":{"max_connections":2,"header_timeout":"300ms","idle_timeout":"600ms"})");
  RawClient a, b, d;
  REQUIRE(a.Connect(c.router.port()));
  REQUIRE(b.Connect(c.router.port()));
  REQUIRE(d.Connect(c.router.port()));
  CHECK(d.WaitClosed(std::chrono::seconds(2)));  // over the limit: closed at once
  // Slowloris: a head that never ends gets 408 and a closed connection.
  REQUIRE(a.Send("GET /v1/secret/data/x HTTP/1.1\r\nHost: r\r\nX-Slow: "));
  auto r = a.Read(std::chrono::seconds(3));
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(a.WaitClosed());
  // Idle keep-alive connection: closed without a word.
  CHECK(b.WaitClosed(std::chrono::seconds(3)));
  rapidjson::Document st = c.router.Status();
  CHECK(StatusCounter(st, "connections_refused") >= 1);
  CHECK(StatusCounter(st, "client_timeouts") >= 2);
}

}  // namespace
}  // namespace halo::router::testing

namespace halo::router::testing {
namespace {

TEST_CASE("router: several workers share the port; counters add up across them") {
  Cluster c(R"("workers":2)");
  rapidjson::Document st = c.router.Status();
  CHECK(st["workers"].GetInt() == 2);
  const int kConns = 8, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kConns; ++t) {
    threads.emplace_back([&, t] {
      RawClient client;
      if (!client.Connect(c.router.port())) return;
      for (int i = 0; i < kEach; ++i) {
        auto r =
            client.Request(i % 2 ? "GET" : "PUT", "/v1/secret/data/w" + std::to_string(t), "{}");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kConns * kEach);
  st = c.router.Status();
  CHECK(NodeRequests(st, "n1", "write") == kConns * kEach / 2);
  CHECK(NodeRequests(st, "n2", "read") + NodeRequests(st, "n3", "read") == kConns * kEach / 2);
  CHECK(c.n1.writes() == kConns * kEach / 2);
}

TEST_CASE("router: reads with every node down get 503 and Retry-After at once") {
  Cluster c;
  c.n1.Stop();
  c.n2.Stop();
  c.n3.Stop();
  REQUIRE(c.router.WaitRoles("", 0));
  auto r = HttpCall(c.router.port(), "GET", "/v1/secret/data/x");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(Header(r, "Retry-After") == "1");
  CHECK(Body(r).find("{\"errors\":[") == 0);
}

}  // namespace
}  // namespace halo::router::testing
