// Test harness for the KV engines: an engine over a backend with a FakeClock, and helpers
// that run one request and wait (with a deadline) for its response.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <future>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kv/json.h"
#include "kv/v1.h"
#include "kv/v2.h"
#include "storage/backend.h"
#include "storage/inmem_backend.h"
#include "test/fakes/fake_clock.h"

namespace halo::kv::testing {

using Query = std::vector<std::pair<std::string, std::string>>;
using storage::InmemBackend;

inline constexpr const char* kMergePatch = "application/merge-patch+json";

class KvHarness {
 public:
  explicit KvHarness(int version, std::unique_ptr<Backend> backend = nullptr,
                     std::string prefix = "kv/secret/")
      : backend_(backend ? std::move(backend) : std::make_unique<InmemBackend>()) {
    KvEngineOptions o;
    o.backend = backend_.get();
    o.storage_prefix = std::move(prefix);
    o.clock = &clock_;
    engine_ = version == 1 ? NewKvV1Engine(std::move(o)) : NewKvV2Engine(std::move(o));
  }

  http::Response Call(KvOp op, std::string path, std::string body = "", Query query = {},
                      std::string content_type = "application/json") {
    KvRequest req;
    req.op = op;
    req.path = std::move(path);
    req.body = std::move(body);
    req.query = http::QueryParams(std::move(query));
    req.content_type = std::move(content_type);
    req.epoch = epoch;
    return Run(req);
  }

  // Runs `req`, waiting up to 10 s for `done`; checks it is called exactly once.
  http::Response Run(const KvRequest& req) {
    auto promise = std::make_shared<std::promise<http::Response>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    std::future<http::Response> future = promise->get_future();
    engine_->Handle(req, [promise, calls](http::Response r) {
      if (calls->fetch_add(1) == 0) promise->set_value(std::move(r));
    });
    REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    http::Response r = future.get();
    CHECK(calls->load() == 1);
    return r;
  }

  http::Response Get(std::string path, Query q = {}) { return Call(KvOp::kRead, path, "", q); }
  http::Response Put(std::string path, std::string body) { return Call(KvOp::kWrite, path, body); }
  http::Response Patch(std::string path, std::string body, std::string ct = kMergePatch) {
    return Call(KvOp::kPatch, path, body, {}, ct);
  }
  http::Response Delete(std::string path) { return Call(KvOp::kDelete, path); }
  // KV v2: writes versions {"a":1} .. {"a":n} of the secret at `data_path` ("data/<path>").
  void PutVersions(const std::string& data_path, int n) {
    for (int i = 1; i <= n; ++i) {
      REQUIRE(Put(data_path, R"({"data":{"a":)" + std::to_string(i) + "}}").status == 200);
    }
  }
  http::Response List(std::string path, Query q = {}) { return Call(KvOp::kList, path, "", q); }

  SecretsEngine& engine() { return *engine_; }
  Backend& backend() { return *backend_; }
  FakeClock& clock() { return clock_; }

  uint64_t epoch = 1;

 private:
  FakeClock clock_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<SecretsEngine> engine_;
};

// The response body parsed; fails the test when it is not JSON.
inline rapidjson::Document Body(const http::Response& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  REQUIRE_MESSAGE(!d.HasParseError(), "body is not JSON: " << r.body);
  return d;
}

// A JSON value compared with plain C++ values in CHECKs. (rapidjson's own operator== recurses
// forever under C++20's reversed comparison candidates, so tests never use it.)
struct JsonVal {
  const rapidjson::Value* v;
  friend bool operator==(const JsonVal& a, int n) { return a.v->IsInt64() && a.v->GetInt64() == n; }
  friend bool operator==(const JsonVal& a, int64_t n) {
    return a.v->IsInt64() && a.v->GetInt64() == n;
  }
  friend bool operator==(const JsonVal& a, bool b) { return a.v->IsBool() && a.v->GetBool() == b; }
  friend bool operator==(const JsonVal& a, const char* s) {
    return a.v->IsString() && std::string_view(a.v->GetString(), a.v->GetStringLength()) == s;
  }
  friend bool operator==(const JsonVal& a, const std::string& s) { return a == s.c_str(); }
  friend std::ostream& operator<<(std::ostream& o, const JsonVal& a) {
    return o << SortedJson(*a.v);
  }
};
inline JsonVal V(const rapidjson::Value& v) { return JsonVal{&v}; }

// The value as compact JSON with sorted keys, for comparisons.
inline std::string Js(const rapidjson::Value& v) { return SortedJson(v); }

// The "errors" array of an error body, as compact JSON.
inline std::string Errors(const http::Response& r) {
  rapidjson::Document d = Body(r);
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember("errors"));
  return Js(d["errors"]);
}

// Member names of an object, in order.
inline std::vector<std::string> Keys(const rapidjson::Value& v) {
  std::vector<std::string> out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) out.emplace_back(it->name.GetString());
  return out;
}

// Checks the OpenBao success envelope around a response; returns its "data".
inline void CheckEnvelope(const rapidjson::Document& d, int64_t lease_duration = 0) {
  REQUIRE(d.IsObject());
  CHECK(Keys(d) == std::vector<std::string>{"request_id", "lease_id", "renewable", "lease_duration",
                                            "data", "wrap_info", "warnings", "auth"});
  REQUIRE(d["request_id"].IsString());
  std::string id = d["request_id"].GetString();
  CHECK(id.size() == 36);
  CHECK(id[8] == '-');
  CHECK(id[14] == '4');
  CHECK(V(d["lease_id"]) == "");
  CHECK(V(d["renewable"]) == false);
  CHECK(V(d["lease_duration"]) == lease_duration);
  CHECK(d["wrap_info"].IsNull());
  CHECK(d["auth"].IsNull());
}

}  // namespace halo::kv::testing
