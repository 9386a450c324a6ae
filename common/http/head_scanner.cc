#include "common/http/head_scanner.h"

#include <algorithm>

#include "common/http/syntax.h"

namespace halo::http::detail {
namespace {

constexpr char kHttpSlash[] = "HTTP/";
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

}  // namespace

void HeadScanner::Reset(Start start, size_t max_bytes, size_t max_fields, size_t used_bytes) {
  switch (start) {
    case Start::kRequestLineAfterMethod:
      state_ = State::kReqSp;
      request_ = true;
      in_first_line_ = true;
      break;
    case Start::kStatusLine:
      state_ = State::kVersion;
      request_ = false;
      in_first_line_ = true;
      break;
    case Start::kFieldLines:
      state_ = State::kLineStart;
      in_first_line_ = false;
      break;
  }
  bytes_ = used_bytes;
  max_bytes_ = max_bytes;
  fields_ = 0;
  max_fields_ = max_fields;
  pos_ = 0;
  version_major_ = version_minor_ = 0;
  error_status_ = 0;
  error_message_ = "";
}

bool HeadScanner::Fail(int status, const char* message) {
  state_ = State::kFailed;
  error_status_ = status;
  error_message_ = message;
  return false;
}

size_t HeadScanner::Scan(const char* data, size_t len) {
  const http::detail::CharTables& t = http::detail::kCharTables;
  size_t i = 0;
  while (i < len && state_ != State::kDone && state_ != State::kFailed) {
    size_t budget = max_bytes_ - bytes_;
    if (budget == 0) {
      if (in_first_line_ && request_) {
        Fail(414, "request line too long");
      } else {
        Fail(431, "header section too large");
      }
      break;
    }
    // Fast path: skip a run of bytes that keep the state as it is (the bulk of a head);
    // the byte that ends the run goes through Step() below.
    const bool* run = state_ == State::kValue || state_ == State::kReason ? t.field_value
                      : state_ == State::kName                            ? t.token
                      : state_ == State::kTarget                          ? t.target
                                                                          : nullptr;
    if (run) {
      size_t end = std::min(len, i + budget);
      size_t j = i;
      while (j < end && run[static_cast<unsigned char>(data[j])]) ++j;
      bytes_ += j - i;
      i = j;
      if (i == end) continue;  // out of input, or of budget (failed on the next round)
    }
    ++bytes_;
    if (!Step(static_cast<unsigned char>(data[i]))) break;
    ++i;
  }
  return i;
}

bool HeadScanner::StepVersion(unsigned char c) {
  if (pos_ < 5) {
    if (c != static_cast<unsigned char>(kHttpSlash[pos_])) {
      return Fail(400, "invalid HTTP version");
    }
  } else if (pos_ == 5 || pos_ == 7) {
    if (!IsDigit(c)) return Fail(400, "invalid HTTP version");
    (pos_ == 5 ? version_major_ : version_minor_) = c - '0';
  } else if (pos_ == 6) {
    if (c != '.') return Fail(400, "invalid HTTP version");
  } else {
    // pos_ == 8: the byte after the version.
    if (version_major_ != 1) return Fail(505, "HTTP version not supported");
    if (request_) {
      if (c != '\r') return Fail(400, "invalid request line");
      state_ = State::kFirstLineLf;
    } else if (c == ' ') {
      state_ = State::kStatusCode;
      pos_ = 0;
      return true;
    } else {
      return Fail(400, "invalid status line");
    }
    return true;
  }
  ++pos_;
  return true;
}

bool HeadScanner::Step(unsigned char c) {
  switch (state_) {
    case State::kReqSp:
      if (c != ' ') return Fail(400, "invalid request line");
      state_ = State::kTargetFirst;
      return true;
    case State::kTargetFirst:
      if (c <= 0x20 || c >= 0x7f) return Fail(400, "invalid request-target");
      state_ = State::kTarget;
      return true;
    case State::kTarget:
      if (c == ' ') {
        state_ = State::kVersion;
        pos_ = 0;
        return true;
      }
      if (c < 0x20 || c >= 0x7f) return Fail(400, "invalid character in request-target");
      return true;
    case State::kVersion:
      return StepVersion(c);
    case State::kStatusCode:
      if (pos_ < 3) {
        if (!IsDigit(c) || (pos_ == 0 && c == '0')) return Fail(400, "invalid status code");
        ++pos_;
        return true;
      }
      if (c == ' ') {
        state_ = State::kReason;
      } else if (c == '\r') {
        state_ = State::kFirstLineLf;
      } else {
        return Fail(400, "invalid status line");
      }
      return true;
    case State::kReason:
      if (c == '\r') {
        state_ = State::kFirstLineLf;
        return true;
      }
      if (!IsFieldValueChar(c)) return Fail(400, "invalid character in reason phrase");
      return true;
    case State::kFirstLineLf:
      if (c != '\n') return Fail(400, "bare CR in start line");
      state_ = State::kLineStart;
      in_first_line_ = false;
      return true;
    case State::kLineStart:
      if (c == '\r') {
        state_ = State::kEndLf;
        return true;
      }
      if (c == ' ' || c == '\t') return Fail(400, "obs-fold or whitespace at start of header line");
      if (c == '\n') return Fail(400, "bare LF in header section");
      if (!IsTokenChar(c)) return Fail(400, "invalid character in header name");
      if (++fields_ > max_fields_) return Fail(431, "too many header fields");
      state_ = State::kName;
      return true;
    case State::kName:
      if (c == ':') {
        state_ = State::kValue;
        return true;
      }
      if (c == ' ' || c == '\t') return Fail(400, "whitespace before colon in header");
      if (!IsTokenChar(c)) return Fail(400, "invalid character in header name");
      return true;
    case State::kValue:
      if (c == '\r') {
        state_ = State::kValueLf;
        return true;
      }
      if (c == '\n') return Fail(400, "bare LF in header section");
      if (!IsFieldValueChar(c)) return Fail(400, "invalid character in header value");
      return true;
    case State::kValueLf:
      if (c != '\n') return Fail(400, "bare CR in header section");
      state_ = State::kLineStart;
      return true;
    case State::kEndLf:
      if (c != '\n') return Fail(400, "bare CR in header section");
      state_ = State::kDone;
      return true;
    case State::kDone:
    case State::kFailed:
      return false;
  }
  return false;
}

}  // namespace halo::http::detail
