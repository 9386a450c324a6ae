#include "common/net/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace halo::net {

std::optional<NetAddress> ParseNumericAddress(const std::string& host, uint16_t port) {
  NetAddress a;
  sockaddr_in v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&a.ss, &v4, sizeof(v4));
    a.len = sizeof(v4);
    return a;
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&a.ss, &v6, sizeof(v6));
    a.len = sizeof(v6);
    return a;
  }
  return std::nullopt;
}

std::string IpString(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof(buf));
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

std::string HostPortString(const sockaddr* sa) {
  std::string ip = IpString(sa);
  if (sa->sa_family == AF_INET) {
    return ip + ":" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    return "[" + ip +
           "]:" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port));
  }
  return ip;
}

}  // namespace halo::net
