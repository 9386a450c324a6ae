#include "node/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

#include "common/hex.h"

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

std::string HopMarker(std::string_view cluster_secret, std::string_view root_token) {
  // Distinct labels: the derived key is never the root token itself.
  std::string key = cluster_secret.empty() ? "halo-cluster-secret:" + std::string(root_token)
                                           : std::string(cluster_secret);
  constexpr std::string_view kLabel = "X-Halo-Forwarded v1";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac,
           &len) == nullptr) {
    return {};  // never matches (TokenMatches refuses empty)
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

}  // namespace halo::node
