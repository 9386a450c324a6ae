// ProxyExchange without sockets or a worker: a fake ExchangeContext on a fake clock
// (test/fakes/fake_timer_source.h) and a Downstream that records what the exchange answers.
// Covers the failover hold (deadline, one budget per request, dispatch on a new snapshot)
// and the per-request state being reset whole between keep-alive requests.
#include "router/proxy_exchange.h"

#include <doctest/doctest.h>
#include <event2/event.h>

#include <list>
#include <string>
#include <tuple>

#include "common/http/request_parser.h"
#include "test/fakes/fake_timer_source.h"

namespace halo::router {
namespace {

class RecordingDownstream final : public http::Downstream {
 public:
  void StartResponse(const http::Response& head) override { status = head.status; }
  void ResponseBody(std::string_view data) override { body.append(data); }
  size_t FlushResponse() override { return 0; }
  void FinishResponse(const http::Headers&) override { ++answers; }
  void LocalResponse(int s, std::string_view, std::string_view b, std::string_view name,
                     std::string_view value, bool) override {
    status = s;
    body.assign(b);
    extra_name.assign(name);
    extra_value.assign(value);
    ++answers;
  }
  void AbortResponse() override { ++aborts; }
  void PauseRequestBody() override {}
  void ResumeRequestBody() override {}
  void CloseAfterResponse() override {}
  const std::string& client_ip() const override { return ip; }
  bool secure() const override { return false; }
  const std::string& peer_address() const override { return ip; }
  bool head_request() const override { return false; }
  bool http2() const override { return false; }

  int status = 0;
  int answers = 0;
  int aborts = 0;
  std::string body, extra_name, extra_value;
  std::string ip = "192.0.2.1";
};

class FakeContext final : public ExchangeContext {
 public:
  explicit FakeContext(int64_t hold_ms, std::string admin_token = "") : metrics_(1) {
    base_ = event_base_new();
    upstreams_ = std::make_unique<UpstreamConnector>(base_, &metrics_.counters(), kMaxSlots, 4);
    RouterConfig cfg;
    cfg.failover_hold_ms = hold_ms;
    cfg.admin_token = std::move(admin_token);
    settings_ = std::make_shared<RouteSettings>(cfg, 1);
    // Two standbys, no active: writes are held.
    auto s = std::make_shared<ClusterSnapshot>();
    s->version = 1;
    s->nodes.resize(2);
    for (int i = 0; i < 2; ++i) {
      s->nodes[i].name = "n" + std::to_string(i + 1);
      s->nodes[i].slot = i;
      s->nodes[i].role = NodeRole::kStandby;
      s->nodes[i].up = s->nodes[i].routable = true;
    }
    s->standbys = s->routable = {0, 1};
    snapshot_ = s;
  }
  ~FakeContext() override {
    upstreams_.reset();
    event_base_free(base_);
  }

  const std::shared_ptr<const ClusterSnapshot>& snapshot() const override { return snapshot_; }
  const std::shared_ptr<const RouteSettings>& settings() const override { return settings_; }
  uint64_t local_down_slots() const override { return 0; }
  bool draining() const override { return false; }
  event_base* base() override { return base_; }
  UpstreamConnector& upstreams() override { return *upstreams_; }
  TimerSource& timers() override { return timers_; }
  Rng& rng() override { return rng_; }
  RouterCounters& counters() override { return metrics_.counters(); }
  WorkerMetrics& worker_metrics() override { return *metrics_.worker(0); }
  Metrics& metrics() override { return metrics_; }
  void Hold(ProxyExchange* x) override { x->held_pos = held_.insert(held_.end(), x); }
  void Unhold(ProxyExchange* x) override { held_.erase(x->held_pos); }
  void ReportConnectFailure(int, const std::string&, const std::string&) override {}
  void ReportStale() override { ++stale; }

  FakeTimerSource timers_;
  std::list<ProxyExchange*> held_;
  int stale = 0;

