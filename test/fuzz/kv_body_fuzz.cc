// Fuzz target: the KV engines end to end on untrusted requests. A node with two mounts
// (secret/ KV v2, kv/ KV v1) over a fresh InmemBackend answers a sequence of requests the
// way NodeApi does (http::QueryParams::Parse -> RoutePath -> ClassifyOperation -> engine),
// waiting for each write's done callback. Checked after every request:
//  - done runs exactly once, with a status in 200..599, never NotActive (one epoch only);
//  - a response body is empty or valid JSON, and valid UTF-8 as long as every path and
//    decoded query parameter sent so far was (the engines echo parameter names and paths in
//    warnings and listings without repairing them; Go would print U+FFFD);
//  - a write or patch whose body ParseJsonBody refuses is never acknowledged (>= 400);
//  - a read (GET/LIST/SCAN) leaves storage unchanged;
//  - storage holds only well-formed values: every KV v2 secret record decodes, its live
//    versions' data is a JSON object in canonical (sorted, compact) form, the mount config
//    decodes, every KV v1 value is a canonical JSON object, and no other key exists.
// ParseJsonBody itself is checked on every body: accepted bodies are objects within the
// depth limit, and sorting is idempotent.
//
// Input: requests separated by NUL bytes, three fields each: "<h><path>", "<query>",
// "<body>". Byte h: bits 0-2 the method (GET LIST SCAN POST PUT PATCH DELETE HEAD), bit 3
// the Content-Type (merge-patch or plain JSON), bits 5-7 advance the clock by 2^k hours.
// With bit 4 set the request is not sent: the body is stored raw under "kv2/secret/<path>"
// (bit 3 clear) or "kv1/kv/<path>" (set), so that the engines meet corrupt storage; the
// well-formedness checks are skipped from then on, since the engine serves what it finds.
// A raw body is unescaped first ("\x01" then byte b stands for byte b - 1), so it can hold
// the NULs that binary records are full of.
#include <rapidjson/document.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/url.h"
#include "kv/json.h"
#include "kv/record.h"
#include "kv/request.h"
#include "kv/v1.h"
#include "kv/v2.h"
#include "node/api_route.h"
#include "node/node_config.h"
#include "storage/inmem_backend.h"
#include "test/fakes/fake_clock.h"

namespace {

using halo::http::QueryParams;
using halo::kv::KvRequest;

constexpr std::string_view kV2Prefix = "kv2/secret/";
constexpr std::string_view kV1Prefix = "kv1/kv/";
constexpr int kMaxRequests = 12;
constexpr const char* kMethods[] = {"GET", "LIST",  "SCAN",   "POST",
                                    "PUT", "PATCH", "DELETE", "HEAD"};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "kv_body_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// KV_BODY_FUZZ_TRACE=1 prints every request and response (for looking at a corpus).
bool Trace() {
  static const bool trace = std::getenv("KV_BODY_FUZZ_TRACE") != nullptr;
  return trace;
}

bool ValidJson(std::string_view text, bool check_utf8) {
  rapidjson::Document doc;
  if (check_utf8) {
    doc.Parse<halo::kv::kJsonParseFlags>(text.data(), text.size());
  } else {
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  }
  return !doc.HasParseError();
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i++]);
    if (c < 0x80) continue;
    size_t n;
    uint32_t cp;
    if ((c >> 5) == 6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < n) return false;
    for (size_t k = 0; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i++]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
  }
  return true;
}

// True when `text` is a JSON object printed the way the engines store it.
bool CanonicalObject(std::string_view text) {
  rapidjson::Document doc;
  if (!halo::kv::ParseStoredJson(text, &doc).ok() || !doc.IsObject()) return false;
  return halo::kv::SortedJson(doc) == text;
}

void CheckBodyParser(std::string_view body) {
  halo::Result<rapidjson::Document> doc = halo::kv::ParseJsonBody(body);
  if (!doc.ok()) {
    Check(doc.status().code() == halo::Status::Code::kInvalidArgument,
          "ParseJsonBody fails with kInvalidArgument");
    return;
  }
  Check(doc->IsObject(), "an accepted body is an object");
  Check(halo::kv::JsonDepth(*doc) <= halo::kv::kMaxJsonDepth, "depth limit");
  std::string sorted = halo::kv::SortedJson(*doc);
  Check(CanonicalObject(sorted), "SortedJson is idempotent");
}

