// ExpandNodes: the node list the router works with, from the configured one and what DNS
// said. A node whose host is an IP is itself. A node whose host is a name is one node per
// address the name has (a Kubernetes headless service, a DNS round robin): with one address
// it keeps its configured name; with several, each is "<name>@<ip>" and addressed by IP, so
// an address that appears or disappears adds or drains just that node. A name that did not
// resolve this time keeps the addresses of its last good answer. Pure.
#pragma once

#include <optional>
#include <vector>

#include "common/net/net_address.h"
#include "router/router_config.h"

namespace halo::router {

inline constexpr size_t kMaxNodes = 32;  // as the config's `nodes` limit, after expansion too

// `answers[i]`: the addresses of configured[i].host (sorted or not), or nullopt when the
// lookup failed (or the host is numeric and needs none). `last_good[i]`: the previous good
// answer, used when answers[i] is nullopt. At most `max_nodes` come back (the rest are
// dropped, counted in *dropped).
std::vector<NodeConfig> ExpandNodes(
    const std::vector<NodeConfig>& configured,
    const std::vector<std::optional<std::vector<net::NetAddress>>>& answers,
    const std::vector<std::vector<net::NetAddress>>& last_good, size_t max_nodes, size_t* dropped);

// True when the host of `n` is a DNS name (not an IP literal).
bool IsDnsName(const NodeConfig& n);

}  // namespace halo::router
