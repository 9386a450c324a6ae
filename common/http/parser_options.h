// Options, progress and error types shared by RequestParser and ResponseParser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace halo::http {

struct ParserOptions {
  // Bytes of the head: request/status line, header lines and the final CRLF (leading empty
  // lines count too). Over the limit: 431 (414 if the request line alone is too long).
  size_t max_header_bytes = 16 * 1024;
  // Header fields per message (and trailer fields per message). Over: 431.
  size_t max_header_count = 100;
  // Body bytes after de-chunking. Over: 413 (checked against Content-Length up front).
  uint64_t max_body_bytes = 32ull << 20;
  // One chunk-size line including extensions and CRLF. Over: 400.
  size_t max_chunk_line_bytes = 4096;
  // HTTP/1.1 requests must carry exactly one Host header (400 otherwise).
  bool require_host = true;
  // Request methods accepted besides the ones http_parser knows (CONNECT excluded). The
  // default covers OpenBao's LIST and SCAN. Each must be a token of at most 24 characters.
  std::vector<std::string> extra_methods = {"LIST", "SCAN"};
};

enum class ParseState {
  kNeedMore,         // everything given was consumed; feed more bytes
  kMessageComplete,  // one message ended at `consumed`; the rest is the next message
  kError,            // see error(); the connection must be closed after answering
};

struct ParseProgress {
  size_t consumed = 0;
  ParseState state = ParseState::kNeedMore;
};

// A parse failure: what went wrong, and the status a server should answer with before
// closing the connection: 400 malformed, 413 body too large, 414 request line too long,
// 431 header section too large / too many fields, 501 unsupported method or
// Transfer-Encoding, 505 unsupported HTTP version.
struct ParseError {
  int http_status = 0;
  Status status;
};

}  // namespace halo::http
