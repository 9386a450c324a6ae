// DnsRefresher: keeps the router's node set in step with DNS. Nodes whose address is a name
// are looked up again every `refresh` (sooner when the records' TTL is shorter, never more
// often than once a second) through the Resolver seam, asynchronously: the answers come back
// on the control loop. Each answer set is expanded by ExpandNodes (router/node_expansion.h);
// when the result differs from the last one, `on_change` gets it (the controller then adds
// the new nodes and drains the ones that went). While a name does not resolve its last good
// addresses stay, and that is logged once per outage.
//
// Ownership and threading: control loop only; `base`, `reply` and `resolver` outlive it.
// Destroying it cancels the lookups in flight.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/loop_task_queue.h"
#include "common/net/resolver.h"
#include "router/router_config.h"

namespace halo::router {

class DnsRefresher {
 public:
  using OnChange = std::function<void(std::vector<NodeConfig> expanded)>;

  DnsRefresher(event_base* base, std::shared_ptr<LoopTaskQueue> reply, net::Resolver* resolver,
               OnChange on_change);
  ~DnsRefresher();
  DnsRefresher(const DnsRefresher&) = delete;
  DnsRefresher& operator=(const DnsRefresher&) = delete;

  // Blocking (startup and reload, before or beside the loops): every name's addresses;
  // fails naming the first node whose name does not resolve. Fills `answers` per node.
  static Result<std::vector<NodeConfig>> ExpandBlocking(
      net::Resolver& resolver, const std::vector<NodeConfig>& configured,
      std::vector<std::vector<net::NetAddress>>* answers);

  // The configured nodes and the answers they were expanded from (startup, each reload),
  // and the refresh period; cancels a refresh in flight and schedules the next.
  void Reset(std::vector<NodeConfig> configured, std::vector<std::vector<net::NetAddress>> answers,
             int64_t refresh_ms, std::vector<NodeConfig> expanded);

 private:
  static void OnTimer(evutil_socket_t, short, void* arg);
  void Refresh();
  void OnAnswer(size_t i, Result<net::Resolution> r);
  void Finish();
  void Schedule(int64_t ms);

  event_base* base_;
  std::shared_ptr<LoopTaskQueue> reply_;
  net::Resolver* resolver_;
  OnChange on_change_;
  event* timer_ = nullptr;
  int64_t refresh_ms_ = 5000;
  std::vector<NodeConfig> configured_;
  std::vector<std::vector<net::NetAddress>> last_good_;  // per configured node
  std::vector<bool> failing_;                            // per configured node: logged once
  std::vector<NodeConfig> expanded_;                     // what on_change last saw
  // The refresh in flight.
  std::vector<std::unique_ptr<net::Resolver::Handle>> lookups_;
  std::vector<std::optional<std::vector<net::NetAddress>>> answers_;
  size_t remaining_ = 0;
  int min_ttl_s_ = -1;
};

}  // namespace halo::router
