#include "common/http/parser_core.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "common/http/syntax.h"
#include "common/http/url.h"

namespace halo::http::detail {
namespace {

constexpr size_t kMaxMethodLength = 24;
// What http_parser is fed in place of an extra method (LIST, SCAN...). For requests the
// library only treats CONNECT specially, so any other known method parses identically.
constexpr std::string_view kStandInMethod = "POST";

constexpr std::array<std::string_view, 34> kKnownMethods = {
#define HALO_HTTP_METHOD(num, name, string) #string,
    HTTP_METHOD_MAP(HALO_HTTP_METHOD)
#undef HALO_HTTP_METHOD
};

// The bytes fed to http_parser for `method`, or empty if it is not accepted.
std::string_view ParserMethodFor(std::string_view method, const ParserOptions& options) {
  if (method == "CONNECT") return {};
  for (std::string_view known : kKnownMethods) {
    if (known == method) return known;
  }
  for (const std::string& extra : options.extra_methods) {
    if (extra == method) return kStandInMethod;
  }
  return {};
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status StatusFor(int http_status, std::string_view message) {
  if (http_status == 413 || http_status == 414 || http_status == 431) {
    return Status::TooLarge(message);
  }
  return Status::InvalidArgument(message);
}

}  // namespace

const http_parser_settings& ParserCore::Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_url = CbUrl;
    s.on_status = CbStatus;
    s.on_header_field = CbHeaderField;
    s.on_header_value = CbHeaderValue;
    s.on_headers_complete = CbHeadersComplete;
    s.on_body = CbBody;
    s.on_chunk_header = CbChunkHeader;
    s.on_chunk_complete = CbChunkComplete;
    s.on_message_complete = CbMessageComplete;
    return s;
  }();
  return settings;
}

ParserCore::ParserCore(const ParserOptions* options, Request* request, Response* response,
                       Events* events)
    : options_(options), request_(request), response_(response), events_(events) {
  http_parser_init(&parser_, request_ ? HTTP_REQUEST : HTTP_RESPONSE);
  parser_.data = this;
}

// ---- feeding -------------------------------------------------------------------------------

ParseProgress ParserCore::Feed(const char* data, size_t len) {
  if (phase_ == Phase::kError) return {0, ParseState::kError};
  if (phase_ == Phase::kComplete) phase_ = Phase::kIdle;
  size_t pos = 0;
  while (pos < len) {
    switch (phase_) {
      case Phase::kIdle:
        pos += ConsumeIdle(data + pos, len - pos);
        break;
      case Phase::kMethod:
        pos += ConsumeMethod(data + pos, len - pos);
        break;
      case Phase::kHead:
      case Phase::kTrailers:
        pos += ConsumeHead(data + pos, len - pos);
        break;
      case Phase::kBody:
        pos += ConsumeBody(data + pos, len - pos);
        break;
      case Phase::kComplete:
      case Phase::kError:
        break;
    }
    if (phase_ == Phase::kComplete) return {pos, ParseState::kMessageComplete};
    if (phase_ == Phase::kError) return {pos, ParseState::kError};
  }
  return {pos, ParseState::kNeedMore};
}

ParseProgress ParserCore::FeedEof() {
  if (phase_ == Phase::kError) return {0, ParseState::kError};
  if (phase_ == Phase::kIdle || phase_ == Phase::kComplete) return {0, ParseState::kNeedMore};
  if (phase_ == Phase::kBody && close_delimited_) {
    Execute(nullptr, 0);
    if (phase_ == Phase::kError) return {0, ParseState::kError};
    if (pause_ == Pause::kMessageComplete) {
      MessageDone();
      if (phase_ == Phase::kComplete) return {0, ParseState::kMessageComplete};
      return {0, phase_ == Phase::kError ? ParseState::kError : ParseState::kNeedMore};
    }
  }
  Fail(400, "connection closed before the message was complete");
  return {0, ParseState::kError};
}

void ParserCore::Reject(int http_status, Status status) {
  if (phase_ == Phase::kError) return;
  error_.http_status = response_ ? 502 : http_status;
  error_.status = std::move(status);
  phase_ = Phase::kError;
}

