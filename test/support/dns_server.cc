#include "test/support/dns_server.h"

#include <signal.h>

#include <algorithm>

#include "common/net/ares_resolver.h"
#include "common/net/net_address.h"

namespace halo::testing {

DnsServer::DnsServer() : dir_("dns"), port_(PickFreePort()) {}

DnsServer::~DnsServer() {
  if (proc_.started()) {
    proc_.Signal(SIGCONT);
    proc_.Stop(SIGKILL, std::chrono::seconds(5));
  }
}

void DnsServer::WriteHosts(const std::string& name, const std::vector<std::string>& ips) {
  std::string hosts;
  for (const std::string& ip : ips) hosts += ip + " " + name + "\n";
  WriteFile(dir_.Join("hosts"), hosts);
}

std::vector<std::string> DnsServer::Query(const std::string& name) {
  net::AresResolverOptions o;
  o.servers = {server()};
  o.timeout_ms = 300;
  o.tries = 1;
  Result<std::unique_ptr<net::Resolver>> r = net::NewAresResolver(o);
  if (!r.ok()) return {};
  Result<std::vector<net::NetAddress>> a = net::ResolveBlocking(**r, name, 80);
  if (!a.ok()) return {};
  std::vector<std::string> out;
  for (const net::NetAddress& x : *a) out.push_back(net::IpString(x.sa()));
  std::sort(out.begin(), out.end());
  return out;
}

bool DnsServer::Start(const std::string& name, const std::vector<std::string>& ips) {
  WriteHosts(name, ips);
  proc_ = Subprocess::Start(
      {"/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
       "--no-hosts", "--port=" + std::to_string(port_), "--listen-address=127.0.0.1",
       "--bind-interfaces", "--addn-hosts=" + dir_.Join("hosts"), "--local-ttl=1", "--user=root",
       "--pid-file=" + dir_.Join("pid")},
      {}, dir_.Join("dnsmasq.log"));
  if (!proc_.started()) return false;
  std::vector<std::string> want = ips;
  std::sort(want.begin(), want.end());
  return PollUntil([&] { return Query(name) == want || !proc_.Running(); },
                   std::chrono::seconds(10)) &&
         proc_.Running();
}

bool DnsServer::SetRecords(const std::string& name, const std::vector<std::string>& ips) {
  WriteHosts(name, ips);
  proc_.Signal(SIGHUP);
  std::vector<std::string> want = ips;
  std::sort(want.begin(), want.end());
  return PollUntil([&] { return Query(name) == want; }, std::chrono::seconds(10));
}

}  // namespace halo::testing
