// Fuzz target: the HTTP/1 request parser must never crash, and must be consistent:
//  - the same bytes give the same messages and the same verdict however they are split
//    (whole vs. pieces chosen by the first input byte), in streaming and buffered modes;
//  - every request it accepts, serialized again, parses back to the same request.
// Input: byte 0 selects the piece sizes and limits; the rest is the connection's bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/http/request_parser.h"
#include "common/http/serializer.h"
#include "test/fuzz/http1_fuzz_support.h"

namespace halo::http {
namespace {

using fuzz::NonFramingFields;

// Streaming callbacks that record what they see and check the event order.
struct Recorder : RequestParser::Callbacks {
  std::string log;
  std::string body;
  bool in_message = false;
  void OnHead(Request& r) override {
    HALO_CHECK(!in_message, "invariant");
    in_message = true;
    body.clear();
    log += "H " + r.method + " " + r.target + "\n";
  }
  void OnBody(std::string_view d) override {
    HALO_CHECK(in_message, "invariant");
    HALO_CHECK(!d.empty(), "invariant");
    body.append(d);
  }
  void OnComplete(Request& r) override {
    HALO_CHECK(in_message, "invariant");
    in_message = false;
    log += "C " + std::to_string(r.headers.size()) + " " + std::to_string(r.trailers.size()) + " " +
           body + "\n";
  }
};

// Feeds `input` in pieces of the given sizes (cycled); returns the event log and verdict.
std::string Run(std::string_view input, const std::vector<size_t>& sizes,
                const ParserOptions& options, std::vector<Request>* buffered) {
  Recorder rec;
  RequestParser streaming(options, &rec);
  RequestParser whole(options);
  std::string pending_s, pending_w;
  std::string verdict;
  bool dead_s = false, dead_w = false;
  size_t pos = 0, k = 0;
  while (pos < input.size()) {
    size_t n = sizes.empty() ? input.size() : sizes[k++ % sizes.size()];
    std::string_view piece = input.substr(pos, n);
    pos += piece.size();
    pending_s.append(piece);
    pending_w.append(piece);
    while (!dead_s && !pending_s.empty()) {
      ParseProgress p = streaming.Feed(pending_s);
      HALO_CHECK(p.consumed <= pending_s.size(), "invariant");
      pending_s.erase(0, p.consumed);
      if (p.state == ParseState::kError) {
        dead_s = true;
        rec.log += "E " + std::to_string(streaming.error().http_status) + "\n";
        HALO_CHECK(streaming.error().http_status >= 400, "invariant");
      } else if (p.state == ParseState::kNeedMore) {
        HALO_CHECK(pending_s.empty(), "invariant");
        break;
      }
    }
    while (!dead_w && !pending_w.empty()) {
      ParseProgress p = whole.Feed(pending_w);
      pending_w.erase(0, p.consumed);
      if (p.state == ParseState::kError) {
        dead_w = true;
        verdict = "E " + std::to_string(whole.error().http_status) + "\n";
      } else if (p.state == ParseState::kMessageComplete) {
        if (buffered) buffered->push_back(whole.TakeRequest());
      } else {
        break;
      }
    }
  }
  if (!dead_s) {
    ParseProgress p = streaming.FeedEof();
    rec.log += p.state == ParseState::kError ? "EOF-E\n" : "EOF\n";
  }
  HALO_CHECK(dead_s == dead_w, "invariant");
  return rec.log;
}

void RoundTrip(const Request& r) {
  std::string wire;
  HALO_CHECK(AppendRequest(&wire, r).ok(), "a parsed request serializes");
  ParserOptions o;
  o.require_host = false;  // an HTTP/1.0 request without Host is re-sent as HTTP/1.1
  o.max_header_bytes = wire.size() + 64;
  o.max_header_count = r.headers.size() + 2;
  RequestParser p(o);
  ParseProgress pr = p.Feed(wire);
  HALO_CHECK(pr.state == ParseState::kMessageComplete, "invariant");
  HALO_CHECK(pr.consumed == wire.size(), "invariant");
  const Request& back = p.request();
  HALO_CHECK(back.method == r.method, "invariant");
  HALO_CHECK(back.target == r.target, "invariant");
  HALO_CHECK(back.path == r.path, "invariant");
  HALO_CHECK(back.query == r.query, "invariant");
  HALO_CHECK(back.body == r.body, "invariant");
  HALO_CHECK(NonFramingFields(back.headers) == NonFramingFields(r.headers), "invariant");
}

int FuzzOne(const uint8_t* data, size_t size) {
  fuzz::ModeInput in;
  if (!fuzz::SplitModeInput(data, size, 1, &in)) return 0;
  fuzz::CheckSplitsAgree<Request>(
      in,
      [&](const std::vector<size_t>& sizes, std::vector<Request>* out) {
        return Run(in.bytes, sizes, in.options, out);
      },
      RoundTrip);
  return 0;
}

}  // namespace
}  // namespace halo::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return halo::http::FuzzOne(data, size);
}
