// What the two HTTP/1 parser fuzz targets (http1_request_fuzz, http1_response_fuzz) share:
// how the first input byte picks the parser limits and the piece sizes the rest is fed in,
// the split-versus-whole check, and a text form of the fields that survive a
// serialize/parse round trip (framing fields dropped). Header-only: each fuzz target links
// alone with its replay main.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/http/headers.h"
#include "common/http/parser_options.h"
#include "common/http/syntax.h"

namespace halo::http::fuzz {

// Small limits when the top bit of `mode` is set, so that the limit paths get exercised.
inline ParserOptions OptionsForMode(uint8_t mode) {
  ParserOptions options;
  if (mode & 0x80) {
    options.max_header_bytes = 256;
    options.max_header_count = 8;
    options.max_body_bytes = 64;
    options.max_chunk_line_bytes = 32;
  }
  return options;
}

// 16 piece sizes (cycled by the feeder) from `mode`: all 1 when its low three bits are 0,
// else up to 2^(mode & 7). `salt` keeps the two targets' sequences apart.
inline std::vector<size_t> PieceSizesForMode(uint8_t mode, uint32_t salt) {
  std::vector<size_t> sizes;
  uint32_t seed = mode * 2654435761u + salt;
  for (int i = 0; i < 16; ++i) {
    seed = seed * 1103515245u + 12345u;
    sizes.push_back(1 + (seed >> 16) % ((mode & 0x7) == 0 ? 1 : 1u << (mode & 0x7)));
  }
  return sizes;
}

// A fuzz input taken apart: byte 0 is the mode, which picks the limits and the piece sizes
// (`salt` as for PieceSizesForMode); the rest are the connection's bytes.
struct ModeInput {
  uint8_t mode = 0;
  std::string_view bytes;
  ParserOptions options;
  std::vector<size_t> sizes;
};
// False for an empty input (no mode byte).
inline bool SplitModeInput(const uint8_t* data, size_t size, uint32_t salt, ModeInput* out) {
  if (size < 1) return false;
  out->mode = data[0];
  out->bytes = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
  out->options = OptionsForMode(out->mode);
  out->sizes = PieceSizesForMode(out->mode, salt);
  return true;
}

// The consistency check both targets make: `run(sizes, out)` parses in.bytes in pieces of
// `sizes` (none: whole) and returns its event log, filling `out` when given. The whole and
// the split runs must agree, and every message parsed must survive `round_trip`.
template <class Message, class RunFn, class RoundTripFn>
void CheckSplitsAgree(const ModeInput& in, RunFn run, RoundTripFn round_trip) {
  std::vector<Message> messages;
  const std::string whole = run(std::vector<size_t>{}, &messages);
  const std::string split = run(in.sizes, nullptr);
  HALO_CHECK(whole == split, "the same messages and verdict however the bytes are split");
  for (const Message& m : messages) round_trip(m);
}

// "name:value\n" per field, without Content-Length and Transfer-Encoding (the serializer
// writes its own framing).
inline std::string NonFramingFields(const Headers& h) {
  std::string s;
  for (Headers::Field f : h) {
    if (EqualsIgnoreCase(f.name, "Content-Length") ||
        EqualsIgnoreCase(f.name, "Transfer-Encoding")) {
      continue;
    }
    s.append(f.name).append(":").append(f.value).append("\n");
  }
  return s;
}

}  // namespace halo::http::fuzz
