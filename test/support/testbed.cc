#include "test/support/testbed.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace halo::testing {
namespace {

std::vector<pid_t> PidsIn(const std::string& ns) {
  CommandResult r = RunCommand({"/usr/bin/ip", "netns", "pids", ns});
  std::vector<pid_t> pids;
  std::istringstream in(r.output);
  pid_t p = 0;
  while (in >> p) pids.push_back(p);
  return pids;
}

// SIGKILLs until nothing is left (a dying process may still be listed for a moment).
bool KillAllIn(const std::string& ns) {
  return PollUntil(
      [&] {
        std::vector<pid_t> pids = PidsIn(ns);
        for (pid_t p : pids) ::kill(p, SIGKILL);
        return pids.empty();
      },
      std::chrono::seconds(5), std::chrono::milliseconds(10));
}

Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv);
  if (r.status != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    return Status::Unavailable(cmd + "failed: " + r.output);
  }
  return Status::Ok();
}

// Namespaces named "halo-<pid>-..." whose creating process is gone.
void RemoveStale() {
  CommandResult r = RunCommand({"/usr/bin/ip", "netns", "list"});
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind("halo-", 0) != 0) continue;
    pid_t owner = std::atoi(name.c_str() + 5);
    if (owner <= 0 || (::kill(owner, 0) != 0 && errno == ESRCH)) {
      (void)KillAllIn(name);
      Ip({"netns", "del", name}).ok();
    }
  }
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv) {
  CommandResult res;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return res;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) res.output.append(buf, n);
  ::close(fds[0]);
  int st = 0;
  if (pid > 0 && ::waitpid(pid, &st, 0) == pid) res.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return res;
}

Result<std::unique_ptr<Testbed>> Testbed::Create(int hosts) {
  if (::geteuid() != 0) return Status::Unavailable("the test bed needs root (network namespaces)");
  if (::access("/usr/bin/ip", X_OK) != 0) return Status::Unavailable("no /usr/bin/ip (iproute2)");
  RemoveStale();
  std::unique_ptr<Testbed> bed(new Testbed("halo-" + std::to_string(::getpid())));
  Status s = bed->Build(hosts);
  if (!s.ok()) return s;  // the destructor removes what was made
  return bed;
}

Status Testbed::Build(int hosts) {
  switch_ = prefix_ + "-sw";
  RETURN_IF_ERROR(Ip({"netns", "add", switch_}));
  names_.clear();
  RETURN_IF_ERROR(Ip({"-n", switch_, "link", "add", "br0", "type", "bridge"}));
  RETURN_IF_ERROR(Ip({"-n", switch_, "link", "set", "br0", "up"}));
  for (int i = 0; i < hosts; ++i) {
    std::string ns = prefix_ + "-h" + std::to_string(i + 1);
    RETURN_IF_ERROR(Ip({"netns", "add", ns}));
    names_.push_back(ns);
    RETURN_IF_ERROR(Ip({"-n", switch_, "link", "add", SwitchPort(i), "type", "veth", "peer", "name",
                        "eth0", "netns", ns}));
    RETURN_IF_ERROR(Ip({"-n", switch_, "link", "set", SwitchPort(i), "master", "br0", "up"}));
    RETURN_IF_ERROR(Ip({"-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"}));
    RETURN_IF_ERROR(Ip({"-n", ns, "link", "set", "eth0", "up"}));
    RETURN_IF_ERROR(Ip({"-n", ns, "link", "set", "lo", "up"}));
  }
  return Status::Ok();
}

Testbed::~Testbed() { TearDown(); }

void Testbed::TearDown() {
  for (const std::string& ns : names_) {
    (void)KillAllIn(ns);
    Ip({"netns", "del", ns}).ok();
  }
  names_.clear();
  if (!switch_.empty()) Ip({"netns", "del", switch_}).ok();
  switch_.clear();
}

std::string Testbed::address(int host) const { return "198.18.0." + std::to_string(10 + host); }

std::string Testbed::SwitchPort(int host) const { return "p" + std::to_string(host + 1); }

Subprocess Testbed::Start(int host, const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env, const std::string& log_path) {
  std::vector<std::string> full{"/usr/bin/ip", "netns", "exec", names_[host]};
  full.insert(full.end(), argv.begin(), argv.end());
  return Subprocess::Start(full, extra_env, log_path);
}

bool Testbed::InHost(int host, const std::function<void()>& fn) {
  bool entered = false;
  std::thread t([&] {
    int fd = ::open(("/var/run/netns/" + names_[host]).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    entered = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    if (entered) fn();
  });
  t.join();
  return entered;
}

Status Testbed::KillHost(int host) {
  return KillAllIn(names_[host]) ? Status::Ok()
                                 : Status::Internal("processes survive in " + names_[host]);
}

Status Testbed::Partition(int host) {
  return Ip({"-n", switch_, "link", "set", SwitchPort(host), "down"});
}

Status Testbed::Heal(int host) {
  return Ip({"-n", switch_, "link", "set", SwitchPort(host), "up"});
}

Status Testbed::CutOff(int host, int peer) {
  return Ip({"-n", names_[host], "route", "add", "blackhole", address(peer) + "/32"});
}

Status Testbed::Reconnect(int host, int peer) {
  return Ip({"-n", names_[host], "route", "del", "blackhole", address(peer) + "/32"});
}

Status Testbed::SetDelay(int host, std::chrono::milliseconds delay) {
  std::vector<std::string> argv{"/usr/bin/ip", "netns",        "exec",
                                names_[host],  "/usr/sbin/tc", "qdisc"};
  if (delay.count() == 0) {
    argv.insert(argv.end(), {"del", "dev", "eth0", "root"});
  } else {
    argv.insert(argv.end(), {"replace", "dev", "eth0", "root", "netem", "delay",
                             std::to_string(delay.count()) + "ms"});
  }
  CommandResult r = RunCommand(argv);
  return r.status == 0 ? Status::Ok() : Status::Unavailable("tc netem: " + r.output);
}

int H2loadOk(const std::string& output) {
  size_t at = output.find("status codes: ");
  if (at == std::string::npos) return -1;
  return std::atoi(output.c_str() + at + 14);
}

}  // namespace halo::testing