 private:
  event_base* base_;
  Metrics metrics_;
  std::unique_ptr<UpstreamConnector> upstreams_;
  Rng rng_{7};
  std::shared_ptr<const RouteSettings> settings_;
  std::shared_ptr<const ClusterSnapshot> snapshot_;
};

http::Request Parse(const std::string& bytes) {
  http::RequestParser p;
  REQUIRE(p.Feed(bytes).state == http::ParseState::kMessageComplete);
  return p.TakeRequest();
}

http::Request Put() {
  return Parse("PUT /v1/secret/data/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
}

// One exchange on a fake worker; `req` is the request it is working on.
struct Harness {
  explicit Harness(int64_t hold_ms, ProxyExchange::Listener l = ProxyExchange::Listener::kClient,
                   std::string admin_token = "")
      : ctx(hold_ms, std::move(admin_token)), x(&ctx, &down, l) {}
  // A whole PUT, begun and complete.
  void Put() {
    req = ::halo::router::Put();
    REQUIRE(x.Begin(req));
    x.RequestBody("{}");
    x.RequestComplete({});
  }
  FakeContext ctx;
  RecordingDownstream down;
  ProxyExchange x;
  http::Request req;
};

// Requests of class `cls` the router answered itself.
uint64_t LocalCount(FakeContext& ctx, RequestClass cls) {
  return ctx.worker_metrics().cell(static_cast<int>(cls), kLocalSlot).count.load();
}

TEST_CASE("ProxyExchange: a write with no active is held for failover_hold_ms, then 503") {
  Harness h(500);
  auto [ctx, down, x] = std::tie(h.ctx, h.down, h.x);
  h.Put();
  CHECK(x.held());
  CHECK(ctx.held_.size() == 1);
  CHECK(ctx.counters().held_now.load() == 1);

  ctx.timers_.Advance(std::chrono::milliseconds(499));
  CHECK(x.held());
  CHECK(down.answers == 0);

  ctx.timers_.Advance(std::chrono::milliseconds(1));
  CHECK_FALSE(x.held());
  CHECK(ctx.held_.empty());
  CHECK(down.answers == 1);
  CHECK(down.status == 503);
  CHECK(down.extra_name == "Retry-After");
  CHECK(down.body.find("held for 500ms") != std::string::npos);
  CHECK(ctx.counters().held_expired.load() == 1);
  CHECK(ctx.counters().held_now.load() == 0);
}

TEST_CASE("ProxyExchange: one hold budget per request, however often it is re-dispatched") {
  Harness h(300);
  auto [ctx, down, x] = std::tie(h.ctx, h.down, h.x);
  h.Put();
  for (int i = 0; i < 5; ++i) {  // new snapshots that still have no active
    ctx.timers_.Advance(std::chrono::milliseconds(50));
    x.Redispatch();
    CHECK(x.held());
  }
  ctx.timers_.Advance(std::chrono::milliseconds(50));  // 300 ms since Begin
  CHECK(down.status == 503);
  CHECK(ctx.counters().held_writes.load() == 1);
}

TEST_CASE("ProxyExchange: Reset starts the next request from scratch (class, hold, timers)") {
  Harness h(500);
  auto [ctx, down, x] = std::tie(h.ctx, h.down, h.x);
  h.Put();
  CHECK(x.cls() == RequestClass::kWrite);
  x.Abandon();
  x.Reset();
  // Before any Begin, the connection's own answer (a 400 on the next keep-alive request)
  // is counted as a read, not under the previous request's class.
  CHECK(x.cls() == RequestClass::kRead);
  CHECK_FALSE(x.held());
  x.CodecAnswered(400);
  CHECK(LocalCount(ctx, RequestClass::kRead) == 1);
  CHECK(LocalCount(ctx, RequestClass::kWrite) == 0);
  CHECK(ctx.timers_.armed_count() == 0);
}

TEST_CASE("ProxyExchange: /_halo/status is answered locally on the admin listener only") {
  Harness admin(500, ProxyExchange::Listener::kAdmin);
  admin.req = Parse("GET /_halo/status HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(admin.x.Begin(admin.req));
  admin.x.RequestComplete({});
  CHECK(admin.down.status == 200);
  CHECK(admin.down.body.find("\"nodes\"") != std::string::npos);
  // Any other path on the admin listener is the router's 404, never proxied.
  Harness other(500, ProxyExchange::Listener::kAdmin);
  other.req = Parse("GET /v1/secret/data/a HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(other.x.Begin(other.req));
  other.x.RequestComplete({});
  CHECK(other.down.status == 404);
  // On the client listener: 404.
  Harness client(500);
  client.req = Parse("GET /_halo/status HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(client.x.Begin(client.req));
  client.x.RequestComplete({});
  CHECK(client.down.status == 404);
  CHECK(client.down.body.find("\"nodes\"") == std::string::npos);
}

TEST_CASE("ProxyExchange: the admin token is enforced") {
  struct Row {
    const char* header;
    int status;
  };
  const Row rows[] = {
      {"", 403},
      {"X-Halo-Admin-Token: wrong-token\r\n", 403},
      {"X-Halo-Admin-Token: admin-secret\r\n", 200},
      {"Authorization: Bearer admin-secret\r\n", 200},
      {"Authorization: bearer admin-secret\r\n", 200},
      {"Authorization: Basic admin-secret\r\n", 403},
      {"Authorization: Bearer admin-secre\r\n", 403},
  };
  for (const Row& row : rows) {
    CAPTURE(row.header);
    Harness h(500, ProxyExchange::Listener::kAdmin, "admin-secret");
    h.req = Parse(std::string("GET /_halo/metrics HTTP/1.1\r\nHost: x\r\n") + row.header + "\r\n");
    REQUIRE(h.x.Begin(h.req));
    h.x.RequestComplete({});
    CHECK(h.down.status == row.status);
  }
}

}  // namespace
}  // namespace halo::router
