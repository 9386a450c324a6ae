// BodyBudget: the request-body bytes a process has admitted and not yet finished with,
// across all its connections (and, in the router, all its worker threads), against one
// bound (the node's and the router's `limits.max_body_bytes_in_flight`). A server
// connection reserves a body's declared Content-Length at the head, before any body byte is
// read, and a chunked body's bytes as they arrive; the reservation is released when the
// exchange finishes or the connection goes away. A body that does not fit is refused (503 +
// Retry-After) instead of read. Thread-safe (atomics); the limit may change at any time (a
// router reload) and applies to new reservations.
#pragma once

#include <atomic>
#include <cstdint>

namespace halo::http {

class BodyBudget {
 public:
  explicit BodyBudget(uint64_t limit) : limit_(limit) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Takes `n` more bytes if in_flight() + n stays within the limit; false (nothing taken)
  // otherwise. n == 0 always succeeds.
  bool TryReserve(uint64_t n);
  // Gives back `n` bytes taken by TryReserve.
  void Release(uint64_t n);

  void set_limit(uint64_t limit) { limit_.store(limit, std::memory_order_relaxed); }
  uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  uint64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> limit_;
  std::atomic<uint64_t> in_flight_{0};
};

}  // namespace halo::http