void ParserCore::ClearMessage() {
  Message& m = msg();
  m.version_major = 1;
  m.version_minor = 1;
  m.headers.Clear();
  m.trailers.Clear();
  m.body.clear();
  m.content_length = -1;
  m.chunked = false;
  m.keep_alive = true;
  if (request_) {
    request_->method.clear();
    request_->target.clear();
    request_->path.clear();
    request_->query.clear();
  } else {
    response_->status = 0;
    response_->reason.clear();
  }
}

void ParserCore::BeginMessage(size_t leading) {
  ClearMessage();
  head_leading_ = leading;
  http_parser_init(&parser_, request_ ? HTTP_REQUEST : HTTP_RESPONSE);
  parser_.data = this;
  pause_ = Pause::kNone;
  method_.clear();
  name_.clear();
  value_.clear();
  in_value_ = false;
  head_complete_ = false;
  chunked_ = false;
  in_chunk_line_ = false;
  last_chunk_ = false;
  interim_ = false;
  close_delimited_ = false;
  skip_body_ = skip_body_next_;
  body_bytes_ = 0;
  chunk_size_ = 0;
  framing_.clear();
  if (request_) {
    phase_ = Phase::kMethod;
  } else {
    scanner_.Reset(HeadScanner::Start::kStatusLine, options_->max_header_bytes,
                   options_->max_header_count, leading);
    phase_ = Phase::kHead;
  }
}

size_t ParserCore::ConsumeIdle(const char* data, size_t len) {
  // RFC 9112 2.2: ignore empty lines (CRLF) before the start line. Bare LF is refused.
  for (size_t i = 0; i < len; ++i) {
    char c = data[i];
    if (leading_cr_) {
      if (c != '\n') {
        Fail(400, "bare CR before start line");
        return i;
      }
      leading_cr_ = false;
    } else if (c == '\r') {
      leading_cr_ = true;
    } else if (c == '\n') {
      Fail(400, "bare LF before start line");
      return i;
    } else {
      size_t leading = leading_bytes_;
      leading_bytes_ = 0;
      BeginMessage(leading);
      return i;
    }
    if (++leading_bytes_ > options_->max_header_bytes) {
      Fail(400, "too many empty lines before start line");
      return i;
    }
  }
  return len;
}

size_t ParserCore::ConsumeMethod(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (IsTokenChar(c)) {
      if (method_.size() >= kMaxMethodLength) {
        Fail(501, "method not implemented");
        return i;
      }
      method_.push_back(static_cast<char>(c));
      continue;
    }
    if (c == ' ' && !method_.empty()) {
      StartRequestLine();
      return i;  // the SP is scanned as part of the request line
    }
    Fail(400, "invalid request method");
    return i;
  }
  return len;
}

bool ParserCore::StartRequestLine() {
  std::string_view fed = ParserMethodFor(method_, *options_);
  if (fed.empty()) {
    Fail(501, "method not implemented: " + method_);
    return false;
  }
  request_->method = method_;
  scanner_.Reset(HeadScanner::Start::kRequestLineAfterMethod, options_->max_header_bytes,
                 options_->max_header_count, head_leading_ + method_.size());
  phase_ = Phase::kHead;
  size_t n = Execute(fed.data(), fed.size());
  if (phase_ == Phase::kError) return false;
  if (n != fed.size()) {
    Fail(400, "invalid request method");
    return false;
  }
  return true;
}

size_t ParserCore::ConsumeHead(const char* data, size_t len) {
  size_t k = scanner_.Scan(data, len);
  // The valid prefix goes to the parser even when the scanner stopped at a bad byte, so the
  // error at the lowest offset wins whichever layer finds it: the verdict must not depend on
  // how the bytes were split into reads.
  size_t n = k == 0 ? 0 : Execute(data, k);  // (a zero-length execute would mean EOF)
  if (phase_ == Phase::kError) return n;
  if (scanner_.failed()) {
    Fail(scanner_.error_status(), scanner_.error_message());
    return k;
  }
  if (k == 0) return 0;
  if (pause_ == Pause::kMessageComplete) {
    MessageDone();
    return n;
  }
  if (n != k || (scanner_.done() && phase_ != Phase::kBody)) {
    Fail(400, "malformed message head");
  }
  return n;
}

