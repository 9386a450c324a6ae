// DnsServer: Debian's dnsmasq on a loopback UDP/TCP port picked at run time, serving only
// the A records the test gives it (a hosts file, TTL 1 s), nothing forwarded anywhere.
// SetRecords rewrites the file and SIGHUPs dnsmasq, which re-reads it. Killed on
// destruction.
#pragma once

#include <string>
#include <vector>

#include "test/support/subprocess.h"

namespace halo::testing {

class DnsServer {
 public:
  DnsServer();
  ~DnsServer();
  // Starts dnsmasq with `name` -> `ips`; waits until it answers. False if it does not.
  bool Start(const std::string& name, const std::vector<std::string>& ips);
  // Replaces the records of `name` (an empty list removes the name); true once dnsmasq
  // answers with the new set.
  bool SetRecords(const std::string& name, const std::vector<std::string>& ips);
  void Pause() { proc_.Signal(19); }   // SIGSTOP: DNS "down" (queries time out)
  void Resume() { proc_.Signal(18); }  // SIGCONT
  int port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  // The addresses dnsmasq gives for `name` now (sorted), or nullopt-like empty on failure.
  std::vector<std::string> Query(const std::string& name);
  void WriteHosts(const std::string& name, const std::vector<std::string>& ips);

  TempDir dir_;
  int port_;
  Subprocess proc_;
};

}  // namespace halo::testing
