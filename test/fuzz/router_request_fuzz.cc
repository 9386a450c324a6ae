// Fuzz target: the router's request path on arbitrary bytes. Parse (strict, streaming) ->
// normalise the target -> classify -> write the upstream head, then check what the router
// relies on: a normalised path is absolute, free of "//", "." and ".." segments and control
// characters; the head it would send a node parses back to the same method and target with
// exactly one framing header. Never crashes, never accepts what it then cannot serialise.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/check.h"
#include "common/http/request_parser.h"
#include "common/http/syntax.h"
#include "router/classifier.h"
#include "router/proxy_headers.h"
#include "router/request_target.h"

namespace {

using halo::router::Classifier;
using halo::router::NormalizedTarget;

const Classifier& Rules() {
  static const Classifier* c = [] {
    std::vector<halo::router::RuleConfig> rules;
    rules.push_back({"sys/*", {}, halo::router::RequestClass::kWrite, std::nullopt});
    rules.push_back({"*/creds/*", {"GET"}, halo::router::RequestClass::kWrite, std::nullopt});
    rules.push_back({"transit/decrypt/*",
                     {"POST"},
                     halo::router::RequestClass::kRead,
                     halo::router::WriteMode::kAuto});
    return new Classifier(rules, halo::router::WriteMode::kForward);
  }();
  return *c;
}

void CheckNormalized(const std::string& p) {
  HALO_CHECK(!p.empty() && p[0] == '/', "normalised path is absolute");
  HALO_CHECK(p.find("//") == std::string::npos, "no empty segments");
  HALO_CHECK(p.find("/./") == std::string::npos && p.find("/../") == std::string::npos,
             "no dot segments");
  HALO_CHECK(p.size() < 2 || p.substr(p.size() - 2) != "/.", "no trailing /.");
  HALO_CHECK(p.size() < 3 || p.substr(p.size() - 3) != "/..", "no trailing /..");
  for (unsigned char c : p) HALO_CHECK(c >= 0x20 && c != 0x7f, "no control characters");
}

class Sink : public halo::http::RequestParser::Callbacks {
 public:
  void OnHead(halo::http::Request& req) override {
    NormalizedTarget t;
    if (!halo::router::NormalizeTarget(req.target, &t)) return;
    CheckNormalized(t.path);
    (void)Rules().Classify(req.method, halo::router::ApiPath(t.path), t.list);
    head.clear();
    halo::router::AppendUpstreamRequestHead(req, "192.0.2.1", false, "router:8200", &head);
    method = req.method;
    target = req.target;
    chunked = req.chunked;
    for (halo::http::Headers::Field f : req.headers) {
      if (f.name.size() > 17 &&
          halo::http::EqualsIgnoreCase(f.name.substr(0, 17), "transfer-encoding")) {
        te_like_name = true;
      }
    }
    length = req.content_length;
    have_head = true;
  }
  void OnBody(std::string_view d) override { body_bytes += d.size(); }
  void OnComplete(halo::http::Request&) override {}

  std::string head, method, target;
  bool have_head = false, chunked = false, te_like_name = false;
  int64_t length = -1;
  size_t body_bytes = 0;
};

class HeadOnly : public halo::http::RequestParser::Callbacks {
 public:
  void OnHead(halo::http::Request& req) override {
    method = req.method;
    target = req.target;
    te = req.headers.Count("transfer-encoding");
    cl = req.headers.Count("content-length");
    done = true;
  }
  void OnBody(std::string_view) override {}
  void OnComplete(halo::http::Request&) override {}
  std::string method, target;
  size_t te = 0, cl = 0;
  bool done = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The target normaliser alone, on the raw bytes.
  NormalizedTarget t;
  if (halo::router::NormalizeTarget(in.substr(0, 4096), &t)) CheckNormalized(t.path);

  halo::http::ParserOptions opts;
  opts.max_header_bytes = 8192;
  opts.max_body_bytes = 1 << 16;

  // 1. The request path fed in two pieces (streaming): must not crash.
  {
    Sink split_sink;
    halo::http::RequestParser parser(opts, &split_sink);
    size_t split = size > 0 ? data[0] % (size + 1) : 0;
    bool dead = false;
    for (std::string_view piece : {in.substr(0, split), in.substr(split)}) {
      while (!dead && !piece.empty()) {
        halo::http::ParseProgress p = parser.Feed(piece);
        piece.remove_prefix(p.consumed);
        if (p.state == halo::http::ParseState::kError) dead = true;
        if (p.state != halo::http::ParseState::kMessageComplete || p.consumed == 0) break;
      }
    }
  }

  // 2. In one piece: whatever head the router accepts, the head it writes for the node must
  // parse back to the same request. Known exception, outside the router: http_parser 2.9.4
  // sometimes takes a field whose name merely starts with "Transfer-Encoding"
  // ("Transfer-Encodingx") for Transfer-Encoding (501), depending on how the bytes are
  // split and on the fields around it (seeds te_name_split, te_name_prefix). Both the router
  // and the node then refuse the request or pass it on unframed; neither reads a body.
  Sink sink;
  halo::http::RequestParser parser(opts, &sink);
  (void)parser.Feed(in);
  if (sink.have_head) {
    HeadOnly back;
    halo::http::ParserOptions o2;
    o2.require_host = false;
    halo::http::RequestParser reparse(o2, &back);
    halo::http::ParseProgress p = reparse.Feed(sink.head);
    if (p.state == halo::http::ParseState::kError && reparse.error().http_status == 501 &&
        sink.te_like_name) {
      return 0;
    }
    HALO_CHECK(p.state != halo::http::ParseState::kError, "upstream head parses");
    HALO_CHECK(back.done, "upstream head complete");
    HALO_CHECK(back.method == sink.method && back.target == sink.target, "same method and target");
    HALO_CHECK(back.te + back.cl <= 1, "at most one framing header");
    HALO_CHECK(!sink.chunked || back.te == 1, "chunked stays chunked");
  }
  return 0;
}
