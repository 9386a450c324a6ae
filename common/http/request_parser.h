// RequestParser: a pure, streaming HTTP/1.1 request parser (bytes in, events out, no I/O),
// built on http_parser with nginx-style hard rejects added (see parser_core.h for the list).
//
// Two modes:
//  - streaming: give Callbacks; the head, each piece of body and the end are reported as
//    they are parsed (the router streams bodies this way);
//  - buffered: no callbacks; the body accumulates in request().body and TakeRequest()
//    returns the whole message after kMessageComplete.
//
// Feed() stops right after each complete message, so with pipelining the caller handles one
// request, drops `consumed` bytes and feeds the rest later. A new message starts on the next
// Feed() after kMessageComplete. After kError the parser is dead: answer error().http_status
// with Connection: close and close. Single-threaded; callbacks run inside Feed() and must
// not destroy the parser or call Feed() re-entrantly.
#pragma once

#include <utility>

#include "common/http/message.h"
#include "common/http/message_parser.h"
#include "common/http/parser_options.h"

namespace halo::http {

class RequestParser : public detail::MessageParser<Request> {
 public:
  // Callbacks (from MessageParser<Request>): OnHead(Request&) once the head is complete and
  // valid (method, target, path, query, headers, framing and keep_alive set; body empty;
  // may call Reject(), e.g. 417, or 413 for this route), OnBody(data) per de-chunked piece,
  // OnComplete(Request&) with chunked trailers in request.trailers.
  explicit RequestParser(ParserOptions options = {}, Callbacks* callbacks = nullptr)
      : MessageParser(std::move(options), callbacks) {}

  // Feed(data): kNeedMore (all consumed), kMessageComplete (one request ended after
  // `consumed` bytes) or kError. FeedEof(): kNeedMore when nothing was pending (a clean
  // close), kError when a request was cut short.

  // The request being parsed or just completed.
  Request& request() { return message(); }
  // Buffered mode, after kMessageComplete: moves the request out.
  Request TakeRequest() { return TakeMessage(); }
};

}  // namespace halo::http
