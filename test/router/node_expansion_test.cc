#include "router/node_expansion.h"

#include <doctest/doctest.h>

namespace halo::router {
namespace {

NodeConfig Node(const std::string& name, const std::string& host, uint16_t port) {
  NodeConfig n;
  n.name = name;
  n.host = host;
  n.port = port;
  n.address = host + ":" + std::to_string(port);
  return n;
}

net::NetAddress Addr(const std::string& ip, uint16_t port) {
  return *net::ParseNumericAddress(ip, port);
}

std::string Describe(const std::vector<NodeConfig>& nodes) {
  std::string out;
  for (const NodeConfig& n : nodes) {
    out += (out.empty() ? "" : " ") + n.name + "=" + n.address + "/" +
           net::HostPortString(n.resolved.sa());
  }
  return out;
}

TEST_CASE(
    "ExpandNodes: IPs stay, a name is one node per address, a failed name keeps its last "
    "good addresses") {
  using Answers = std::vector<std::optional<std::vector<net::NetAddress>>>;
  using Last = std::vector<std::vector<net::NetAddress>>;
  const std::vector<NodeConfig> cfg = {Node("a", "10.0.0.1", 8200), Node("svc", "vault.svc", 8200)};
  struct Case {
    const char* what;
    Answers answers;
    Last last;
    size_t max;
    std::string want;
    size_t dropped;
  };
  const net::NetAddress ip1 = Addr("10.0.0.1", 8200), s1 = Addr("10.1.0.1", 8200),
                        s2 = Addr("10.1.0.2", 8200), s3 = Addr("10.1.0.3", 8200);
  const Case cases[] = {
      {"one address keeps the name",
       {{{ip1}}, {{s2}}},
       {},
       32,
       "a=10.0.0.1:8200/10.0.0.1:8200 svc=vault.svc:8200/10.1.0.2:8200",
       0},
      {"several addresses, sorted, named by IP",
       {{{ip1}}, {{s3, s1, s2}}},
       {},
       32,
       "a=10.0.0.1:8200/10.0.0.1:8200 svc@10.1.0.1=10.1.0.1:8200/10.1.0.1:8200 "
       "svc@10.1.0.2=10.1.0.2:8200/10.1.0.2:8200 svc@10.1.0.3=10.1.0.3:8200/10.1.0.3:8200",
       0},
      {"a failed lookup keeps the last good set",
       {{{ip1}}, std::nullopt},
       {{}, {s1, s2}},
       32,
       "a=10.0.0.1:8200/10.0.0.1:8200 svc@10.1.0.1=10.1.0.1:8200/10.1.0.1:8200 "
       "svc@10.1.0.2=10.1.0.2:8200/10.1.0.2:8200",
       0},
      {"over the limit: the rest is dropped and counted",
       {{{ip1}}, {{s1, s2, s3}}},
       {},
       2,
       "a=10.0.0.1:8200/10.0.0.1:8200 svc@10.1.0.1=10.1.0.1:8200/10.1.0.1:8200",
       2},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    size_t dropped = 99;
    std::vector<NodeConfig> out = ExpandNodes(cfg, c.answers, c.last, c.max, &dropped);
    CHECK(Describe(out) == c.want);
    CHECK(dropped == c.dropped);
  }
  CHECK_FALSE(IsDnsName(cfg[0]));
  CHECK(IsDnsName(cfg[1]));
}

}  // namespace
}  // namespace halo::router