using Snapshot = std::map<std::string, std::string>;

Snapshot Dump(halo::storage::Backend& backend) {
  Snapshot s;
  halo::Result<std::vector<std::string>> keys = backend.List("");
  Check(keys.ok(), "inmem List");
  for (const std::string& k : *keys) {
    halo::Result<std::string> v = backend.Get(k);
    Check(v.ok(), "inmem Get of a listed key");
    s[k] = *v;
  }
  return s;
}

void CheckStorage(const Snapshot& s) {
  for (const auto& [key, value] : s) {
    std::string_view k = key;
    if (k == std::string(kV2Prefix) + "config") {
      halo::kv::KvConfig config;
      Check(halo::kv::DecodeConfig(value, &config).ok(), "stored config decodes");
    } else if (k.substr(0, kV2Prefix.size() + 2) == std::string(kV2Prefix) + "s/") {
      halo::kv::KvSecretRecord rec;
      Check(halo::kv::DecodeSecretRecord(value, &rec).ok(), "stored secret decodes");
      for (const halo::kv::KvVersion& v : rec.versions) {
        if (v.destroyed) {
          Check(v.data.empty(), "destroyed versions hold no data");
        } else {
          Check(CanonicalObject(v.data), "version data is a canonical JSON object");
        }
      }
    } else if (k.substr(0, kV1Prefix.size()) == kV1Prefix) {
      Check(CanonicalObject(value), "KV v1 value is a canonical JSON object");
    } else {
      std::fprintf(stderr, "kv_body_fuzz: unexpected key %s\n", key.c_str());
      Check(false, "no keys outside the mounts' prefixes");
    }
  }
}

// Calls `done` exactly once or aborts; the response arrives through the future.
struct Waiter {
  std::atomic<int> calls{0};
  std::promise<halo::http::Response> promise;
};

class Node {
 public:
  Node() {
    halo::kv::KvEngineOptions o2;
    o2.backend = &backend_;
    o2.storage_prefix = std::string(kV2Prefix);
    o2.clock = &clock_;
    v2_ = halo::kv::NewKvV2Engine(o2);
    halo::kv::KvEngineOptions o1 = o2;
    o1.storage_prefix = std::string(kV1Prefix);
    v1_ = halo::kv::NewKvV1Engine(o1);
    mounts_.push_back({"secret/", 2});
    mounts_.push_back({"kv/", 1});
  }

  halo::storage::Backend& backend() { return backend_; }
  halo::FakeClock& clock() { return clock_; }

  // What NodeApi::Dispatch does for a mount request; false when it never reaches an engine.
  // *writes_out: the engine's answer to whether the request writes.
  bool Handle(std::string_view method, std::string_view path, std::string_view query,
              std::string body, std::string_view content_type, halo::http::Response* out,
              halo::kv::KvOp* op_out, bool* writes_out) {
    halo::Result<QueryParams> params = QueryParams::Parse(query);
    if (!params.ok()) return false;
    bool is_list =
        method == "LIST" || (method == "GET" && params->GetBool("list", false).value_or(false));
    halo::node::Route route = halo::node::RoutePath(path, is_list, mounts_);
    if (route.kind != halo::node::RouteKind::kMount) return false;
    halo::http::Response error;
    halo::kv::KvOp op;
    if (!halo::node::ClassifyOperation(method, *params, &op, &error)) {
      Check(error.status >= 400 && error.status < 500, "classification error is 4xx");
      return false;
    }
    KvRequest kv;
    kv.op = op;
    kv.path = route.rel_path;
    kv.query = params->Without({"list", "scan"});
    kv.body = std::move(body);
    kv.content_type = std::string(content_type);
    kv.epoch = 1;
    halo::kv::SecretsEngine* engine = route.mount->kv_version == 2 ? v2_.get() : v1_.get();
    bool writes = engine->Writes(kv);
    auto waiter = std::make_shared<Waiter>();
    std::future<halo::http::Response> result = waiter->promise.get_future();
    engine->Handle(kv, [waiter](halo::http::Response r) {
      Check(waiter->calls.fetch_add(1) == 0, "done runs once");
      waiter->promise.set_value(std::move(r));
    });
    *out = result.get();
    *op_out = op;
    *writes_out = writes;
    return true;
  }

