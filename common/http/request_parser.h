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

#include <string_view>

#include "common/http/message.h"
#include "common/http/parser_core.h"
#include "common/http/parser_options.h"

namespace halo::http {

class RequestParser : private detail::ParserCore::Events {
 public:
  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    // The head is complete and valid (method, target, path, query, headers, framing and
    // keep_alive are set; body is empty). May call RequestParser::Reject().
    virtual void OnHead(Request& request) = 0;
    // A piece of body (de-chunked). `data` is only valid during the call.
    virtual void OnBody(std::string_view data) = 0;
    // The message is complete; request.trailers holds chunked trailers, if any.
    virtual void OnComplete(Request& request) = 0;
  };

  explicit RequestParser(ParserOptions options = {}, Callbacks* callbacks = nullptr);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Consumes a prefix of `data`: kNeedMore (all consumed), kMessageComplete (one request
  // ended after `consumed` bytes) or kError.
  ParseProgress Feed(std::string_view data) { return core_.Feed(data.data(), data.size()); }
  // The peer closed its side. kNeedMore: nothing was pending (a clean close); kError: a
  // request was cut short.
  ParseProgress FeedEof() { return core_.FeedEof(); }

  // From Callbacks::OnHead only: refuse this request (e.g. 417, or 413 for this route).
  void Reject(int http_status, Status status) { core_.Reject(http_status, std::move(status)); }

  const ParseError& error() const { return core_.error(); }
  // No byte of a next message seen (between requests).
  bool idle() const { return core_.idle(); }
  // The current request's head has been parsed (its body may still be arriving).
  bool head_complete() const { return core_.head_complete(); }
  // The request being parsed or just completed.
  Request& request() { return request_; }
  // Buffered mode, after kMessageComplete: moves the request out.
  Request TakeRequest() { return std::move(request_); }

 private:
  // detail::ParserCore::Events
  void OnHead() override;
  void OnBody(std::string_view data) override;
  void OnComplete() override;

  ParserOptions options_;
  Callbacks* callbacks_;
  Request request_;
  detail::ParserCore core_;
};

}  // namespace halo::http
