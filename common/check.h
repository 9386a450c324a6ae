// HALO_CHECK(cond, msg): the guard for states that cannot happen. When `cond` is false it
// logs "file:line: check failed: <cond>: <msg>" at error level through common/logging.h and
// aborts the process (as Envoy's RELEASE_ASSERT). It is on in every build mode.
//
// Only for programming errors: a broken invariant between two pieces of our own code. It
// must never be reachable from network input, config or disk contents; anything that bytes
// from outside can cause is a Status (or Result<T>) returned to the caller instead. `msg` is
// anything convertible to std::string_view and is only evaluated when the check fails.
#pragma once

#include <string_view>

namespace halo {

// Logs the failed check and aborts. Use HALO_CHECK, not this.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              std::string_view message);

}  // namespace halo

#define HALO_CHECK(cond, msg)                                \
  do {                                                       \
    if (__builtin_expect(!(cond), 0)) {                      \
      ::halo::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
    }                                                        \
  } while (0)
