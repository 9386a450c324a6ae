#include "node/node_api.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/http/url.h"
#include "node/auth.h"
#include "storage/inmem_backend.h"

namespace halo::node {
namespace {

class FakeForwarder : public Forwarder {
 public:
  void Forward(const std::string& api_addr, http::Request request, DoneFn done) override {
    calls.push_back({api_addr, std::move(request)});
    done(outcome);
  }
  void Shutdown() override {}

  struct Call {
    std::string api_addr;
    http::Request request;
  };
  std::vector<Call> calls;
  ForwardOutcome outcome;
};

struct Fixture {
  Fixture() {
    config.root_token = "root";
    config.api_addr = "http://127.0.0.1:8210";
    config.cluster_addr = "https://127.0.0.1:8211";
    config.storage.type = "inmem";
    config.mounts = {{"secret/", 2}, {"kv/", 1}};
    base = event_base_new();
    poster = *LoopTaskQueue::Create(base);
    forwarder.outcome.kind = ForwardOutcome::Kind::kResponse;
    forwarder.outcome.response.status = 201;
    forwarder.outcome.response.headers.Add("X-From", "active");
    forwarder.outcome.response.body = "{\"from\":\"active\"}";
    NodeApi::Hooks hooks;
    hooks.may_write = [this](uint64_t epoch) { return may_write && epoch != 0; };
    hooks.step_down = [this] {
      ++step_downs;
      return true;
    };
    api = std::make_unique<NodeApi>(config, &backend, &forwarder, poster, base, hooks, RealClock());
  }
  ~Fixture() {
    api.reset();
    poster->Close();
    event_base_free(base);
  }

