// ClusterView: the router's state machine for "who is up, who is active, where do writes go".
//
// Fed by parsed probe results (sys/health, sys/leader incl. the blocking leader-change query)
// and by passive signals from the data path (a connect failure). Reachability follows
// HAProxy's rise/fall: the first result decides an unknown node; afterwards `fall` failures in
// a row take an up node down and `rise` successes bring a down node back. A passive failure
// takes a node down at once. Roles (active / standby / sealed / uninitialised) come straight
// from the latest answer. A node's own sys/leader saying is_self=true makes it active at once
// (the push path); is_self=false demotes it. If two nodes claim active, the one that claimed
// last wins. Single-threaded (the control thread); time is not read here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "router/cluster_snapshot.h"
#include "router/health_info.h"
#include "router/router_config.h"

namespace halo::router {

class ClusterView {
 public:
  struct Change {
    bool changed = false;         // the snapshot differs from the previous one
    bool active_changed = false;  // snapshot active node differs (incl. to/from none)
    int old_active = -1;
    int new_active = -1;
    bool leader_report_changed = false;  // some node reports a different leader
  };

  ClusterView(const std::vector<NodeConfig>& nodes, const HealthCheckConfig& hc);

  // Replaces the node set (SIGHUP). Nodes with the same name and address keep their state.
  Change Reconfigure(const std::vector<NodeConfig>& nodes, const HealthCheckConfig& hc);

  Change OnHealth(size_t node, const Result<HealthInfo>& result);
  Change OnLeader(size_t node, const Result<LeaderInfo>& result);
  // A connect failure (or reset before any byte) seen by the data path.
  Change OnPassiveFailure(size_t node, std::string_view why);

  size_t size() const { return nodes_.size(); }
  const NodeConfig& node_config(size_t i) const { return nodes_[i].cfg; }
  std::shared_ptr<const ClusterSnapshot> snapshot() const { return snapshot_; }
  // Index of the configured node named `name`, or -1.
  int IndexOf(std::string_view name) const;

 private:
  enum class Reach : uint8_t { kUnknown, kUp, kDown };
  struct NodeState {
    NodeConfig cfg;
    int slot = 0;
    Reach reach = Reach::kUnknown;
    int ok_streak = 0;
    int fail_streak = 0;
    NodeRole role = NodeRole::kUnknown;
    int health_status = 0;
    uint64_t active_seq = 0;  // when it last became active (larger = more recent)
    std::string api_addr;
    std::string reported_leader;
    std::string last_error;
  };

  void RecordSuccess(NodeState* n);
  void RecordFailure(NodeState* n, std::string_view why, bool immediate);
  void SetRole(NodeState* n, NodeRole role);
  // Index of the configured node `leader` (a URL) refers to, or -1.
  int NodeForLeader(std::string_view leader) const;
  Change Rebuild(bool leader_report_changed);
  // The node's stable slot: its old one, a fresh one, or (after kMaxSlots distinct names)
  // one that no node in `taken` or in the config being applied holds.
  int SlotFor(const std::string& name, const std::vector<NodeState>& taken);

  HealthCheckConfig hc_;
  std::vector<NodeState> nodes_;
  std::map<std::string, int, std::less<>> slots_;
  std::vector<NodeConfig> pending_names_;  // the config Reconfigure() is applying
  uint64_t seq_ = 0;
  uint64_t version_ = 0;
  std::shared_ptr<const ClusterSnapshot> snapshot_;
};

}  // namespace halo::router
