// Status: the outcome of an operation that crosses a module boundary.
//
// OK carries nothing and costs one pointer; an error carries a code and a message meant for
// a human (it names the offending key, path or peer). Status is a value type, cheap to move,
// safe to copy. No exceptions cross module boundaries in halo: functions return Status or
// Result<T> (common/result.h) instead.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace halo {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,
    kInvalidArgument,
    kUnavailable,  // a peer or backend cannot be reached right now; retry may help
    kTimeout,      // the outcome is unknown (the request may or may not have taken effect)
    kConflict,     // lock held by another, CAS mismatch, stale fencing epoch
    kCorruption,
    kIoError,
    kPermissionDenied,
    kTooLarge,
    kInternal,
  };

  Status() = default;  // OK
  Status(const Status& other) { *this = other; }
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Unavailable(std::string_view msg) { return Status(Code::kUnavailable, msg); }
  static Status Timeout(std::string_view msg) { return Status(Code::kTimeout, msg); }
  static Status Conflict(std::string_view msg) { return Status(Code::kConflict, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IoError(std::string_view msg) { return Status(Code::kIoError, msg); }
  // IoError with strerror(err) appended: "open /x: No such file or directory".
  static Status FromErrno(std::string_view what, int err);
  static Status PermissionDenied(std::string_view msg) {
    return Status(Code::kPermissionDenied, msg);
  }
  static Status TooLarge(std::string_view msg) { return Status(Code::kTooLarge, msg); }
  static Status Internal(std::string_view msg) { return Status(Code::kInternal, msg); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsConflict() const { return code() == Code::kConflict; }
  // Empty for OK.
  const std::string& message() const;
  // "OK" or "<code name>: <message>".
  std::string ToString() const;
  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status Annotate(std::string_view prefix) const;

  static const char* CodeName(Code code);

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view msg)
      : rep_(std::make_unique<Rep>(Rep{code, std::string(msg)})) {}

  std::unique_ptr<Rep> rep_;
};

}  // namespace halo
