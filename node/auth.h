// Authentication for the node API: clients present one static root token
// (NodeConfig::root_token) in X-Vault-Token or "Authorization: Bearer <token>"
// (X-Vault-Token wins when both are sent, as in OpenBao); nodes prove to each other that a
// request was forwarded by a node with the hop marker's value (HopMarker), which only
// holders of the cluster secret can compute. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace halo::node {

// The presented token (empty if none). Either argument may be empty (header absent).
std::string_view ClientToken(std::string_view x_vault_token, std::string_view authorization);

// Constant-time comparison of a presented token with the configured one; an empty
// presented token never matches.
bool TokenMatches(std::string_view presented, std::string_view expected);

// The value a forwarding node puts in X-Halo-Forwarded (node/forwarder.h): hex
// HMAC-SHA256 of a fixed label under the cluster secret, so the secret itself never goes
// on the wire. `cluster_secret` empty: derived from `root_token` (both nodes have it).
// A receiver honours the marker only if TokenMatches(presented, HopMarker(...)).
std::string HopMarker(std::string_view cluster_secret, std::string_view root_token);

}  // namespace halo::node
