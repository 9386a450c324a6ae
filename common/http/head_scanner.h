// HeadScanner: the strictness layer in front of http_parser for a message head (request or
// status line plus header lines) and for a chunked trailer section. It validates bytes
// incrementally before they are handed to the parser library, so http_parser (built
// non-strict in Debian) only ever sees heads whose lines are CRLF-terminated, free of control
// characters and obs-fold, and whose header names are tokens followed directly by ':'.
//
// It does not extract anything (http_parser does that); it only decides "valid so far",
// "section complete" or "reject with this status". Internal to the HTTP/1 parser; pure.
#pragma once

#include <cstddef>

namespace halo::http::detail {

class HeadScanner {
 public:
  enum class Start {
    kRequestLineAfterMethod,  // next byte is the SP after the method token
    kStatusLine,              // next byte is the 'H' of "HTTP/1.1 200 OK"
    kFieldLines,              // trailer section: field lines, then an empty line
  };

  // `used_bytes`: bytes of this head already consumed by the caller (method, leading CRLFs);
  // they count against `max_bytes`.
  void Reset(Start start, size_t max_bytes, size_t max_fields, size_t used_bytes);

  // Validates bytes from `data`; returns how many were accepted. Stops right after the empty
  // line that ends the section (done()) or at the first bad byte (failed()).
  size_t Scan(const char* data, size_t len);

  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }
  // When failed(): the HTTP status to answer with and a short reason.
  int error_status() const { return error_status_; }
  const char* error_message() const { return error_message_; }
  // From the request or status line once it has been scanned.
  int version_major() const { return version_major_; }
  int version_minor() const { return version_minor_; }

 private:
  enum class State {
    kReqSp,
    kTargetFirst,
    kTarget,
    kVersion,  // "HTTP/" D "." D, then CR (request) or SP / CR (status line)
    kStatusCode,
    kReason,
    kFirstLineLf,
    kLineStart,
    kName,
    kValue,
    kValueLf,
    kEndLf,
    kDone,
    kFailed,
  };

  bool Step(unsigned char c);
  bool Fail(int status, const char* message);
  bool StepVersion(unsigned char c);

  State state_ = State::kDone;
  bool request_ = true;
  bool in_first_line_ = false;
  size_t bytes_ = 0;
  size_t max_bytes_ = 0;
  size_t fields_ = 0;
  size_t max_fields_ = 0;
  size_t pos_ = 0;  // index within the version or status code
  int version_major_ = 0;
  int version_minor_ = 0;
  int error_status_ = 0;
  const char* error_message_ = "";
};

}  // namespace halo::http::detail
