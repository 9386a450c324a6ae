// The c-ares implementation of net::Resolver (common/net/resolver.h): DNS (and /etc/hosts)
// lookups without a thread per request. One private thread runs a c-ares channel: Resolve()
// queues the request and wakes it (eventfd); it starts ares_getaddrinfo, polls the channel's
// sockets with c-ares's own timeouts, and posts each answer, with the smallest record TTL,
// to the request's LoopTaskQueue. A numeric host never reaches the thread.
//
// Errors: NewAresResolver returns kInvalidArgument for a bad `servers` entry and kInternal
// when c-ares cannot start. Lookups fail as the seam says (kUnavailable "cannot resolve
// <host>: <c-ares reason>"), e.g. after `timeout_ms` x `tries` with no DNS server answering.
// Destruction stops the thread; answers not yet posted are dropped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/net/resolver.h"
#include "common/result.h"

namespace halo::net {

struct AresResolverOptions {
  // DNS servers as "ip" or "ip:port" ("[v6]:port"); empty: the system's (/etc/resolv.conf).
  std::vector<std::string> servers;
  int timeout_ms = 1000;  // per try
  int tries = 2;
};

Result<std::unique_ptr<Resolver>> NewAresResolver(const AresResolverOptions& options = {});

}  // namespace halo::net
