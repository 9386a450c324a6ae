// Fuzz target: the node's request path on arbitrary bytes. The strict HTTP/1 parser, then,
// for every complete request, target splitting, auth, routing and the KV engines of a real
// NodeApi over in-memory storage, as the active node or a standby (chosen by the first
// byte). Checks what clients and the router rely on: every request is answered exactly
// once, with a status in 200..599; every error answer is OpenBao's JSON ({"errors":[...]},
// or its envelope with warnings);
// a request without the root token never changes storage, and is never answered 2xx unless
// it is one of the unauthenticated sys endpoints.
#include <event2/event.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/check.h"
#include "common/http/request_parser.h"
#include "common/http/syntax.h"
#include "common/http/url.h"
#include "common/loop_task_queue.h"
#include "node/node_api.h"
#include "storage/inmem_backend.h"

namespace {

using halo::http::Request;
using halo::http::Response;

constexpr const char kToken[] = "fuzz-root";

// Stands in for the network to the active node: this harness runs one node.
class UnreachableActive : public halo::node::Forwarder {
 public:
  void Forward(const std::string&, Request, DoneFn done) override {
    halo::node::ForwardOutcome o;
    o.kind = halo::node::ForwardOutcome::Kind::kNotSent;
    o.error = "fuzz: no network";
    done(std::move(o));
  }
  void Shutdown() override {}
};

class Collect : public halo::http::RequestParser::Callbacks {
 public:
  void OnHead(Request&) override { body.clear(); }
  void OnBody(std::string_view d) override { body.append(d); }
  void OnComplete(Request& req) override {
    req.body = body;
    complete.push_back(req);
  }
  std::string body;
  std::vector<Request> complete;
};

bool Unauthenticated(const std::string& path) {
  return path == "/v1/sys/health" || path == "/v1/sys/leader" || path == "/v1/sys/seal-status";
}

bool HasToken(const Request& req) {
  auto v = req.headers.Get("x-vault-token");
  auto a = req.headers.Get("authorization");
  // The auth scheme is case-insensitive (RFC 9110 11.1).
  return (v && *v == kToken) ||
         (a && a->size() > 7 && halo::http::EqualsIgnoreCase(a->substr(0, 7), "bearer ") &&
          a->substr(7) == kToken);
}

void CheckAnswer(const Request& req, const Response& r) {
  HALO_CHECK(r.status >= 200 && r.status <= 599, "a final status");
  if (r.status >= 400 && !r.body.empty()) {
    rapidjson::Document d;
    d.Parse(r.body.data(), r.body.size());
    if (req.path == "/v1/sys/health" && !d.HasParseError() && d.IsObject() &&
        d.HasMember("initialized")) {
      return;  // sys/health's chosen codes (standby 429, any ?activecode=) carry its object
    }
    // OpenBao answers errors as {"errors":[...]}, and a KV v2 path outside the engine's API as
    // its response envelope with "warnings" (kv/v2.cc).
    HALO_CHECK(!d.HasParseError() && d.IsObject() &&
                   ((d.HasMember("errors") && d["errors"].IsArray()) ||
                    (d.HasMember("warnings") && d["warnings"].IsArray())),
               "error answers are {\"errors\":[...]} or OpenBao's envelope with warnings");
  }
  if (!HasToken(req) && !Unauthenticated(req.path)) {
    HALO_CHECK(r.status >= 300, "no 2xx without the token");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t role = data[0] % 3;  // 0 active, 1 standby with a known active, 2 standby alone
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  halo::http::ParserOptions opts;
  opts.max_header_bytes = 8192;
  opts.max_body_bytes = 1 << 16;
  Collect collect;
  halo::http::RequestParser parser(opts, &collect);
  while (!in.empty()) {
    halo::http::ParseProgress p = parser.Feed(in);
    in.remove_prefix(p.consumed);
    if (p.state == halo::http::ParseState::kError || p.consumed == 0) break;
  }
  if (collect.complete.empty()) return 0;

  halo::node::NodeConfig config;
  config.root_token = kToken;
  config.api_addr = "http://127.0.0.1:8200";
  config.cluster_addr = "https://127.0.0.1:8201";
  config.storage.type = "inmem";
  config.mounts = {{"secret/", 2}, {"kv/", 1}};
  event_base* base = event_base_new();
  HALO_CHECK(base != nullptr, "event base");
  {
    auto poster = *halo::LoopTaskQueue::Create(base);
    halo::storage::InmemBackend backend;
    UnreachableActive forwarder;
    halo::node::NodeApi::Hooks hooks;
    hooks.may_write = [](uint64_t epoch) { return epoch != 0; };
    hooks.step_down = [] { return false; };
    auto api = std::make_unique<halo::node::NodeApi>(config, &backend, &forwarder, poster, base,
                                                     hooks, halo::RealClock());
    if (role == 0) {
      HALO_CHECK(backend.RecordEpoch(1).ok(), "record epoch");
      api->SetActive(1, 0);
    } else if (role == 1) {
      api->SetLeader({true, "http://127.0.0.1:8300", "", 1});
    }
    for (Request& req : collect.complete) {
      if (!halo::http::SplitTarget(req.method, req.target, &req.path, &req.query).ok()) continue;
      // Blocking queries would park until their wait ends: answer them at once.
      if (req.query.find("wait=") != std::string::npos) continue;
      size_t keys_before = backend.List("").value().size();
      Request copy = req;
      int answers = 0;
      std::optional<Response> got;
      api->Handle(std::move(copy), [&](Response r) {
        ++answers;
        got = std::move(r);
      });
      // Writes finish on the storage thread and come back through the loop.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!got && std::chrono::steady_clock::now() < deadline) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        if (!got) std::this_thread::yield();
      }
      HALO_CHECK(answers == 1, "answered exactly once");
      CheckAnswer(req, *got);
      if (!HasToken(req)) {
        HALO_CHECK(backend.List("").value().size() == keys_before, "no write without the token");
      }
    }
    api.reset();
    poster->Close();
  }
  event_base_free(base);
  return 0;
}
