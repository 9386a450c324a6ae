#include "router/cluster_view.h"

#include <algorithm>

namespace halo::router {

ClusterView::ClusterView(const std::vector<NodeConfig>& nodes, const HealthCheckConfig& hc) {
  Reconfigure(nodes, hc);
}

int ClusterView::SlotFor(const std::string& name, const std::vector<NodeState>& taken) {
  auto it = slots_.find(name);
  if (it != slots_.end()) return it->second;
  int slot = static_cast<int>(slots_.size());
  if (slot >= kMaxSlots) {
    // Out of fresh slots after many reloads with new names: reuse the lowest slot no
    // configured node holds (its old counters carry over to the new name).
    std::vector<bool> used(kMaxSlots, false);
    for (const NodeState& n : taken) used[n.slot] = true;
    for (const NodeConfig& c : pending_names_) {
      auto p = slots_.find(c.name);
      if (p != slots_.end()) used[p->second] = true;
    }
    slot = 0;
    while (slot < kMaxSlots && used[slot]) ++slot;
    for (auto e = slots_.begin(); e != slots_.end(); ++e) {
      if (e->second == slot) {
        slots_.erase(e);
        break;
      }
    }
  }
  slots_.emplace(name, slot);
  return slot;
}

ClusterView::Change ClusterView::Reconfigure(const std::vector<NodeConfig>& nodes,
                                             const HealthCheckConfig& hc) {
  hc_ = hc;
  pending_names_ = nodes;
  std::vector<NodeState> next;
  next.reserve(nodes.size());
  for (const NodeConfig& cfg : nodes) {
    auto old = std::find_if(nodes_.begin(), nodes_.end(), [&](const NodeState& n) {
      return n.cfg.name == cfg.name && n.cfg.address == cfg.address;
    });
    if (old != nodes_.end()) {
      next.push_back(std::move(*old));
      next.back().cfg = cfg;
    } else {
      NodeState n;
      n.cfg = cfg;
      n.slot = SlotFor(cfg.name, next);
      next.push_back(std::move(n));
    }
  }
  nodes_ = std::move(next);
  pending_names_.clear();
  return Rebuild(true);
}

int ClusterView::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].cfg.name == name) return static_cast<int>(i);
  }
  return -1;
}

void ClusterView::RecordSuccess(NodeState* n) {
  n->fail_streak = 0;
  ++n->ok_streak;
  n->last_error.clear();
  if (n->reach == Reach::kUnknown || (n->reach == Reach::kDown && n->ok_streak >= hc_.rise)) {
    n->reach = Reach::kUp;
  }
}

void ClusterView::RecordFailure(NodeState* n, std::string_view why, bool immediate) {
  n->ok_streak = 0;
  ++n->fail_streak;
  n->last_error.assign(why);
  if (immediate || n->reach == Reach::kUnknown ||
      (n->reach == Reach::kUp && n->fail_streak >= hc_.fall)) {
    n->reach = Reach::kDown;
  }
}

void ClusterView::SetRole(NodeState* n, NodeRole role) {
  if (role == NodeRole::kActive && n->role != NodeRole::kActive) n->active_seq = ++seq_;
  n->role = role;
}

ClusterView::Change ClusterView::OnHealth(size_t i, const Result<HealthInfo>& r) {
  if (i >= nodes_.size()) return {};
  NodeState& n = nodes_[i];
  if (!r.ok()) {
    RecordFailure(&n, r.status().message(), false);
    return Rebuild(false);
  }
  RecordSuccess(&n);
  n.health_status = r->status;
  SetRole(&n, r->role);
  return Rebuild(false);
}

ClusterView::Change ClusterView::OnLeader(size_t i, const Result<LeaderInfo>& r) {
  if (i >= nodes_.size()) return {};
  NodeState& n = nodes_[i];
  if (!r.ok()) {
    // A failed leader query says nothing about reachability (health probes decide that),
    // but the node's report is no longer current.
    bool changed = !n.reported_leader.empty();
    n.reported_leader.clear();
    return Rebuild(changed);
  }
  bool changed = n.reported_leader != r->leader_address;
  n.reported_leader = r->leader_address;
  if (r->is_self && !r->leader_address.empty()) {
    n.api_addr = r->leader_address;
    // Push path: the node says it is the active. Trust it if we can talk to it and it is
    // not known to be sealed or uninitialised.
    if (n.reach != Reach::kDown && n.role != NodeRole::kSealed &&
        n.role != NodeRole::kUninitialized) {
      if (n.reach == Reach::kUnknown) RecordSuccess(&n);
      SetRole(&n, NodeRole::kActive);
    }
  } else if (n.role == NodeRole::kActive) {
    SetRole(&n, NodeRole::kStandby);  // it no longer holds the lock
  }
  return Rebuild(changed);
}

