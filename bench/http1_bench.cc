// HTTP/1 codec micro-benchmarks: the strict parser wrapper against the raw http_parser it
// wraps (the cost of the hardening layer), pipelined and chunked parsing, serialization.
//   make bench BENCH_ARGS=--benchmark_filter=Http1
#include <benchmark/benchmark.h>
#include <http_parser.h>

#include <string>

#include "common/http/request_parser.h"
#include "common/http/response_parser.h"
#include "common/http/serializer.h"

namespace {

using namespace halo::http;

// What an OpenBao CLI/SDK read looks like on the wire.
const std::string kGet =
    "GET /v1/secret/data/app/config?version=3 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8200\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "X-Vault-Request: true\r\n"
    "X-Vault-Token: hvs.CAESIJ8xQ2tY9f3nL0p4Zk1mW7rA5sB6cD8eF0gH2iJ4kL6m\r\n"
    "Accept-Encoding: gzip\r\n"
    "\r\n";

std::string PutJson() {
  std::string body = "{\"data\":{";
  for (int i = 0; i < 20; ++i) {
    body += (i ? "," : "") + std::string("\"key") + std::to_string(i) + "\":\"" +
            std::string(40, 'v') + "\"";
  }
  body += "}}";
  return "PUT /v1/secret/data/app/config HTTP/1.1\r\nHost: 127.0.0.1:8200\r\n"
         "X-Vault-Token: hvs.CAESIJ8xQ2tY9f3nL0p4Zk1mW7rA5sB6cD8eF0gH2iJ4kL6m\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

void ParseAll(RequestParser& parser, std::string_view in, benchmark::State& state) {
  while (!in.empty()) {
    ParseProgress p = parser.Feed(in);
    if (p.state == ParseState::kError) state.SkipWithError("parse error");
    in.remove_prefix(p.consumed);
    if (p.state == ParseState::kMessageComplete) benchmark::DoNotOptimize(parser.TakeRequest());
  }
}

void BM_Http1ParseGet(benchmark::State& state) {
  RequestParser parser;
  for (auto _ : state) ParseAll(parser, kGet, state);
  state.SetBytesProcessed(state.iterations() * kGet.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Http1ParseGet);

// The library alone, same bytes, no copying out: the floor under the wrapper.
int Noop(http_parser*) { return 0; }
int NoopData(http_parser*, const char*, size_t) { return 0; }
void BM_Http1RawHttpParserGet(benchmark::State& state) {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_url = s.on_header_field = s.on_header_value = s.on_body = NoopData;
  s.on_headers_complete = s.on_message_complete = Noop;
  http_parser p;
  for (auto _ : state) {
    http_parser_init(&p, HTTP_REQUEST);
    benchmark::DoNotOptimize(http_parser_execute(&p, &s, kGet.data(), kGet.size()));
  }
  state.SetBytesProcessed(state.iterations() * kGet.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Http1RawHttpParserGet);

void BM_Http1ParsePutJson(benchmark::State& state) {
  const std::string put = PutJson();
  RequestParser parser;
  for (auto _ : state) ParseAll(parser, put, state);
  state.SetBytesProcessed(state.iterations() * put.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Http1ParsePutJson);

void BM_Http1ParsePipelined16(benchmark::State& state) {
  std::string in;
  for (int i = 0; i < 16; ++i) {
    in += (i % 2 ? "LIST /v1/secret/metadata/dir" : "GET /v1/secret/data/k") + std::to_string(i) +
          " HTTP/1.1\r\nHost: h\r\nX-Vault-Token: t\r\n\r\n";
  }
  RequestParser parser;
  for (auto _ : state) ParseAll(parser, in, state);
  state.SetBytesProcessed(state.iterations() * in.size());
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_Http1ParsePipelined16);

void BM_Http1ParseChunkedResponse(benchmark::State& state) {
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) AppendChunk(&in, std::string(512, 'x'));
  (void)AppendLastChunk(&in);
  ResponseParser parser;
  for (auto _ : state) {
    std::string_view rest = in;
    while (!rest.empty()) {
      ParseProgress p = parser.Feed(rest);
      if (p.state == ParseState::kError) state.SkipWithError("parse error");
      rest.remove_prefix(p.consumed);
    }
    benchmark::DoNotOptimize(parser.TakeResponse());
  }
  state.SetBytesProcessed(state.iterations() * in.size());
}
BENCHMARK(BM_Http1ParseChunkedResponse);

void BM_Http1SerializeResponse(benchmark::State& state) {
  Response r;
  r.status = 200;
  r.headers.Add("Content-Type", "application/json");
  r.headers.Add("Cache-Control", "no-store");
  r.body = std::string(300, 'j');
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(AppendResponse(&out, r));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Http1SerializeResponse);

void BM_Http1SerializeRequestHead(benchmark::State& state) {
  Headers h{{"Host", "127.0.0.1:8200"},
            {"X-Vault-Token", "hvs.CAESIJ8xQ2tY9f3nL0p4Zk1mW7rA5sB6cD8eF0gH2iJ4kL6m"},
            {"X-Halo-Forwarded", "1"},
            {"Content-Length", "123"}};
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(AppendRequestHead(&out, "PUT", "/v1/secret/data/app", h));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Http1SerializeRequestHead);

}  // namespace