size_t ParserCore::ConsumeBody(const char* data, size_t len) {
  body_begin_ = body_end_ = nullptr;
  if (chunked_ && in_chunk_line_) {
    // Feed a chunk-size line no further than one byte past its limit, so that the length
    // check below fires at the same byte however the input was split.
    len = std::min(len, options_->max_chunk_line_bytes + 1 - framing_.size());
  }
  size_t n = Execute(data, len);
  if (phase_ == Phase::kError) return n;
  if (chunked_) {
    AccumulateFraming(data, n);
    if (pause_ == Pause::kChunkHeader) {
      in_chunk_line_ = false;
      if (!CheckChunkLine()) return n;
      if (last_chunk_) {
        scanner_.Reset(HeadScanner::Start::kFieldLines, options_->max_header_bytes,
                       options_->max_header_count, 0);
        phase_ = Phase::kTrailers;
      }
    } else if (pause_ == Pause::kChunkComplete) {
      if (framing_ != "\r\n") {
        Fail(400, "chunk data not followed by CRLF");
        return n;
      }
      framing_.clear();
      in_chunk_line_ = true;
    } else if (framing_.size() > options_->max_chunk_line_bytes) {
      Fail(400, "chunk-size line too long");
    }
    return n;
  }
  if (pause_ == Pause::kMessageComplete) MessageDone();
  return n;
}

size_t ParserCore::Execute(const char* data, size_t len) {
  pause_ = Pause::kNone;
  size_t n = http_parser_execute(&parser_, &Settings(), data, len);
  enum http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) {
    http_parser_pause(&parser_, 0);
  } else if (err != HPE_OK) {
    FailFromParser();
  }
  return n;
}

void ParserCore::FailFromParser() {
  if (phase_ == Phase::kError) return;  // a callback already said why
  enum http_errno err = HTTP_PARSER_ERRNO(&parser_);
  switch (err) {
    case HPE_HEADER_OVERFLOW:
      Fail(431, "header section too large");
      return;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      FlushField();
      if (msg().headers.Has("Transfer-Encoding")) {
        Fail(400, "Content-Length with Transfer-Encoding");
      } else {
        Fail(400, "duplicate Content-Length");
      }
      return;
    case HPE_INVALID_CONTENT_LENGTH:
      Fail(400, "invalid Content-Length");
      return;
    case HPE_INVALID_CHUNK_SIZE:
      Fail(400, "invalid chunk size");
      return;
    case HPE_INVALID_TRANSFER_ENCODING:
      Fail(501, "unsupported Transfer-Encoding");
      return;
    default:
      Fail(400, http_errno_description(err));
  }
}

void ParserCore::Fail(int http_status, std::string_view message) {
  if (phase_ == Phase::kError) return;
  error_.http_status = response_ ? 502 : http_status;
  error_.status = StatusFor(http_status, message);
  phase_ = Phase::kError;
}

int ParserCore::FailCb(int http_status, std::string_view message) {
  Fail(http_status, message);
  return -1;
}

// ---- http_parser callbacks -----------------------------------------------------------------

int ParserCore::CbUrl(http_parser* p, const char* at, size_t len) {
  Self(p)->request_->target.append(at, len);
  return 0;
}

int ParserCore::CbStatus(http_parser* p, const char* at, size_t len) {
  Self(p)->response_->reason.append(at, len);
  return 0;
}

int ParserCore::CbHeaderField(http_parser* p, const char* at, size_t len) {
  ParserCore* self = Self(p);
  if (self->in_value_) self->FlushField();
  self->name_.append(at, len);
  return 0;
}

int ParserCore::CbHeaderValue(http_parser* p, const char* at, size_t len) {
  ParserCore* self = Self(p);
  self->in_value_ = true;
  self->value_.append(at, len);
  return 0;
}

void ParserCore::FlushField() {
  if (name_.empty()) return;
  Headers& target = phase_ == Phase::kTrailers ? msg().trailers : msg().headers;
  target.Add(name_, TrimOws(value_));
  name_.clear();
  value_.clear();
  in_value_ = false;
}

int ParserCore::CbHeadersComplete(http_parser* p) { return Self(p)->OnHeadersComplete(); }

int ParserCore::CbBody(http_parser* p, const char* at, size_t len) {
  ParserCore* self = Self(p);
  self->body_bytes_ += len;
  if (self->body_bytes_ > self->options_->max_body_bytes) {
    return self->FailCb(413, "body too large");
  }
  if (!self->body_begin_) self->body_begin_ = at;
  self->body_end_ = at + len;
  self->events_->OnBody(std::string_view(at, len));
  return self->phase_ == Phase::kError ? -1 : 0;
}

