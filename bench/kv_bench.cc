// KV engine micro-benchmarks: the v2 record codec, request-body canonicalisation, and the
// engine's read and write paths over the in-memory backend.
#include <benchmark/benchmark.h>

#include <future>
#include <memory>
#include <string>

#include "kv/json.h"
#include "kv/record.h"
#include "kv/v2.h"
#include "storage/inmem_backend.h"

namespace halo::kv {
namespace {

std::string SecretJson(int bytes) {
  std::string v(static_cast<size_t>(bytes), 'x');
  return R"({"password":")" + v + R"(","user":"app","port":5432})";
}

KvSecretRecord MakeRecord(int versions, const std::string& data) {
  KvSecretRecord rec;
  rec.custom_metadata = {{"owner", "team-a"}, {"env", "prod"}};
  for (int i = 0; i < versions; ++i) {
    AddVersion(rec, 1'700'000'000'000'000'000 + i, kNoTime, data, 0);
  }
  return rec;
}

void BM_EncodeRecord(benchmark::State& state) {
  std::string data = SecretJson(static_cast<int>(state.range(1)));
  KvSecretRecord rec = MakeRecord(static_cast<int>(state.range(0)), data);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string enc = EncodeSecretRecord(rec);
    bytes = enc.size();
    benchmark::DoNotOptimize(enc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_EncodeRecord)->Args({1, 64})->Args({10, 64})->Args({10, 1024});

void BM_DecodeRecord(benchmark::State& state) {
  std::string data = SecretJson(static_cast<int>(state.range(1)));
  std::string enc = EncodeSecretRecord(MakeRecord(static_cast<int>(state.range(0)), data));
  KvSecretRecord out;
  for (auto _ : state) {
    Status st = DecodeSecretRecord(enc, &out);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * enc.size()));
}
BENCHMARK(BM_DecodeRecord)->Args({1, 64})->Args({10, 64})->Args({10, 1024});

void BM_ParseAndSortBody(benchmark::State& state) {
  std::string body =
      R"({"data":)" + SecretJson(static_cast<int>(state.range(0))) + R"(,"options":{"cas":3}})";
  for (auto _ : state) {
    Result<rapidjson::Document> doc = ParseJsonBody(body);
    std::string sorted = SortedJson((*doc)["data"]);
    benchmark::DoNotOptimize(sorted);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseAndSortBody)->Arg(64)->Arg(1024);

http::Response Call(SecretsEngine& engine, const KvRequest& req) {
  std::promise<http::Response> p;
  std::future<http::Response> f = p.get_future();
  engine.Handle(req, [&p](http::Response r) { p.set_value(std::move(r)); });
  return f.get();
}

// A KV v2 engine over an in-memory backend, and the POST data/app/db both benchmarks send.
struct EngineFixture {
  storage::InmemBackend backend;
  std::unique_ptr<SecretsEngine> engine;
  KvRequest put;

  EngineFixture() {
    KvEngineOptions o;
    o.backend = &backend;
    o.storage_prefix = "kv2/secret/";
    engine = NewKvV2Engine(o);
    put.op = KvOp::kWrite;
    put.path = "data/app/db";
    put.body = R"({"data":)" + SecretJson(64) + "}";
    put.epoch = 1;
  }
};

// GET data/<path>: one backend Get, record decode, response envelope (synchronous path).
void BM_EngineReadData(benchmark::State& state) {
  EngineFixture f;
  for (int i = 0; i < state.range(0); ++i) {
    if (Call(*f.engine, f.put).status != 200) state.SkipWithError("write failed");
  }
  KvRequest get;
  get.op = KvOp::kRead;
  get.path = "data/app/db";
  for (auto _ : state) {
    http::Response r = Call(*f.engine, get);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_EngineReadData)->Arg(1)->Arg(10);

// POST data/<path> end to end through UpdateAsync (includes the backend thread hand-off).
void BM_EngineWriteData(benchmark::State& state) {
  EngineFixture f;
  for (auto _ : state) {
    http::Response r = Call(*f.engine, f.put);
    if (r.status != 200) state.SkipWithError("write failed");
  }
}
BENCHMARK(BM_EngineWriteData);

}  // namespace
}  // namespace halo::kv