ClusterView::Change ClusterView::OnPassiveFailure(size_t i, std::string_view why) {
  if (i >= nodes_.size()) return {};
  RecordFailure(&nodes_[i], why, true);
  return Rebuild(false);
}

int ClusterView::NodeForLeader(std::string_view leader) const {
  if (leader.empty()) return -1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].api_addr.empty() && nodes_[i].api_addr == leader) return static_cast<int>(i);
  }
  std::string authority = AuthorityOf(leader);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].cfg.address == authority) return static_cast<int>(i);
  }
  return -1;
}

ClusterView::Change ClusterView::Rebuild(bool leader_report_changed) {
  auto snap = std::make_shared<ClusterSnapshot>();
  snap->nodes.reserve(nodes_.size());
  int active = -1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& n = nodes_[i];
    NodeView v;
    v.name = n.cfg.name;
    v.host = n.cfg.host;
    v.port = n.cfg.port;
    v.address = n.cfg.address;
    v.resolved = n.cfg.resolved;
    v.slot = n.slot;
    v.role = n.role;
    v.up = n.reach == Reach::kUp;
    v.routable = v.up && (n.role == NodeRole::kActive || n.role == NodeRole::kStandby);
    v.health_status = n.health_status;
    v.api_addr = n.api_addr;
    v.last_error = n.last_error;
    if (v.routable && n.role == NodeRole::kActive &&
        (active < 0 || n.active_seq > nodes_[active].active_seq)) {
      active = static_cast<int>(i);
    }
    snap->nodes.push_back(std::move(v));
  }
  snap->active = active;
  if (active >= 0) {
    const NodeState& a = nodes_[active];
    snap->redirect_addr = a.api_addr.empty() ? "http://" + a.cfg.address : a.api_addr;
  } else {
    // The leader most up nodes report (ties: the first such node's report).
    std::string best;
    int best_votes = 0;
    for (const NodeState& n : nodes_) {
      if (n.reach != Reach::kUp || n.reported_leader.empty()) continue;
      int votes = 0;
      for (const NodeState& m : nodes_) {
        if (m.reach == Reach::kUp && m.reported_leader == n.reported_leader) ++votes;
      }
      if (votes > best_votes) best = n.reported_leader, best_votes = votes;
    }
    int idx = NodeForLeader(best);
    if (!best.empty() && idx < 0) {
      snap->redirect_addr = best;
      snap->leader_outside = true;
    } else if (idx >= 0) {
      // One of ours whose role is not confirmed yet, or which the router cannot reach.
      snap->redirect_addr = best;
      snap->leader_down = !snap->nodes[idx].up;
    }
  }
  for (size_t i = 0; i < snap->nodes.size(); ++i) {
    const NodeView& v = snap->nodes[i];
    if (!v.routable) continue;
    snap->routable.push_back(static_cast<int>(i));
    if (v.role == NodeRole::kStandby) snap->standbys.push_back(static_cast<int>(i));
  }

  Change c;
  c.leader_report_changed = leader_report_changed;
  c.old_active = snapshot_ ? snapshot_->active : -1;
  c.new_active = active;
  bool same = snapshot_ && snapshot_->active == snap->active &&
              snapshot_->redirect_addr == snap->redirect_addr &&
              snapshot_->leader_outside == snap->leader_outside &&
              snapshot_->leader_down == snap->leader_down &&
              snapshot_->nodes.size() == snap->nodes.size();
  if (same) {
    for (size_t i = 0; i < snap->nodes.size() && same; ++i) {
      const NodeView& a = snapshot_->nodes[i];
      const NodeView& b = snap->nodes[i];
      same = a.name == b.name && a.address == b.address && a.role == b.role && a.up == b.up &&
             a.routable == b.routable && a.health_status == b.health_status &&
             a.api_addr == b.api_addr && a.last_error == b.last_error;
    }
  }
  c.changed = !same;
  std::string old_name =
      snapshot_ && snapshot_->active >= 0 ? snapshot_->nodes[snapshot_->active].name : "";
  std::string new_name = active >= 0 ? snap->nodes[active].name : "";
  c.active_changed = old_name != new_name;
  if (c.changed) {
    snap->version = ++version_;
    snapshot_ = std::move(snap);
  }
  return c;
}

}  // namespace halo::router
