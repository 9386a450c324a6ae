// Time and duration text as OpenBao's KV engines print and accept it (Go formats).
//
// Timestamps are Unix nanoseconds in UTC. Durations on the wire are whole seconds printed
// with Go's time.Duration.String ("0s", "1m30s", "3h25m19s") and accepted as parseutil's
// ParseDurationSecond does: a number of seconds, a string of digits (seconds), a string with
// a "d" suffix (days) or a Go duration string ("1h30m", "1.5s", "250ms").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace halo::kv {

// Go's time.RFC3339Nano in UTC: "2018-03-22T02:24:06.945319214Z", trailing zeros of the
// fraction removed and no fraction at all when it is zero ("2018-03-22T02:24:06Z").
std::string FormatRfc3339Nano(int64_t unix_nanos);

// Go's time.Duration.String for a whole number of seconds: "0s", "59s", "1m0s", "-1s".
std::string FormatGoDurationSeconds(int64_t seconds);

// Go's time.ParseDuration: "[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+" or "0"; units ns, us, µs, ms,
// s, m, h. Returns nanoseconds; kInvalidArgument on bad syntax or overflow.
Result<int64_t> ParseGoDuration(std::string_view text);

// parseutil.ParseDurationSecond on a string: "" is 0, "90" is 90 s, "2d" is two days,
// anything else a Go duration. Returns seconds (truncated toward zero).
Result<int64_t> ParseDurationSecondString(std::string_view text);

}  // namespace halo::kv
