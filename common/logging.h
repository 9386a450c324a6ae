// Logging with levels, to stderr, one line per call (a single write, so lines from several
// threads or processes never interleave mid-line). The level is process-wide and set once at
// startup from config (`log_level`). Thread-safe.
#pragma once

#include <string_view>

#include "common/result.h"

namespace halo {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Accepts trace|debug|info|warn|error.
Result<LogLevel> ParseLogLevel(std::string_view name);
// Sets a prefix (e.g. "node1") printed on every line; copied.
void SetLogTag(std::string_view tag);

void LogPrintf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace halo

#define HALO_LOG(level, ...)                                                \
  do {                                                                      \
    if (static_cast<int>(level) >= static_cast<int>(::halo::GetLogLevel())) \
      ::halo::LogPrintf(level, __VA_ARGS__);                                \
  } while (0)
#define LOG_DEBUG(...) HALO_LOG(::halo::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) HALO_LOG(::halo::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) HALO_LOG(::halo::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) HALO_LOG(::halo::LogLevel::kError, __VA_ARGS__)
