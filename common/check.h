// HALO_CHECK(cond, msg): for states that cannot happen. Logs the place, the condition and
// the message, then aborts (as Envoy's RELEASE_ASSERT). Never reachable from network input,
// config or disk contents: those get a Status, an error answer or a log line instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#define HALO_CHECK(cond, msg)                                                                     \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "%s:%d: HALO_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, msg); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
