// NetAddress: a resolved socket address (IPv4 or IPv6) for connect()/bind().
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "common/result.h"

namespace halo::net {

struct NetAddress {
  sockaddr_storage ss{};
  socklen_t len = 0;

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
  bool valid() const { return len > 0; }
  bool operator==(const NetAddress& o) const {
    return len == o.len && std::memcmp(&ss, &o.ss, len) == 0;
  }
};

// `host` as a numeric IPv4 or IPv6 address with `port`; nullopt when it is not numeric (a
// name: resolve it through net::Resolver, common/net/resolver.h).
std::optional<NetAddress> ParseNumericAddress(const std::string& host, uint16_t port);

// "ip" of a peer (for X-Forwarded-For); "" for non-IP families.
std::string IpString(const sockaddr* sa);
// "ip:port" ("[ip]:port" for IPv6) of a peer.
std::string HostPortString(const sockaddr* sa);

}  // namespace halo::net
