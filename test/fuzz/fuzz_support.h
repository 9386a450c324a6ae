// Checks several fuzz targets share: a parser given a deeply nested document must fail, not
// overflow the stack (checked once per process, it is slow), and a parser that refuses its
// input must say so as kInvalidArgument with a message. Failures abort through HALO_CHECK,
// which is what libFuzzer and the corpus replay report. Header-only: each target links
// alone with its replay main.
#pragma once

#include <string>

#include "common/check.h"
#include "common/status.h"

namespace halo::fuzz {

// The first time a given call site runs, calls `check` with 1 MiB of '[' (a recursive
// parser overflows at ~200k levels).
template <class Check>
void CheckDeepNestingOnce(Check check) {
  static const bool done = [&] {
    check(std::string(1 << 20, '['));
    return true;
  }();
  (void)done;
}

// What every refusal of arbitrary input must look like.
inline void CheckRefusal(const Status& status) {
  HALO_CHECK(status.code() == Status::Code::kInvalidArgument, "errors are kInvalidArgument");
  HALO_CHECK(!status.message().empty(), "errors say what is wrong");
}

}  // namespace halo::fuzz
