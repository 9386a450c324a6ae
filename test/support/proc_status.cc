#include "test/support/proc_status.h"

#include <cstdlib>
#include <fstream>
#include <string>

namespace halo::testing {

int64_t ProcStatusKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string prefix = std::string(field) + ":";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const char* start = line.c_str() + prefix.size();
    char* end = nullptr;
    long long kb = std::strtoll(start, &end, 10);
    return end == start ? -1 : static_cast<int64_t>(kb);
  }
  return -1;
}

}  // namespace halo::testing
