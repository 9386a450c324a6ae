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

#include "common/http/message.h"
#include "common/http/parser_core.h"
#include "common/http/parser_options.h"

namespace halo::http {

class ResponseParser : private detail::ParserCore::Events {
 public:
  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    // Status, reason, headers, framing and keep_alive are set; body is empty.
    virtual void OnHead(Response& response) = 0;
    // A piece of body (de-chunked). `data` is only valid during the call.
    virtual void OnBody(std::string_view data) = 0;
    virtual void OnComplete(Response& response) = 0;
  };

  explicit ResponseParser(ParserOptions options = {}, Callbacks* callbacks = nullptr);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // The method of the request the next response answers; "HEAD" means no body. Applies from
  // the next message that starts.
  void SetRequestMethod(std::string_view method) { core_.SetSkipBody(method == "HEAD"); }

  ParseProgress Feed(std::string_view data) { return core_.Feed(data.data(), data.size()); }
  // The upstream closed. kMessageComplete ends a close-delimited body; kNeedMore means
  // nothing was pending; kError means the response was cut short.
  ParseProgress FeedEof() { return core_.FeedEof(); }

  void Reject(int http_status, Status status) { core_.Reject(http_status, std::move(status)); }
  const ParseError& error() const { return core_.error(); }
  bool idle() const { return core_.idle(); }
  bool head_complete() const { return core_.head_complete(); }
  Response& response() { return response_; }
  Response TakeResponse() { return std::move(response_); }

 private:
  // detail::ParserCore::Events
  void OnHead() override;
  void OnBody(std::string_view data) override;
  void OnComplete() override;

  ParserOptions options_;
  Callbacks* callbacks_;
  Response response_;
  detail::ParserCore core_;
};

}  // namespace halo::http
