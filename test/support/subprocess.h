// Test support: start and stop real processes (the daemons, redis-server, or a copy of the
// test binary running one "child role"), pick free loopback ports, make temp dirs.
//
// Child roles: a test can run code in a separate process by re-executing the test binary
// with SpawnChildRole("name", args). The child runs only the doctest case named
// "child:<name>", which must begin with HALO_CHILD_ROLE_GUARD() so that it does nothing in
// a normal test run. Arguments reach the child as ChildArg(i).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace halo::testing {

class Subprocess {
 public:
  Subprocess() = default;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  // SIGKILLs and reaps the process if it is still running.
  ~Subprocess();

  // Starts argv[0] (a path) with argv and the current environment plus `extra_env`
  // ("K=V"). stdout/stderr go to `log_path` when given (appended), else are inherited.
  static Subprocess Start(const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env = {},
                          const std::string& log_path = "");

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  void Signal(int sig) const;
  // Waits up to `timeout` for exit; returns true and sets the wait status if it exited.
  bool WaitExit(std::chrono::milliseconds timeout, int* wait_status = nullptr);
  // Sends `sig`, then waits; SIGKILLs if still alive after `timeout`. Returns the wait
  // status (or -1 if it had to be killed).
  int Stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool Running();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Re-executes this test binary running only the case "child:<role>".
Subprocess SpawnChildRole(const std::string& role, const std::vector<std::string>& args,
                          const std::string& log_path = "");
// In a child role: the i-th argument, or "" if absent.
std::string ChildArg(int i);
// In a child role that must stay alive until the test kills it (e.g. a lock holder):
// waits for signals forever, never returns.
[[noreturn]] void HoldUntilKilled();
// True inside a process started by SpawnChildRole.
bool InChildRole();
#define HALO_CHILD_ROLE_GUARD()                  \
  do {                                           \
    if (!::halo::testing::InChildRole()) return; \
  } while (0)

// A loopback TCP port that was free a moment ago (bind to 0, read it back, close).
int PickFreePort();

// A fresh directory under /tmp, removed (recursively) when the object dies unless
// HALO_KEEP_TMP is set.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "halo");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `cond` every `interval` until it returns true or `timeout` passes; returns the last
// result. The way tests wait for something to happen (never a bare sleep).
[[nodiscard]] bool PollUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                             std::chrono::milliseconds interval = std::chrono::milliseconds(5));

// Directory of the built daemons ($HALO_BIN_DIR, set by the Makefile), e.g. for
// BinPath("halo-node").
std::string BinPath(const std::string& name);

std::string WriteFile(const std::string& path, const std::string& contents);

}  // namespace halo::testing
