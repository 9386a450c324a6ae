#include "common/net/resolver.h"

#include <event2/event.h>

#include <optional>
#include <utility>

namespace halo::net {

std::unique_ptr<Resolver::Handle> Resolver::Resolve(const std::string& host, int port,
                                                    std::shared_ptr<LoopTaskQueue> reply,
                                                    Callback callback) {
  return ResolveWithTtl(host, port, std::move(reply),
                        [cb = std::move(callback)](Result<Resolution> r) {
                          if (!r.ok()) return cb(r.status());
                          cb(std::move(r->addrs));
                        });
}

Result<std::vector<NetAddress>> ResolveBlocking(Resolver& resolver, const std::string& host,
                                                int port) {
  event_base* base = event_base_new();
  if (base == nullptr) return Status::Internal("event_base_new failed");
  Result<std::shared_ptr<LoopTaskQueue>> queue = LoopTaskQueue::Create(base);
  if (!queue.ok()) {
    event_base_free(base);
    return queue.status();
  }
  std::optional<Result<std::vector<NetAddress>>> answer;
  std::unique_ptr<Resolver::Handle> handle = resolver.Resolve(
      host, port, *queue,
      [&answer](Result<std::vector<NetAddress>> r) { answer.emplace(std::move(r)); });
  // The queue's eventfd stays registered, so each iteration blocks until a task arrives.
  while (!answer.has_value()) {
    if (event_base_loop(base, EVLOOP_ONCE) < 0) {
      answer.emplace(Status::Internal("event_base_loop failed resolving " + host));
    }
  }
  handle.reset();
  (*queue)->Close();
  queue->reset();
  event_base_free(base);
  return std::move(*answer);
}

Result<NetAddress> ResolveHostPort(Resolver& resolver, const std::string& host, int port) {
  ASSIGN_OR_RETURN(std::vector<NetAddress> all, ResolveBlocking(resolver, host, port));
  if (all.empty()) return Status::Unavailable("cannot resolve " + host + ": no address");
  return all.front();
}

}  // namespace halo::net
