// Client authentication for the node API: one static root token (NodeConfig::root_token).
// The token comes in X-Vault-Token or "Authorization: Bearer <token>"; X-Vault-Token wins
// when both are sent, as in OpenBao.
#pragma once

#include <string_view>

namespace halo::node {

// The presented token (empty if none). Either argument may be empty (header absent).
std::string_view ClientToken(std::string_view x_vault_token, std::string_view authorization);

// Constant-time comparison of a presented token with the configured one; an empty
// presented token never matches.
bool TokenMatches(std::string_view presented, std::string_view expected);

}  // namespace halo::node
