// Result<T>: either a value or a non-OK Status. The return type of every fallible function
// that produces something. Constructing a Result from an OK Status is a programming error and
// aborts (it would be a Result with neither value nor error).
#pragma once

#include <optional>
#include <utility>

#include "common/check.h"
#include "common/status.h"

namespace halo {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    HALO_CHECK(!status_.ok(), "Result constructed from an OK Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok(). Aborts otherwise, printing the error.
  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T other) const& { return ok() ? *value_ : std::move(other); }

 private:
  void CheckOk() const {
    HALO_CHECK(value_.has_value(), "Result::value() on error: " + status_.ToString());
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace halo

#define HALO_CONCAT_INNER(a, b) a##b
#define HALO_CONCAT(a, b) HALO_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)            \
  do {                                   \
    ::halo::Status _halo_st = (expr);    \
    if (!_halo_st.ok()) return _halo_st; \
  } while (0)

// `lhs = *expr` when `expr` (a Result) is OK, else returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(HALO_CONCAT(_halo_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
