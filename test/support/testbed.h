// Testbed: simulated hosts for multi-host tests, on one machine (needs root).
//
// Each host is a network namespace with one interface (eth0, 198.18.0.<10+i>/24) whose veth
// peer sits on a bridge inside a namespace of its own (the "switch"). 198.18.0.0/15 is the
// benchmarking range (RFC 2544): nothing is routed out, and the root namespace gets no
// address, link or route. Processes run in a host with `ip netns exec`; the test's own
// clients reach a host by creating their sockets on a thread moved into that namespace
// (InHost): a socket keeps the namespace it was created in.
//
// Faults: KillHost (SIGKILL every process in the namespace, as a host that loses power),
// Partition/Heal (the host's switch port down/up), CutOff/Reconnect (one pair of hosts
// only), SetDelay (netem on the host's link).
//
// Cleanup: the destructor kills every process in the namespaces and deletes them. Names
// carry the creating process's pid ("halo-<pid>-h1"), so Create() also removes what a dead
// test run left behind; scripts/testbed-clean removes every halo test namespace.
//
// Threading: one thread at a time, except InHost, which runs its function on a new thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "test/support/subprocess.h"

namespace halo::testing {

class Testbed {
 public:
  // `hosts` namespaces on one switch. kUnavailable (with the reason) if this process cannot
  // make namespaces (not root, no `ip`); tests then say so and skip.
  static Result<std::unique_ptr<Testbed>> Create(int hosts);
  ~Testbed();
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  int hosts() const { return static_cast<int>(names_.size()); }
  // "198.18.0.<10+host>".
  std::string address(int host) const;
  const std::string& netns(int host) const { return names_[host]; }

  // Starts argv in `host` (argv[0] a path), as Subprocess::Start.
  Subprocess Start(int host, const std::vector<std::string>& argv,
                   const std::vector<std::string>& extra_env = {},
                   const std::string& log_path = "");
  // Runs `fn` on a thread that has entered `host`'s namespace; sockets it creates belong
  // there. Returns false if the thread could not enter the namespace.
  bool InHost(int host, const std::function<void()>& fn);

  // SIGKILLs every process in `host`'s namespace and waits until none is left.
  Status KillHost(int host);
  // Cuts `host` off the switch (its port down), or reconnects it.
  Status Partition(int host);
  Status Heal(int host);
  // Cuts the path between `host` and `peer` only, both ways, with every other link kept:
  // `host` discards what it sends to `peer` (a blackhole route), so `peer`'s connections to
  // `host` time out as behind a partition (no reset, no refusal), and `host` cannot reach
  // `peer`. Reconnect removes the route.
  Status CutOff(int host, int peer);
  Status Reconnect(int host, int peer);
  // Adds `delay` to every packet leaving `host` (netem); zero removes it.
  Status SetDelay(int host, std::chrono::milliseconds delay);

 private:
  explicit Testbed(std::string prefix) : prefix_(std::move(prefix)) {}
  Status Build(int hosts);
  void TearDown();
  std::string SwitchPort(int host) const;

  std::string prefix_;              // "halo-<pid>"
  std::string switch_;              // the switch namespace
  std::vector<std::string> names_;  // host namespaces
};

// Runs a command line (argv, no shell), returning its exit status and merged output.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv);

// N of the "status codes: N 2xx, ..." line that h2load prints; -1 if there is none.
int H2loadOk(const std::string& output);

}  // namespace halo::testing