int ParserCore::CbChunkHeader(http_parser* p) {
  ParserCore* self = Self(p);
  self->chunk_size_ = p->content_length;
  if (self->chunk_size_ > self->options_->max_body_bytes - self->body_bytes_) {
    return self->FailCb(413, "body too large");
  }
  self->last_chunk_ = self->chunk_size_ == 0;
  self->pause_ = Pause::kChunkHeader;
  http_parser_pause(p, 1);
  return 0;
}

int ParserCore::CbChunkComplete(http_parser* p) {
  ParserCore* self = Self(p);
  if (self->last_chunk_) return 0;  // after the trailer section; nothing to check
  self->pause_ = Pause::kChunkComplete;
  http_parser_pause(p, 1);
  return 0;
}

int ParserCore::CbMessageComplete(http_parser* p) {
  ParserCore* self = Self(p);
  self->FlushField();
  self->pause_ = Pause::kMessageComplete;
  http_parser_pause(p, 1);
  return 0;
}

// ---- policy checks -------------------------------------------------------------------------

int ParserCore::OnHeadersComplete() {
  FlushField();
  Message& m = msg();
  m.version_major = parser_.http_major;
  m.version_minor = parser_.http_minor;
  if (m.version_major != scanner_.version_major() || m.version_minor != scanner_.version_minor()) {
    return FailCb(400, "invalid HTTP version");
  }
  HeadFacts facts = ScanFields(m.headers);
  if (!CheckFraming(facts)) return -1;
  if (request_ && !CheckRequestHead(facts)) return -1;
  bool skip = false;
  if (response_) {
    response_->status = parser_.status_code;
    int s = response_->status;
    if (s == 101) return FailCb(400, "unexpected protocol upgrade");
    interim_ = s >= 100 && s < 200;
    skip = interim_ || s == 204 || s == 304 || skip_body_;
    if (skip && interim_) {
      // An interim response carries no body; the final response follows.
      return 1;
    }
    close_delimited_ = !skip && !chunked_ && m.content_length < 0;
  }
  ComputeKeepAlive(facts);
  head_complete_ = true;
  phase_ = Phase::kBody;
  if (m.content_length > 0 && !skip) {
    if (static_cast<uint64_t>(m.content_length) > options_->max_body_bytes) {
      return FailCb(413, "body too large");
    }
  }
  events_->OnHead();
  if (phase_ == Phase::kError) return -1;
  return skip ? 1 : 0;
}

ParserCore::HeadFacts ParserCore::ScanFields(const Headers& h) {
  constexpr std::string_view kTe = "Transfer-Encoding";
  HeadFacts f;
  for (Headers::Field field : h) {
    std::string_view name = field.name;
    switch (name.size()) {
      case 4:
        if (EqualsIgnoreCase(name, "Host")) ++f.hosts;
        break;
      case 10:
        if (EqualsIgnoreCase(name, "Connection")) {
          f.conn_close = f.conn_close || ListContainsToken(field.value, "close");
          f.conn_keep_alive = f.conn_keep_alive || ListContainsToken(field.value, "keep-alive");
        }
        break;
      case 14:
        if (EqualsIgnoreCase(name, "Content-Length")) {
          ++f.cl_fields;
          f.cl = field.value;
        }
        break;
      case 17:
        if (EqualsIgnoreCase(name, kTe)) {
          ++f.te_fields;
          ForEachListElement(field.value, [&](std::string_view coding) {
            ++f.codings;
            f.only_chunked = f.only_chunked && EqualsIgnoreCase(coding, "chunked");
            return true;
          });
        }
        break;
      default:
        if (name.size() > kTe.size() && EqualsIgnoreCase(name.substr(0, kTe.size()), kTe)) {
          f.te_prefixed = true;
        }
    }
  }
  return f;
}

