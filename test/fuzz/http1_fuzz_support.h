// What the two HTTP/1 parser fuzz targets (http1_request_fuzz, http1_response_fuzz) share:
// how the first input byte picks the parser limits and the piece sizes the rest is fed in,
// and a text form of the fields that survive a serialize/parse round trip (framing fields
// dropped). Header-only: each fuzz target links alone with its replay main.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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
