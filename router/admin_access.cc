#include "router/admin_access.h"

#include <openssl/crypto.h>
#include <strings.h>

namespace halo::router {
namespace {

std::string_view Presented(const http::Headers& headers) {
  std::string_view v = headers.Get("X-Halo-Admin-Token").value_or("");
  if (!v.empty()) return v;
  std::string_view auth = headers.Get("Authorization").value_or("");
  constexpr std::string_view kBearer = "bearer ";
  if (auth.size() <= kBearer.size() || strncasecmp(auth.data(), kBearer.data(), kBearer.size())) {
    return {};
  }
  auth.remove_prefix(kBearer.size());
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  return auth;
}

}  // namespace

bool AdminAccessAllowed(const http::Headers& headers, std::string_view token) {
  if (token.empty()) return true;
  std::string_view got = Presented(headers);
  if (got.size() != token.size()) return false;
  return CRYPTO_memcmp(got.data(), token.data(), token.size()) == 0;
}

}  // namespace halo::router
