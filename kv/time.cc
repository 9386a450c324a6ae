#include "kv/time.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

namespace halo::kv {

std::string FormatRfc3339Nano(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t frac = unix_nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (frac != 0) {
    char digits[16];
    std::snprintf(digits, sizeof(digits), "%09lld", static_cast<long long>(frac));
    std::string_view d(digits, 9);
    while (!d.empty() && d.back() == '0') d.remove_suffix(1);
    out += '.';
    out += d;
  }
  out += 'Z';
  return out;
}

std::string FormatGoDurationSeconds(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  // Work in unsigned so that INT64_MIN negates without overflow.
  uint64_t u =
      seconds < 0 ? uint64_t{0} - static_cast<uint64_t>(seconds) : static_cast<uint64_t>(seconds);
  if (seconds < 0) out += '-';
  uint64_t h = u / 3600, m = (u % 3600) / 60, s = u % 60;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(s) + "s";
  return out;
}

namespace {

// Nanoseconds per unit, or 0 for an unknown unit.
double UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return 0;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<int64_t> ParseGoDuration(std::string_view text) {
  const std::string bad = "time: invalid duration \"" + std::string(text) + "\"";
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return Status::InvalidArgument(bad);
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && IsDigit(s[i])) {
      value = value * 10 + (s[i] - '0');
      digits = true;
      ++i;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && IsDigit(s[i])) {
        value += scale * (s[i] - '0');
        scale /= 10;
        digits = true;
        ++i;
      }
    }
    if (!digits) return Status::InvalidArgument(bad);
    size_t unit_start = i;
    while (i < s.size() && !IsDigit(s[i]) && s[i] != '.') ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      return Status::InvalidArgument("time: missing unit in duration \"" + std::string(text) +
                                     "\"");
    }
    double per = UnitNanos(unit);
    if (per == 0) {
      return Status::InvalidArgument("time: unknown unit \"" + std::string(unit) +
                                     "\" in duration \"" + std::string(text) + "\"");
    }
    total += value * per;
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument(bad);
    }
    s.remove_prefix(i);
  }
  int64_t nanos = static_cast<int64_t>(total);
  return neg ? -nanos : nanos;
}

Result<int64_t> ParseDurationSecondString(std::string_view text) {
  if (text.empty()) return int64_t{0};
  char last = text.back();
  if (IsDigit(last)) {
    std::string_view digits = text;
    bool neg = false;
    if (digits[0] == '-' || digits[0] == '+') {
      neg = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 18) {
      return Status::InvalidArgument("strconv.ParseInt: parsing \"" + std::string(text) +
                                     "\": invalid syntax");
    }
    int64_t v = 0;
    for (char c : digits) {
      if (!IsDigit(c)) {
        return Status::InvalidArgument("strconv.ParseInt: parsing \"" + std::string(text) +
                                       "\": invalid syntax");
      }
      v = v * 10 + (c - '0');
    }
    return neg ? -v : v;
  }
  if (last == 'd') {
    ASSIGN_OR_RETURN(int64_t days, ParseDurationSecondString(text.substr(0, text.size() - 1)));
    if (text.size() < 2 || !IsDigit(text[text.size() - 2]) ||
        days > std::numeric_limits<int64_t>::max() / 86400 ||
        days < std::numeric_limits<int64_t>::min() / 86400) {
      return Status::InvalidArgument("invalid duration \"" + std::string(text) + "\"");
    }
    return days * 86400;
  }
  ASSIGN_OR_RETURN(int64_t nanos, ParseGoDuration(text));
  return nanos / 1'000'000'000;
}

}  // namespace halo::kv
