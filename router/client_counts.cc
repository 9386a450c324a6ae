#include "router/client_counts.h"

namespace halo::router {

bool ClientCounts::TryAdd(const std::string& ip, int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t& n = open_[ip];
  if (n >= limit) {
    if (n == 0) open_.erase(ip);
    return false;
  }
  ++n;
  return true;
}

void ClientCounts::Remove(const std::string& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(ip);
  if (it != open_.end() && --it->second <= 0) open_.erase(it);
}

}  // namespace halo::router
