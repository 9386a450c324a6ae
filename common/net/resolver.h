// Resolver: turns a host (numeric IPv4/IPv6 or a DNS name) and a port into socket addresses.
// Every place in halo that resolves a name goes through this seam; the implementation today
// is c-ares (common/net/ares_resolver.h) in the router, getaddrinfo on worker threads
// (common/net/getaddrinfo_resolver.h) elsewhere.
//
// Results: every A/AAAA address of the name, duplicates removed, in the order the system
// returned them (callers that need one address take the first). A numeric IP never causes a
// lookup.
//
// Errors: kInvalidArgument for an empty host or a port outside 0..65535; kUnavailable
// "cannot resolve <host>: <reason>" when the name has no address or the lookup failed (the
// resolver's queue being full is one such reason).
//
// Threading and ownership: Resolve() may be called from any thread. The callback runs on the
// loop of the LoopTaskQueue (common/loop_task_queue.h) the caller passes, never inside
// Resolve() (not even for a numeric host or an argument error). The returned Handle is the
// caller's: destroying it or calling Cancel() on the reply loop's thread guarantees the
// callback will not run afterwards (it is destroyed without running). If the reply queue is
// closed before the answer arrives, the callback is dropped the same way. The resolver must
// outlive its Resolve() calls but not the handles: a handle may be destroyed after the
// resolver. Destroying the resolver waits for the lookups in progress and drops the answers
// that were not yet posted.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/loop_task_queue.h"
#include "common/net/net_address.h"
#include "common/result.h"

namespace halo::net {

// What a lookup found: the addresses and, when the implementation knows it, the smallest
// TTL of the records (seconds; -1 unknown, e.g. getaddrinfo or a numeric host).
struct Resolution {
  std::vector<NetAddress> addrs;
  int ttl_s = -1;
};

class Resolver {
 public:
  using Callback = std::function<void(Result<std::vector<NetAddress>>)>;
  using TtlCallback = std::function<void(Result<Resolution>)>;

  // One outstanding Resolve(). Destroying it cancels (see the header paragraph).
  class Handle {
   public:
    virtual ~Handle() = default;
    // Reply loop's thread only. Idempotent; after it returns the callback never runs.
    virtual void Cancel() = 0;
  };

  virtual ~Resolver() = default;

  // Starts resolving `host`:`port`; `callback` later runs once on `reply`'s loop with the
  // addresses or an error, unless cancelled. REQUIRES: `reply` is not null. Never returns null.
  virtual std::unique_ptr<Handle> ResolveWithTtl(const std::string& host, int port,
                                                 std::shared_ptr<LoopTaskQueue> reply,
                                                 TtlCallback callback) = 0;
  // The same, for callers that need only the addresses.
  std::unique_ptr<Handle> Resolve(const std::string& host, int port,
                                  std::shared_ptr<LoopTaskQueue> reply, Callback callback);
};

// Blocking: resolves through `resolver` and waits for the answer on a private event loop.
// For startup and bind paths that run before any loop serves; never call it on a thread
// whose loop is serving (it blocks that thread for as long as the lookup takes).
Result<std::vector<NetAddress>> ResolveBlocking(Resolver& resolver, const std::string& host,
                                                int port);

// ResolveBlocking's first address (binding a listener, a node's address at startup).
Result<NetAddress> ResolveHostPort(Resolver& resolver, const std::string& host, int port);

}  // namespace halo::net
