// Router micro-benchmarks: the per-request pure work (target normalisation, classification
// against the shipped OpenBao rule set, the least-outstanding pick, the whole route decision,
// writing the upstream head). Run: make bench BENCH_ARGS=--benchmark_filter=Router
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>

#include "common/http/message.h"
#include "router/access_line.h"
#include "router/classifier.h"
#include "router/proxy_headers.h"
#include "router/request_target.h"
#include "router/route_policy.h"
#include "router/router_config.h"

namespace halo::router {
namespace {

std::vector<RuleConfig> ShippedRules() {
  Result<RouterConfig> cfg = LoadRouterConfig("conf/router.json");
  if (cfg.ok()) return cfg->rules;
  // Fallback when run outside the repository root: the same shape.
  return {{"sys/*", {}, RequestClass::kWrite, std::nullopt},
          {"*/creds/*", {"GET"}, RequestClass::kWrite, std::nullopt},
          {"*/issue/*", {}, RequestClass::kWrite, std::nullopt},
          {"*/sign/*", {}, RequestClass::kWrite, std::nullopt},
          {"auth/*/login*", {}, RequestClass::kWrite, std::nullopt},
          {"auth/token/create*", {}, RequestClass::kWrite, std::nullopt},
          {"auth/token/renew*", {}, RequestClass::kWrite, std::nullopt},
          {"auth/token/revoke*", {}, RequestClass::kWrite, std::nullopt},
          {"transit/encrypt/*", {"POST", "PUT"}, RequestClass::kRead, std::nullopt},
          {"transit/decrypt/*", {"POST", "PUT"}, RequestClass::kRead, std::nullopt}};
}

void BM_RouterNormalizeTarget(benchmark::State& state) {
  const char* targets[] = {"/v1/secret/data/app/config", "/v1//secret/./data/../data/x?version=2",
                           "/v1/secret/metadata/dir/?list=true", "/v1/%73ys/health"};
  NormalizedTarget t;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(NormalizeTarget(targets[i++ & 3], &t));
    benchmark::DoNotOptimize(t.path.data());
  }
}
BENCHMARK(BM_RouterNormalizeTarget);

void BM_RouterClassify(benchmark::State& state) {
  Classifier c(ShippedRules(), WriteMode::kForward);
  struct Req {
    const char* method;
    const char* path;
  } reqs[] = {{"GET", "secret/data/app/config"},  // no rule: method default (scans all)
              {"PUT", "secret/data/app/config"},
              {"GET", "database/creds/readonly"},  // rule 2
              {"POST", "transit/decrypt/key"},     // late rule
              {"GET", "sys/health"}};              // first rule
  size_t i = 0;
  for (auto _ : state) {
    const Req& r = reqs[i++ % 5];
    benchmark::DoNotOptimize(c.Classify(r.method, r.path, false));
  }
}
BENCHMARK(BM_RouterClassify);

ClusterSnapshot FiveNodes() {
  ClusterSnapshot s;
  for (int i = 0; i < 5; ++i) {
    NodeView v;
    v.name = "node" + std::to_string(i);
    v.slot = i;
    v.up = v.routable = true;
    v.role = i == 0 ? NodeRole::kActive : NodeRole::kStandby;
    s.nodes.push_back(v);
    s.routable.push_back(i);
    if (i) s.standbys.push_back(i);
  }
  s.active = 0;
  s.redirect_addr = "http://node0:8200";
  return s;
}

void BM_RouterPickLeastOutstanding(benchmark::State& state) {
  ClusterSnapshot s = FiveNodes();
  std::array<std::atomic<int32_t>, 8> inflight{};
  Rng rng(1);
  uint32_t n = 0;
  for (auto _ : state) {
    int pick = PickLeastOutstanding(
        s.standbys, 0, [&](int i) { return inflight[i].load(std::memory_order_relaxed); }, &rng);
    // Keep the loads moving so ties and winners change.
    inflight[pick].fetch_add(1, std::memory_order_relaxed);
    if ((++n & 7) == 0) inflight[1 + (n >> 3) % 4].fetch_sub(1, std::memory_order_relaxed);
    benchmark::DoNotOptimize(pick);
  }
}
BENCHMARK(BM_RouterPickLeastOutstanding);

void BM_RouterDecideRoute(benchmark::State& state) {
  ClusterSnapshot s = FiveNodes();
  std::array<std::atomic<int32_t>, 8> inflight{};
  Rng rng(1);
  RouteInput in;
  size_t i = 0;
  for (auto _ : state) {
    in.cls = (i++ % 10) == 0 ? RequestClass::kWrite : RequestClass::kRead;  // 90/10
    RouteDecision d = DecideRoute(
        in, s, [&](int n) { return inflight[n].load(std::memory_order_relaxed); }, &rng);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_RouterDecideRoute);

void BM_RouterUpstreamHead(benchmark::State& state) {
  http::Request req;
  req.method = "GET";
  req.target = "/v1/secret/data/app/config";
  req.headers.Add("Host", "vault.example:8200");
  req.headers.Add("User-Agent", "vault-client/1.0");
  req.headers.Add("X-Vault-Token", "hvs.CAESIJ4o0d5e2c1bbc9b0f3b34f1ea23d3ef0e2b0");
  req.headers.Add("Accept", "*/*");
  req.headers.Add("Connection", "keep-alive");
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendUpstreamRequestHead(req, "127.0.0.1", false, "router:8200", &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RouterUpstreamHead);

// One access log line as ProxyExchange writes it (router/access_line.h).
void BM_RouterAccessLine(benchmark::State& state) {
  AccessRecord r;
  r.start_unix_ms = 1796353800123;
  r.client = "127.0.0.1:51234";
  r.request_id = "3f2a9c1e-77b0-4c4e-9a51-0d2f6b1c8e90";
  r.proto = "HTTP/1.1";
  r.method = "GET";
  r.path = "/v1/secret/data/app/config";
  r.query = "version=3";
  r.cls = "read";
  r.node = "node2";
  r.upstream_status = 200;
  r.status = 200;
  r.bytes = 312;
  r.duration_us = 1234;
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendAccessLine(r, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RouterAccessLine);

}  // namespace
}  // namespace halo::router
