#include "node/auth.h"

#include <openssl/crypto.h>
#include <strings.h>

namespace halo::node {

std::string_view ClientToken(std::string_view x_vault_token, std::string_view authorization) {
  if (!x_vault_token.empty()) return x_vault_token;
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() > kBearer.size() &&
      strncasecmp(authorization.data(), kBearer.data(), kBearer.size()) == 0) {
    std::string_view token = authorization.substr(kBearer.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    return token;
  }
  return {};
}

bool TokenMatches(std::string_view presented, std::string_view expected) {
  if (presented.empty() || presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), presented.size()) == 0;
}

}  // namespace halo::node
