#include "common/check.h"

#include <cstdlib>

#include "common/logging.h"

namespace halo {

void CheckFailed(const char* file, int line, const char* condition, std::string_view message) {
  // Logged whatever the configured level: this is the last line the process writes.
  LogPrintf(LogLevel::kError, "%s:%d: check failed: %s: %.*s", file, line, condition,
            static_cast<int>(message.size()), message.data());
  std::abort();
}

}  // namespace halo
