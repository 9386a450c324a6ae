// FeedFromEvbuffer: hands what an input evbuffer holds to a streaming parser (RequestParser
// or ResponseParser) one segment at a time, without copying, and drains what it consumed.
// Stops at the first message boundary or error, or when `stop()` turns true between
// segments (a parser callback paused or closed the connection). Callers loop while input is
// left and they want more. Header-only; the loop thread of the evbuffer's owner.
#pragma once

#include <event2/buffer.h>

#include <string_view>

#include "common/http/parser_options.h"

namespace halo::http {

template <typename Parser, typename Stop>
ParseState FeedFromEvbuffer(evbuffer* in, Parser& parser, Stop stop) {
  evbuffer_iovec vec[8];
  int n = evbuffer_peek(in, -1, nullptr, vec, 8);
  if (n > 8) n = 8;
  size_t consumed = 0;
  ParseState state = ParseState::kNeedMore;
  for (int i = 0; i < n; ++i) {
    ParseProgress p =
        parser.Feed(std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len));
    consumed += p.consumed;
    state = p.state;
    if (state != ParseState::kNeedMore || stop()) break;
  }
  evbuffer_drain(in, consumed);
  return state;
}

}  // namespace halo::http