bool ParserCore::CheckFraming(const HeadFacts& f) {
  Message& m = msg();
  if (f.te_fields > 0) {
    if (f.cl_fields > 0) return FailCb(400, "Content-Length with Transfer-Encoding"), false;
    if (request_ && !m.IsHttp11()) {
      return FailCb(400, "Transfer-Encoding in an HTTP/1.0 request"), false;
    }
    if (f.codings == 0) return FailCb(400, "empty Transfer-Encoding"), false;
    if (!f.only_chunked) return FailCb(501, "unsupported Transfer-Encoding"), false;
    if (f.codings > 1) return FailCb(400, "chunked applied more than once"), false;
    chunked_ = true;
  }
  // http_parser's own view must match ours. It does not always: it flags any field whose
  // name merely starts with "Transfer-Encoding" (e.g. "Transfer-Encodingx") as a TE, so such
  // names are refused outright.
  if (f.te_prefixed || chunked_ != ((parser_.flags & F_CHUNKED) != 0) ||
      (f.te_fields > 0) != (parser_.uses_transfer_encoding != 0)) {
    return FailCb(400, "ambiguous Transfer-Encoding"), false;
  }
  m.chunked = chunked_;
  in_chunk_line_ = chunked_;
  if (f.cl_fields > 1) return FailCb(400, "duplicate Content-Length"), false;
  if (f.cl_fields == 1) {
    uint64_t n = 0;
    if (!ParseContentLength(f.cl, &n) || n != parser_.content_length) {
      return FailCb(400, "invalid Content-Length"), false;
    }
    m.content_length = static_cast<int64_t>(n);
  } else if (!chunked_ && parser_.content_length != ULLONG_MAX) {
    return FailCb(400, "ambiguous Content-Length"), false;
  }
  return true;
}

bool ParserCore::CheckRequestHead(const HeadFacts& f) {
  Request& r = *request_;
  if (f.hosts > 1) return FailCb(400, "more than one Host header"), false;
  if (f.hosts == 0 && options_->require_host && r.IsHttp11()) {
    return FailCb(400, "missing Host header"), false;
  }
  Status st = SplitTarget(r.method, r.target, &r.path, &r.query);
  if (!st.ok()) return FailCb(400, st.message()), false;
  return true;
}

void ParserCore::ComputeKeepAlive(const HeadFacts& f) {
  Message& m = msg();
  if (f.conn_close || close_delimited_) {
    m.keep_alive = false;
  } else {
    m.keep_alive = m.IsHttp11() || f.conn_keep_alive;
  }
}

void ParserCore::AccumulateFraming(const char* data, size_t n) {
  if (body_begin_) {
    framing_.append(data, static_cast<size_t>(body_begin_ - data));
    framing_.append(body_end_, static_cast<size_t>(data + n - body_end_));
  } else {
    framing_.append(data, n);
  }
}

// chunk = chunk-size [ BWS ";" chunk-ext ] CRLF, with chunk-size 1*16HEXDIG and the extension
// made of field-value characters only (no CR, LF, NUL or other controls).
bool ParserCore::CheckChunkLine() {
  std::string_view line = framing_;
  if (line.size() > options_->max_chunk_line_bytes) {
    framing_.clear();
    Fail(400, "chunk-size line too long");
    return false;
  }
  size_t i = 0;
  uint64_t size = 0;
  while (i < line.size() && HexDigit(line[i]) >= 0) {
    size = size * 16 + static_cast<uint64_t>(HexDigit(line[i]));
    ++i;
  }
  bool ok = i > 0 && i <= 16 && size == chunk_size_;
  if (ok && i < line.size() && line[i] != '\r') {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    ok = i < line.size() && line[i] == ';';
    while (ok && i < line.size() && line[i] != '\r') {
      ok = IsFieldValueChar(static_cast<unsigned char>(line[i]));
      ++i;
    }
  }
  ok = ok && line.size() - i == 2 && line[i] == '\r' && line[i + 1] == '\n';
  framing_.clear();
  if (!ok) {
    Fail(400, "invalid chunk-size line");
    return false;
  }
  return true;
}

void ParserCore::MessageDone() {
  if (interim_) {
    phase_ = Phase::kIdle;
    return;
  }
  const Headers& t = msg().trailers;
  if (t.Has("Content-Length") || t.Has("Transfer-Encoding") || t.Has("Host")) {
    Fail(400, "forbidden field in trailer section");
    return;
  }
  phase_ = Phase::kComplete;
  events_->OnComplete();
}

}  // namespace halo::http::detail
