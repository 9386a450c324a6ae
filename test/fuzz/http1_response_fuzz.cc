// Fuzz target: the HTTP/1 response parser must never crash and must be consistent: the
// same bytes give the same responses and verdict however they are split, and every
// response it accepts, serialized again, parses back to the same status, headers and body.
// Input: byte 0 selects piece sizes, limits and which responses answer HEAD; the rest is the
// upstream connection's bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/http/response_parser.h"
#include "common/http/serializer.h"
#include "test/fuzz/http1_fuzz_support.h"

namespace halo::http {
namespace {

using fuzz::NonFramingFields;

std::string Describe(const Response& r) {
  return std::to_string(r.status) + " " + (r.keep_alive ? "ka " : "close ") +
         NonFramingFields(r.headers) + "|" + NonFramingFields(r.trailers) + "|" + r.body + "\n";
}

bool IsHead(uint8_t mode, size_t index) { return (mode >> (index % 4)) & 1 && (mode & 0x40); }

std::string Run(std::string_view input, const std::vector<size_t>& sizes, uint8_t mode,
                const ParserOptions& options, std::vector<Response>* out) {
  ResponseParser parser(options);
  std::string log, pending;
  size_t index = 0;
  parser.SetRequestMethod(IsHead(mode, index) ? "HEAD" : "GET");
  size_t pos = 0, k = 0;
  while (pos < input.size()) {
    size_t n = sizes.empty() ? input.size() : sizes[k++ % sizes.size()];
    std::string_view piece = input.substr(pos, n);
    pos += piece.size();
    pending.append(piece);
    while (!pending.empty()) {
      ParseProgress p = parser.Feed(pending);
      HALO_CHECK(p.consumed <= pending.size(), "invariant");
      pending.erase(0, p.consumed);
      if (p.state == ParseState::kError) {
        HALO_CHECK(parser.error().http_status == 502, "invariant");
        return log + "E\n";
      }
      if (p.state == ParseState::kNeedMore) break;
      Response r = parser.TakeResponse();
      log += Describe(r);
      if (out) out->push_back(std::move(r));
      parser.SetRequestMethod(IsHead(mode, ++index) ? "HEAD" : "GET");
    }
  }
  ParseProgress p = parser.FeedEof();
  if (p.state == ParseState::kMessageComplete) {
    Response r = parser.TakeResponse();
    log += Describe(r);
    if (out) out->push_back(std::move(r));
  }
  return log + (p.state == ParseState::kError ? "EOF-E\n" : "EOF\n");
}

void RoundTrip(const Response& r) {
  std::string wire;
  HALO_CHECK(AppendResponse(&wire, r).ok(), "a parsed response serializes");
  ParserOptions o;
  o.max_header_bytes = wire.size() + 64;
  o.max_header_count = r.headers.size() + 2;
  ResponseParser p(o);
  ParseProgress pr = p.Feed(wire);
  HALO_CHECK(pr.state == ParseState::kMessageComplete, "invariant");
  HALO_CHECK(pr.consumed == wire.size(), "invariant");
  HALO_CHECK(p.response().status == r.status, "invariant");
  HALO_CHECK(p.response().body == r.body, "invariant");
  HALO_CHECK(NonFramingFields(p.response().headers) == NonFramingFields(r.headers), "invariant");
}

int FuzzOne(const uint8_t* data, size_t size) {
  fuzz::ModeInput in;
  if (!fuzz::SplitModeInput(data, size, 7, &in)) return 0;
  fuzz::CheckSplitsAgree<Response>(
      in,
      [&](const std::vector<size_t>& sizes, std::vector<Response>* out) {
        return Run(in.bytes, sizes, in.mode, in.options, out);
      },
      RoundTrip);
  return 0;
}

}  // namespace
}  // namespace halo::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return halo::http::FuzzOne(data, size);
}