  // Sends a request and runs the loop until it is answered (or 5 s pass).
  std::optional<http::Response> Send(
      const std::string& method, const std::string& target,
      std::vector<std::pair<std::string, std::string>> headers = {{"X-Vault-Token", "root"}},
      std::string body = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    REQUIRE(http::SplitTarget(method, target, &req.path, &req.query).ok());
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    req.body = std::move(body);
    std::optional<http::Response> out;
    api->Handle(std::move(req), [&out](http::Response r) { out = std::move(r); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!out && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    return out;
  }

  NodeConfig config;
  storage::InmemBackend backend;
  FakeForwarder forwarder;
  event_base* base;
  std::shared_ptr<LoopTaskQueue> poster;
  bool may_write = true;
  int step_downs = 0;
  std::unique_ptr<NodeApi> api;
};

rapidjson::Document Json(const http::Response& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE_MESSAGE(!d.HasParseError(), r.body);
  return d;
}

const char kWrite[] = R"({"data":{"password":"s3cret"}})";

TEST_CASE("NodeApi: the active node writes and reads KV v2 and v1") {
  Fixture f;
  REQUIRE(f.backend.RecordEpoch(3).ok());
  f.api->SetActive(3, 1);
  auto w = f.Send("PUT", "/v1/secret/data/app", {{"X-Vault-Token", "root"}}, kWrite);
  REQUIRE(w);
  CHECK(w->status == 200);
  CHECK(Json(*w)["data"]["version"].GetInt() == 1);
  CHECK(w->headers.Get("Content-Type") == "application/json");
  auto r = f.Send("GET", "/v1/secret/data/app", {{"Authorization", "Bearer root"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(std::string(Json(*r)["data"]["data"]["password"].GetString()) == "s3cret");

  auto v1 = f.Send("POST", "/v1/kv/a/b", {{"X-Vault-Token", "root"}}, R"({"k":"v"})");
  REQUIRE(v1);
  CHECK(v1->status == 204);
  auto list = f.Send("LIST", "/v1/kv/a");
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(std::string(Json(*list)["data"]["keys"][0].GetString()) == "b");
  auto list2 = f.Send("GET", "/v1/kv/a/?list=true");
  REQUIRE(list2);
  CHECK(list2->status == 200);
  auto empty = f.Send("LIST", "/v1/kv/nothing/");
  REQUIRE(empty);
  CHECK(empty->status == 404);
  CHECK(f.forwarder.calls.empty());
}

TEST_CASE("NodeApi: tokens, unknown paths, methods, bad input") {
  Fixture f;
  f.api->SetActive(1, 1);
  auto none = f.Send("GET", "/v1/secret/data/x", {});
  REQUIRE(none);
  CHECK(none->status == 403);
  CHECK(none->body == "{\"errors\":[\"permission denied\"]}\n");
  auto wrong = f.Send("GET", "/v1/secret/data/x", {{"X-Vault-Token", "nope"}});
  CHECK(wrong->status == 403);
  CHECK(f.Send("GET", "/v1/nowhere/x", {})->status == 403);  // token checked first
  auto unknown = f.Send("GET", "/v1/nowhere/x");
  CHECK(unknown->status == 404);
  CHECK(Json(*unknown)["errors"][0].GetString() ==
        std::string("no handler for route \"nowhere/x\". route entry not found."));
  CHECK(f.Send("GET", "/other")->status == 404);
  CHECK(f.Send("GET", "/v1/kv/a/../../sys/x")->status == 400);
  CHECK(f.Send("PUT", "/v1/kv/./a", {{"X-Vault-Token", "root"}}, "{}")->status == 400);
  CHECK(f.Send("GET", "/v1/kv/a..b/.c")->status == 404);  // dots inside names are fine
  CHECK(f.Send("OPTIONS", "/v1/secret/data/x")->status == 405);
  CHECK(f.Send("POST", "/v1/sys/health")->status == 405);
  CHECK(f.Send("PUT", "/v1/secret/data/x", {{"X-Vault-Token", "root"}}, "{not json")->status ==
        400);
  CHECK(f.Send("GET", "/v1/secret/data/x?list=maybe")->status == 400);
  CHECK(f.Send("GET", "/v1/sys/health?activecode=x")->status == 400);
  auto patch = f.Send("PATCH", "/v1/secret/data/x",
                      {{"X-Vault-Token", "root"}, {"Content-Type", "application/json"}}, kWrite);
  CHECK(patch->status == 415);
}

TEST_CASE("NodeApi: sys endpoints need no token") {
  Fixture f;
  CHECK(f.Send("GET", "/v1/sys/health", {})->status == 429);
  f.api->SetActive(2, 1);
  CHECK(f.Send("GET", "/v1/sys/health", {})->status == 200);
  CHECK(f.Send("HEAD", "/v1/sys/health", {})->body.empty());
  CHECK(f.Send("GET", "/v1/sys/seal-status", {})->status == 200);
  auto leader = f.Send("GET", "/v1/sys/leader", {});
  CHECK(Json(*leader)["is_self"].GetBool());
  CHECK(Json(*leader)["index"].GetUint64() == 2);
}

TEST_CASE("NodeApi: a standby reads locally and forwards writes with the hop marker") {
  Fixture f;
  REQUIRE(f.backend.Put("logical/kv/k", R"({"a":"b"})", 0).ok());
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  auto read = f.Send("GET", "/v1/kv/k");
  REQUIRE(read);
  CHECK(read->status == 200);
  CHECK(f.forwarder.calls.empty());

  auto write = f.Send("PUT", "/v1/secret/data/app?x=1", {{"X-Vault-Token", "root"}}, kWrite);
  REQUIRE(write);
  CHECK(write->status == 201);
  CHECK(write->headers.Get("X-From") == "active");
  CHECK(write->body == "{\"from\":\"active\"}");
  REQUIRE(f.forwarder.calls.size() == 1);
  CHECK(f.forwarder.calls[0].api_addr == "http://127.0.0.1:8220");
  // The keyed hop marker (no cluster_secret here: derived from the root token).
  CHECK(f.forwarder.calls[0].request.headers.Get(kForwardedHeader) == HopMarker("", "root"));
  CHECK(f.forwarder.calls[0].request.target == "/v1/secret/data/app?x=1");
  CHECK(f.forwarder.calls[0].request.body == kWrite);

  f.forwarder.outcome.kind = ForwardOutcome::Kind::kNotSent;
  CHECK(f.Send("DELETE", "/v1/kv/k")->status == 503);
  f.forwarder.outcome.kind = ForwardOutcome::Kind::kUnknown;
  CHECK(f.Send("DELETE", "/v1/kv/k")->status == 502);
}

TEST_CASE("NodeApi: 307 with X-Vault-No-Request-Forwarding or forwarding disabled") {
  Fixture f;
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  auto r = f.Send("PUT", "/v1/secret/data/a%20b?cas=0",
                  {{"X-Vault-Token", "root"}, {kNoForwardHeader, "true"}}, kWrite);
  REQUIRE(r);
  CHECK(r->status == 307);
  CHECK(r->headers.Get("Location") == "http://127.0.0.1:8220/v1/secret/data/a%20b?cas=0");
  CHECK(f.forwarder.calls.empty());
  // Reads are still served locally with the header.
  CHECK(
      f.Send("GET", "/v1/kv/none", {{"X-Vault-Token", "root"}, {kNoForwardHeader, "1"}})->status ==
      404);

  f.config.disable_request_forwarding = true;
  CHECK(f.Send("DELETE", "/v1/kv/x")->status == 307);
  CHECK(f.forwarder.calls.empty());
}

TEST_CASE("NodeApi: 503 with no active node, and for a request forwarded twice") {
  Fixture f;
  auto r = f.Send("PUT", "/v1/kv/x", {{"X-Vault-Token", "root"}}, R"({"a":1})");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(Json(*r)["errors"][0].GetString() == std::string("no active node found"));
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  auto twice =
      f.Send("PUT", "/v1/kv/x",
             {{"X-Vault-Token", "root"}, {kForwardedHeader, HopMarker("", "root")}}, R"({"a":1})");
  CHECK(twice->status == 503);
  CHECK(twice->headers.Get("X-Halo-Not-Executed") == "1");
  CHECK(f.forwarder.calls.empty());
  // A marker that does not match is a client's: the request is forwarded as any other.
  auto forged =
      f.Send("PUT", "/v1/kv/x", {{"X-Vault-Token", "root"}, {kForwardedHeader, "1"}}, R"({"a":1})");
  CHECK(forged->status == 201);
  REQUIRE(f.forwarder.calls.size() == 1);
  CHECK(f.forwarder.calls[0].request.headers.Get(kForwardedHeader) == HopMarker("", "root"));
  f.forwarder.calls.clear();
  // A leader view naming this very node (stale) is not forwarded to.
  f.api->SetLeader({true, f.config.api_addr, "", 5});
  CHECK(f.Send("PUT", "/v1/kv/x", {{"X-Vault-Token", "root"}}, R"({"a":1})")->status == 503);
  CHECK(f.forwarder.calls.empty());
}

TEST_CASE("NodeApi: disable_standby_reads forwards reads too") {
  Fixture f;
  f.config.disable_standby_reads = true;
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  CHECK(f.Send("GET", "/v1/kv/x")->status == 201);
  CHECK(f.forwarder.calls.size() == 1);
}

TEST_CASE("NodeApi: writes need MayWrite and a current storage epoch") {
  Fixture f;
  f.api->SetActive(5, 1);
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 6});  // ignored while active
  f.may_write = false;  // the term ended (self-fence) before on_standby arrived
  auto r = f.Send("PUT", "/v1/kv/x", {{"X-Vault-Token", "root"}}, R"({"a":1})");
  CHECK(r->status == 503);  // treated as a standby: the leader view is itself, so no active
  CHECK(f.forwarder.calls.empty());

  f.may_write = true;
  REQUIRE(f.backend.RecordEpoch(9).ok());  // someone newer wrote: storage refuses epoch 5
  auto stale = f.Send("PUT", "/v1/kv/x", {{"X-Vault-Token", "root"}}, R"({"a":1})");
  CHECK(stale->status == 503);
  CHECK(f.backend.Get("logical/kv/x").status().IsNotFound());
}

TEST_CASE("NodeApi: blocking sys/leader answers on change or after wait") {
  Fixture f;
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  // A different index answers at once.
  auto now = f.Send("GET", "/v1/sys/leader?index=3", {});
  CHECK(Json(*now)["index"].GetUint64() == 4);

  std::optional<http::Response> parked;
  http::Request req;
  req.method = "GET";
  req.target = "/v1/sys/leader?index=4&wait=30s";
  req.path = "/v1/sys/leader";
  req.query = "index=4&wait=30s";
  f.api->Handle(req, [&](http::Response r) { parked = std::move(r); });
  event_base_loop(f.base, EVLOOP_NONBLOCK);
  CHECK_FALSE(parked);
  CHECK(f.api->in_flight() == 1);
  f.api->SetLeader({true, "http://127.0.0.1:8230", "", 7});
  REQUIRE(parked);
  CHECK(Json(*parked)["index"].GetUint64() == 7);
  CHECK(std::string(Json(*parked)["leader_address"].GetString()) == "http://127.0.0.1:8230");
  CHECK(f.api->in_flight() == 0);

  // The holder going away wakes it too, and the index does not go back.
  parked.reset();
  req.query = "index=7&wait=30s";
  f.api->Handle(req, [&](http::Response r) { parked = std::move(r); });
  CHECK_FALSE(parked);
  f.api->SetLeader(LeaderView{});
  REQUIRE(parked);
  CHECK(Json(*parked)["index"].GetUint64() == 7);
  CHECK(std::string(Json(*parked)["leader_address"].GetString()).empty());

  // The wait expires.
  auto timed = f.Send("GET", "/v1/sys/leader?index=7&wait=20ms", {});
  REQUIRE(timed);
  CHECK(timed->status == 200);

  // Shutdown answers parked queries.
  parked.reset();
  f.api->Handle(req, [&](http::Response r) { parked = std::move(r); });
  CHECK_FALSE(parked);
  f.api->BeginShutdown();
  REQUIRE(parked);
  CHECK(f.Send("GET", "/v1/sys/health", {})->status == 503);
}

TEST_CASE("NodeApi: parked sys/leader queries are capped in total and per client") {
  Fixture f;
  f.config.limits.max_leader_waiters = 3;
  f.config.limits.max_leader_waiters_per_client = 2;
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  struct Parked {
    std::optional<http::Response> answer;
    std::function<void()> cancel;
  };
  std::vector<std::unique_ptr<Parked>> all;
  auto park = [&](const std::string& remote_addr) -> Parked& {
    all.push_back(std::make_unique<Parked>());
    Parked* p = all.back().get();
    http::Request req;
    req.method = "GET";
    req.target = "/v1/sys/leader?index=4&wait=30s";
    req.path = "/v1/sys/leader";
    req.query = "index=4&wait=30s";
    req.remote_addr = remote_addr;
    f.api->Handle(
        std::move(req), [p](http::Response r) { p->answer = std::move(r); },
        [p](std::function<void()> cancel) { p->cancel = std::move(cancel); });
    return *p;
  };
  Parked& a1 = park("10.0.0.1:1000");
  CHECK_FALSE(park("10.0.0.1:1001").answer);
  Parked& a3 = park("10.0.0.1:1002");  // a third from one address
  REQUIRE(a3.answer);
  CHECK(a3.answer->status == 429);
  CHECK(a3.answer->headers.Get("Retry-After") == std::optional<std::string_view>("1"));
  CHECK(a3.answer->body.find("\"errors\"") != std::string::npos);
  CHECK_FALSE(park("[::1]:5").answer);
  Parked& b2 = park("10.0.0.2:1");  // over the total
  REQUIRE(b2.answer);
  CHECK(b2.answer->status == 429);
  CHECK(f.api->parked_waiters() == 3);
  CHECK(f.api->in_flight() == 3);
  // A client gone: its cancel frees its slot at once.
  REQUIRE(a1.cancel);
  a1.cancel();
  CHECK(f.api->parked_waiters() == 2);
  CHECK(f.api->in_flight() == 2);
  CHECK_FALSE(park("10.0.0.1:1003").answer);
  f.api->SetLeader({true, "http://127.0.0.1:8230", "", 7});
  CHECK(f.api->parked_waiters() == 0);
  CHECK(f.api->in_flight() == 0);
  for (auto& p : all) CHECK(p->answer);
}

TEST_CASE("NodeApi: an answer that wakes waiters again (a pipelined step-down) is safe") {
  Fixture f;
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  http::Request req;
  req.method = "GET";
  req.target = "/v1/sys/leader?index=4&wait=30s";
  req.path = "/v1/sys/leader";
  req.query = "index=4&wait=30s";
  std::vector<int> answered;
  std::optional<http::Response> step_down;
  // The first waiter's answer runs a step-down at once (re-entering the wake-up); then two
  // more waiters are parked behind it.
  f.api->Handle(req, [&](http::Response) {
    answered.push_back(0);
    http::Request sd;
    sd.method = "PUT";
    sd.target = sd.path = "/v1/sys/step-down";
    sd.headers.Add("X-Vault-Token", "root");
    f.api->Handle(std::move(sd), [&](http::Response r) { step_down = std::move(r); });
  });
  f.api->Handle(req, [&](http::Response) { answered.push_back(1); });
  f.api->Handle(req, [&](http::Response) { answered.push_back(2); });
  CHECK(answered.empty());
  f.api->SetActive(5, 1);  // wakes all three; the step-down inside wakes again
  CHECK(answered == std::vector<int>{0, 1, 2});
  REQUIRE(step_down);
  CHECK(step_down->status == 204);
  CHECK(f.step_downs == 1);
  CHECK(f.api->in_flight() == 0);
}

TEST_CASE("NodeApi: sys/step-down steps down the active, forwards from a standby") {
  Fixture f;
  f.api->SetActive(3, 1);
  CHECK(f.Send("GET", "/v1/sys/step-down")->status == 405);
  CHECK(f.Send("PUT", "/v1/sys/step-down", {})->status == 403);
  auto r = f.Send("PUT", "/v1/sys/step-down");
  CHECK(r->status == 204);
  CHECK(f.step_downs == 1);
  CHECK(f.Send("GET", "/v1/sys/health", {})->status == 429);
  f.api->SetLeader({true, "http://127.0.0.1:8220", "", 4});
  CHECK(f.Send("PUT", "/v1/sys/step-down")->status == 201);  // forwarded
  REQUIRE(f.forwarder.calls.size() == 1);
  CHECK(f.forwarder.calls[0].request.path == "/v1/sys/step-down");
  CHECK(f.step_downs == 1);
}

TEST_CASE("NodeApi: the mount table for CLIs (sys/mounts, sys/internal/ui/mounts)") {
  Fixture f;
  auto ui = f.Send("GET", "/v1/sys/internal/ui/mounts/secret/app/db");
  REQUIRE(ui);
  CHECK(ui->status == 200);
  rapidjson::Document d = Json(*ui);
  CHECK(std::string(d["data"]["path"].GetString()) == "secret/");
  CHECK(std::string(d["data"]["type"].GetString()) == "kv");
  CHECK(std::string(d["data"]["options"]["version"].GetString()) == "2");
  auto v1 = f.Send("GET", "/v1/sys/internal/ui/mounts/kv");
  CHECK(std::string(Json(*v1)["data"]["options"]["version"].GetString()) == "1");
  CHECK(f.Send("GET", "/v1/sys/internal/ui/mounts/nothing/here")->status == 400);
  auto all = f.Send("GET", "/v1/sys/internal/ui/mounts");
  CHECK(Json(*all)["data"]["secret"].HasMember("kv/"));
  auto mounts = f.Send("GET", "/v1/sys/mounts");
  REQUIRE(mounts);
  rapidjson::Document m = Json(*mounts);
  CHECK(m.HasMember("secret/"));
  CHECK(m["data"].HasMember("kv/"));
  CHECK(std::string(m["data"]["secret/"]["uuid"].GetString()) == m["secret/"]["uuid"].GetString());
  CHECK(f.Send("GET", "/v1/sys/mounts", {})->status == 403);
  CHECK(f.Send("POST", "/v1/sys/mounts")->status == 405);
}

TEST_CASE("ClusterIdFor is stable and shaped like a UUID") {
  std::string id = ClusterIdFor("halo-cluster");
  CHECK(id == ClusterIdFor("halo-cluster"));
  CHECK(id != ClusterIdFor("other"));
  CHECK(id.size() == 36);
  CHECK(id[8] == '-');
  CHECK(id[23] == '-');
}

}  // namespace
}  // namespace halo::node
