// Test helpers: run the request/response parsers over a byte string delivered in pieces, the
// way a socket would, and collect every message (pipelining included).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "common/http/parser_options.h"

namespace halo::http::testing {

struct ParsedRequests {
  std::vector<Request> requests;
  bool error = false;
  int http_status = 0;
  std::string message;
  bool eof_clean = false;  // FeedEof reported nothing pending
};

struct ParsedResponses {
  std::vector<Response> responses;
  bool error = false;
  int http_status = 0;
  std::string message;
};

// Delivers `input` cut at `splits` (offsets, ascending), then EOF when `eof`.
ParsedRequests ParseRequests(std::string_view input, const std::vector<size_t>& splits = {},
                             const ParserOptions& options = {}, bool eof = true);
// Same, one byte per Feed.
ParsedRequests ParseRequestsBytewise(std::string_view input, const ParserOptions& options = {});
// `methods[i]` is the request method answered by the i-th response ("HEAD" matters).
ParsedResponses ParseResponses(std::string_view input, const std::vector<size_t>& splits = {},
                               const std::vector<std::string>& methods = {}, bool eof = true,
                               const ParserOptions& options = {});

// Compact text of what was parsed, to compare runs: "GET /a [h=v,...] body|..." .
std::string Describe(const ParsedRequests& p);
std::string Describe(const ParsedResponses& p);

// Checks (doctest) that cutting `input` at every single offset, and feeding it one byte at a
// time, parses to exactly what the whole input parses to.
void CheckRequestsAtEverySplit(std::string_view input);
void CheckResponsesAtEverySplit(std::string_view input);

}  // namespace halo::http::testing