 private:
  // Declared first: destroyed last, after the engines (its thread drains pending writes).
  halo::storage::InmemBackend backend_;
  halo::FakeClock clock_;
  std::vector<halo::node::MountConfig> mounts_;
  std::unique_ptr<halo::kv::SecretsEngine> v2_;
  std::unique_ptr<halo::kv::SecretsEngine> v1_;
};

std::string Unescape(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\x01' && i + 1 < in.size()) {
      out.push_back(static_cast<char>(in[++i] - 1));
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view in) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (size_t i = 0; i <= in.size(); ++i) {
    if (i == in.size() || in[i] == '\0') {
      fields.push_back(in.substr(start, i - start));
      start = i + 1;
    }
  }
  return fields;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> fields =
      Split(std::string_view(reinterpret_cast<const char*>(data), size));
  Node node;
  bool injected = false;
  bool utf8_inputs = true;  // every path and decoded query parameter so far is valid UTF-8
  for (size_t f = 0, n = 0; f < fields.size() && n < kMaxRequests; f += 3, ++n) {
    std::string_view head = fields[f];
    if (head.empty()) continue;
    uint8_t h = static_cast<uint8_t>(head[0]);
    std::string path(head.substr(1));
    std::string_view query = f + 1 < fields.size() ? fields[f + 1] : std::string_view();
    std::string body(f + 2 < fields.size() ? fields[f + 2] : std::string_view());
    if (h >> 5) node.clock().Advance(std::chrono::hours(int64_t{1} << (h >> 5)));

    if (h & 0x10) {
      std::string key = std::string((h & 8) ? kV1Prefix : kV2Prefix) + path;
      if (halo::storage::ValidateKey(key).ok()) {
        Check(node.backend().Put(key, Unescape(body), 1).ok(), "raw put");
        injected = true;
      }
      continue;
    }

    utf8_inputs = utf8_inputs && ValidUtf8(path);
    if (halo::Result<QueryParams> q = QueryParams::Parse(query); q.ok()) {
      for (const auto& [name, value] : q->pairs()) {
        utf8_inputs = utf8_inputs && ValidUtf8(name) && ValidUtf8(value);
      }
    }
    CheckBodyParser(body);
    bool body_ok = halo::kv::ParseJsonBody(body).ok();
    std::string_view content_type = (h & 8) ? "application/merge-patch+json" : "application/json";
    Snapshot before = Dump(node.backend());
    halo::http::Response r;
    halo::kv::KvOp op = halo::kv::KvOp::kRead;
    bool writes = false;
    if (!node.Handle(kMethods[h & 7], "/v1/" + path, query, std::move(body), content_type, &r, &op,
                     &writes)) {
      continue;
    }
    if (Trace()) {
      std::fprintf(stderr, "%s /v1/%s ? %.*s -> %d %s\n", kMethods[h & 7], path.c_str(),
                   static_cast<int>(query.size()), query.data(), r.status, r.body.c_str());
    }
    Check(r.status >= 200 && r.status <= 599, "status in range");
    Check(!halo::kv::IsNotActive(r), "never NotActive with a single epoch");
    if (r.status >= 200 && r.status < 300 && !writes) {
      Check(!r.body.empty() || r.status == 204, "a successful read has a body");
    }
    bool write = op == halo::kv::KvOp::kWrite || op == halo::kv::KvOp::kPatch;
    if (write && !body_ok) Check(r.status >= 400, "an unparsable body is never acknowledged");
    if (!writes) Check(Dump(node.backend()) == before, "reads do not write");
    if (!injected) {
      if (!r.body.empty() && !ValidJson(r.body, utf8_inputs)) {
        std::fprintf(stderr, "kv_body_fuzz: status %d body %s\n", r.status, r.body.c_str());
        Check(false, "response body is valid JSON");
      }
      CheckStorage(Dump(node.backend()));
    }
  }
  return 0;
}
