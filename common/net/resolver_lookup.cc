#include "common/net/resolver_lookup.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace halo::net::internal {

std::shared_ptr<Lookup> NewLookup(const std::string& host, int port,
                                  std::shared_ptr<LoopTaskQueue> reply,
                                  Resolver::TtlCallback callback) {
  auto lookup = std::make_shared<Lookup>();
  lookup->host = host;
  lookup->port = port;
  lookup->reply = std::move(reply);
  lookup->callback = std::move(callback);
  return lookup;
}

void Answer(const std::shared_ptr<Lookup>& lookup, Result<Resolution> result) {
  (void)lookup->reply->Post([lookup, result = std::move(result)]() mutable {
    if (lookup->cancelled.load(std::memory_order_acquire) || !lookup->callback) return;
    Resolver::TtlCallback cb = std::move(lookup->callback);
    lookup->callback = nullptr;
    cb(std::move(result));
  });
}

bool AnswerWithoutLookup(const std::shared_ptr<Lookup>& lookup) {
  const std::string& host = lookup->host;
  if (host.empty()) {
    Answer(lookup, Status::InvalidArgument("cannot resolve an empty host"));
    return true;
  }
  if (lookup->port < 0 || lookup->port > 65535) {
    Answer(lookup, Status::InvalidArgument("cannot resolve " + host + ": port " +
                                           std::to_string(lookup->port) + " out of range"));
    return true;
  }
  if (std::optional<NetAddress> numeric =
          ParseNumericAddress(host, static_cast<uint16_t>(lookup->port))) {
    Answer(lookup, Resolution{{*numeric}, -1});
    return true;
  }
  return false;
}

void AddUnique(std::vector<NetAddress>* out, const NetAddress& a) {
  bool seen = std::any_of(out->begin(), out->end(), [&a](const NetAddress& b) {
    return a.len == b.len && std::memcmp(&a.ss, &b.ss, a.len) == 0;
  });
  if (!seen) out->push_back(a);
}

}  // namespace halo::net::internal
