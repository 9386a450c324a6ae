#include "router/node_expansion.h"

#include <algorithm>
#include <cstring>

namespace halo::router {
namespace {

bool Less(const net::NetAddress& a, const net::NetAddress& b) {
  if (a.len != b.len) return a.len < b.len;
  return std::memcmp(&a.ss, &b.ss, a.len) < 0;
}

}  // namespace

bool IsDnsName(const NodeConfig& n) {
  return !net::ParseNumericAddress(n.host, n.port).has_value();
}

std::vector<NodeConfig> ExpandNodes(
    const std::vector<NodeConfig>& configured,
    const std::vector<std::optional<std::vector<net::NetAddress>>>& answers,
    const std::vector<std::vector<net::NetAddress>>& last_good, size_t max_nodes, size_t* dropped) {
  std::vector<NodeConfig> out;
  *dropped = 0;
  auto add = [&](NodeConfig n) {
    if (out.size() >= max_nodes) {
      ++*dropped;
      return;
    }
    out.push_back(std::move(n));
  };
  for (size_t i = 0; i < configured.size(); ++i) {
    const NodeConfig& c = configured[i];
    std::vector<net::NetAddress> addrs;
    if (i < answers.size() && answers[i].has_value()) {
      addrs = *answers[i];
    } else if (i < last_good.size()) {
      addrs = last_good[i];
    }
    if (!IsDnsName(c) || addrs.size() <= 1) {
      NodeConfig n = c;
      if (addrs.size() == 1) n.resolved = addrs[0];
      add(std::move(n));
      continue;
    }
    std::sort(addrs.begin(), addrs.end(), Less);  // a stable order whatever DNS returned
    for (const net::NetAddress& a : addrs) {
      NodeConfig n = c;
      std::string ip = net::IpString(a.sa());
      n.name = c.name + "@" + ip;
      n.host = ip;
      n.address = net::HostPortString(a.sa());
      n.resolved = a;
      add(std::move(n));
    }
  }
  return out;
}

}  // namespace halo::router
