// ProcStatusKb: a "<Field>: <n> kB" line of /proc/<pid>/status (VmRSS: resident memory now,
// VmHWM: its peak), for tests that bound a daemon's memory. -1 when the process or the
// field is not there.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace halo::testing {

int64_t ProcStatusKb(pid_t pid, const char* field);

}  // namespace halo::testing
