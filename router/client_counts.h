// ClientCounts: open client connections per client IP address, across all workers, for
// limits.max_connections_per_client. Thread-safe (a mutex: taken once per accept and once
// per close, only while the limit is on).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace halo::router {

class ClientCounts {
 public:
  // Counts one more connection from `ip` unless `ip` already has `limit`: false then.
  bool TryAdd(const std::string& ip, int64_t limit);
  // Uncounts one connection TryAdd counted.
  void Remove(const std::string& ip);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> open_;
};

}  // namespace halo::router
