// The getaddrinfo implementation of net::Resolver (common/net/resolver.h).
//
// getaddrinfo blocks, so it never runs on the caller's thread or on an event loop: a small,
// fixed set of lookup threads takes requests from a bounded FIFO queue and posts each answer
// to the request's LoopTaskQueue. A numeric host skips the threads (its answer is posted
// directly). When the queue is full, Resolve() answers kUnavailable ("resolver queue full")
// instead of waiting. Destruction stops the threads and joins them: it waits for the lookups
// in progress (at most one per thread, bounded by the system resolver's timeouts) and drops
// the queued ones without running their callbacks.
#pragma once

#include <cstddef>
#include <memory>

#include "common/net/resolver.h"

namespace halo::net {

struct GetaddrinfoResolverOptions {
  int threads = 2;           // lookup threads; at least 1
  size_t max_queued = 1024;  // requests waiting for a thread; at least 1
};

std::unique_ptr<Resolver> NewGetaddrinfoResolver(const GetaddrinfoResolverOptions& options = {});

}  // namespace halo::net
