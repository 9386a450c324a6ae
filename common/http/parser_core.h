// ParserCore: the engine behind RequestParser and ResponseParser. It wraps Debian's
// http_parser 2.9.4 (built non-strict) and adds what that library lacks:
//  - methods it does not know (LIST, SCAN): the method token is read here, the parser is fed
//    a known stand-in method, and the real name is kept;
//  - strict head syntax (HeadScanner validates every byte before the parser sees it);
//  - strict chunk framing: the parser is paused at every chunk boundary and the framing
//    bytes it consumed (chunk-size line, CRLF after data) are checked;
//  - framing policy: CL+TE, duplicate/invalid CL, unsupported or repeated codings, TE on
//    HTTP/1.0, Host rules, size limits, forbidden trailer fields;
//  - one message per Feed: the parser is paused at message_complete, so the next message
//    starts at a known offset (pipelining) and is parsed by a freshly initialised parser.
// Internal: use RequestParser / ResponseParser. Pure (bytes in, events out), single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <http_parser.h>

#include "common/http/head_scanner.h"
#include "common/http/message.h"
#include "common/http/parser_options.h"

namespace halo::http::detail {

class ParserCore {
 public:
  class Events {
   public:
    virtual ~Events() = default;
    virtual void OnHead() = 0;
    virtual void OnBody(std::string_view data) = 0;
    virtual void OnComplete() = 0;
  };

  // Exactly one of `request` / `response` is non-null: the message object filled for each
  // message (cleared when the next one starts). All pointers must outlive the core.
  ParserCore(const ParserOptions* options, Request* request, Response* response, Events* events);
  ParserCore(const ParserCore&) = delete;
  ParserCore& operator=(const ParserCore&) = delete;

  ParseProgress Feed(const char* data, size_t len);
  ParseProgress FeedEof();
  // From Events::OnHead only: fail the message with this status.
  void Reject(int http_status, Status status);
  // Responses: the next response answers a HEAD request (no body whatever its headers say).
  void SetSkipBody(bool skip) { skip_body_next_ = skip; }

  const ParseError& error() const { return error_; }
  bool idle() const { return phase_ == Phase::kIdle || phase_ == Phase::kComplete; }
  bool head_complete() const { return head_complete_; }

 private:
  enum class Phase { kIdle, kMethod, kHead, kBody, kTrailers, kComplete, kError };
  enum class Pause { kNone, kChunkHeader, kChunkComplete, kMessageComplete };

  static const http_parser_settings& Settings();
  static ParserCore* Self(http_parser* p) { return static_cast<ParserCore*>(p->data); }
  static int CbUrl(http_parser* p, const char* at, size_t len);
  static int CbStatus(http_parser* p, const char* at, size_t len);
  static int CbHeaderField(http_parser* p, const char* at, size_t len);
  static int CbHeaderValue(http_parser* p, const char* at, size_t len);
  static int CbHeadersComplete(http_parser* p);
  static int CbBody(http_parser* p, const char* at, size_t len);
  static int CbChunkHeader(http_parser* p);
  static int CbChunkComplete(http_parser* p);
  static int CbMessageComplete(http_parser* p);

  Message& msg() { return request_ ? static_cast<Message&>(*request_) : *response_; }
  void BeginMessage(size_t leading);
  void ClearMessage();
  size_t ConsumeIdle(const char* data, size_t len);
  size_t ConsumeMethod(const char* data, size_t len);
  size_t ConsumeHead(const char* data, size_t len);
  size_t ConsumeBody(const char* data, size_t len);
  bool StartRequestLine();
  size_t Execute(const char* data, size_t len);
  void FailFromParser();
  void Fail(int http_status, std::string_view message);
  int FailCb(int http_status, std::string_view message);
  void FlushField();
  // What the framing and connection checks need from the header fields, in one pass.
  struct HeadFacts {
    size_t te_fields = 0;
    size_t codings = 0;
    bool only_chunked = true;
    bool te_prefixed = false;  // a name that starts with Transfer-Encoding but is longer
    size_t cl_fields = 0;
    std::string_view cl;
    size_t hosts = 0;
    bool conn_close = false;
    bool conn_keep_alive = false;
  };
  static HeadFacts ScanFields(const Headers& headers);
  int OnHeadersComplete();
  bool CheckFraming(const HeadFacts& facts);
  bool CheckRequestHead(const HeadFacts& facts);
  void ComputeKeepAlive(const HeadFacts& facts);
  void AccumulateFraming(const char* data, size_t n);
  bool CheckChunkLine();
  void MessageDone();

  const ParserOptions* options_;
  Request* request_;
  Response* response_;
  Events* events_;
  http_parser parser_;

  Phase phase_ = Phase::kIdle;
  Pause pause_ = Pause::kNone;
  HeadScanner scanner_;
  ParseError error_;
  size_t leading_bytes_ = 0;  // empty lines before the start line
  size_t head_leading_ = 0;   // ... of the current message
  bool leading_cr_ = false;
  std::string method_;
  std::string name_;  // header field being assembled
  std::string value_;
  bool in_value_ = false;
  bool head_complete_ = false;
  bool chunked_ = false;
  bool in_chunk_line_ = false;  // the next body bytes belong to a chunk-size line
  bool last_chunk_ = false;
  bool interim_ = false;  // a 1xx response, discarded
  bool close_delimited_ = false;
  bool skip_body_next_ = false;
  bool skip_body_ = false;
  uint64_t body_bytes_ = 0;
  uint64_t chunk_size_ = 0;
  const char* body_begin_ = nullptr;  // on_body range within the current Execute call
  const char* body_end_ = nullptr;
  std::string framing_;  // chunk framing bytes consumed since the last check
};

}  // namespace halo::http::detail
