// ResponseParser: the streaming HTTP/1.1 response parser for the node's forwarding client
// and the router's upstream side. Same modes and contract as RequestParser (see
// request_parser.h). Responses that carry no body whatever their headers say are handled:
// answers to HEAD (call SetRequestMethod("HEAD") before the response arrives), 1xx interim
// responses (skipped; only the final response is reported), 204 and 304. A response
// without Content-Length or chunked framing is close-delimited: it completes on FeedEof().
//
// Errors: error().http_status is 502 for every failure (what a proxy answers its client).
#pragma once

#include <string_view>
#include <utility>

#include "common/http/message.h"
#include "common/http/message_parser.h"
#include "common/http/parser_options.h"

namespace halo::http {

class ResponseParser : public detail::MessageParser<Response> {
 public:
  // Callbacks (from MessageParser<Response>): OnHead(Response&) with status, reason,
  // headers, framing and keep_alive set (body empty), OnBody(data) per de-chunked piece,
  // OnComplete(Response&).
  explicit ResponseParser(ParserOptions options = {}, Callbacks* callbacks = nullptr)
      : MessageParser(std::move(options), callbacks) {}

  // The method of the request the next response answers; "HEAD" means no body. Applies from
  // the next message that starts.
  void SetRequestMethod(std::string_view method) { core().SetSkipBody(method == "HEAD"); }

  // FeedEof(): the upstream closed. kMessageComplete ends a close-delimited body; kNeedMore
  // means nothing was pending; kError means the response was cut short.

  Response& response() { return message(); }
  Response TakeResponse() { return TakeMessage(); }
};

}  // namespace halo::http
