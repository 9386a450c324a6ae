#include "router/controller.h"

#include <event2/event.h>

#include "common/logging.h"
#include "common/time_util.h"
#include "router/health_info.h"

namespace halo::router {
namespace {

std::string WaitParam(int64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

http::HttpClientOptions ProbeClientOptions(std::shared_ptr<const net::TlsContext> tls) {
  http::HttpClientOptions o;
  o.tls = std::move(tls);
  o.parser.max_header_bytes = 64 * 1024;
  o.parser.max_body_bytes = 1 << 20;
  o.max_idle_per_peer = 4;
  return o;
}

Result<http::Response> ToResult(http::ClientResult r) {
  if (!r.ok()) return r.status;
  return std::move(r.response);
}

}  // namespace

Controller::Controller(event_base* base, const RouterConfig& cfg, Metrics* metrics, Publish publish,
                       std::shared_ptr<const net::TlsContext> upstream_tls)
    : base_(base),
      metrics_(metrics),
      publish_(std::move(publish)),
      hc_(cfg.health),
      nodes_(cfg.nodes),
      view_(cfg.nodes, cfg.health),
      client_(
          std::make_unique<http::HttpClient>(base, ProbeClientOptions(std::move(upstream_tls)))) {
  BuildProbes();
}

Controller::~Controller() { FreeProbes(); }

std::unique_ptr<Controller::NodeProbe> Controller::NewProbe(const NodeConfig& n) {
  auto p = std::make_unique<NodeProbe>();
  p->owner = this;
  p->serial = next_serial_++;
  p->name = n.name;
  p->addr = n.resolved;
  p->host_header = n.address;
  p->health_timer = evtimer_new(base_, &Controller::OnHealthTimer, p.get());
  p->leader_timer = evtimer_new(base_, &Controller::OnLeaderTimer, p.get());
  return p;
}

void Controller::BuildProbes() {
  for (const NodeConfig& n : nodes_) probes_.push_back(NewProbe(n));
}

void Controller::FreeProbe(NodeProbe* p) {
  p->health = p->leader = 0;  // results still in flight are dropped
  if (p->health_timer) event_free(p->health_timer);
  if (p->leader_timer) event_free(p->leader_timer);
  p->health_timer = p->leader_timer = nullptr;
}

void Controller::FreeProbes() {
  for (auto& p : probes_) FreeProbe(p.get());
  probes_.clear();
}

Controller::NodeProbe* Controller::FindProbe(uint64_t serial) const {
  for (const auto& p : probes_) {
    if (p->serial == serial) return p.get();
  }
  return nullptr;
}

void Controller::Start() {
  started_ = true;
  for (auto& p : probes_) {
    StartHealth(p.get());
    if (hc_.leader_watch) StartLeader(p.get());
  }
}

void Controller::Stop() {
  stopped_ = true;
  FreeProbes();
  client_.reset();  // closes every probe connection; pending results are dropped
}

void Controller::Reconfigure(const RouterConfig& cfg) {
  // Keep the probes of nodes whose name and address did not change.
  std::vector<std::unique_ptr<NodeProbe>> old = std::move(probes_);
  probes_.clear();
  hc_ = cfg.health;
  nodes_ = cfg.nodes;
  for (const NodeConfig& n : nodes_) {
    std::unique_ptr<NodeProbe> kept;
    for (auto& o : old) {
      if (o && o->name == n.name && o->host_header == n.address) {
        kept = std::move(o);
        break;
      }
    }
    if (!kept) kept = NewProbe(n);
    kept->addr = n.resolved;
    probes_.push_back(std::move(kept));
  }
  for (auto& o : old) {
    if (o) FreeProbe(o.get());
  }
  Apply(view_.Reconfigure(nodes_, hc_));
  if (!started_) return;
  for (auto& p : probes_) {
    if (!p->health) StartHealth(p.get());
    if (hc_.leader_watch && !p->leader) StartLeader(p.get());
    if (!hc_.leader_watch) {
      p->leader = 0;  // cancelled: its result will be dropped
      evtimer_del(p->leader_timer);
    }
  }
}

int Controller::IndexOf(const NodeProbe* p) const {
  for (size_t i = 0; i < probes_.size(); ++i) {
    if (probes_[i].get() == p) return static_cast<int>(i);
  }
  return -1;
}

void Controller::ScheduleHealth(NodeProbe* p, int64_t ms) {
  timeval tv = TimevalFromMillis(ms);
  evtimer_add(p->health_timer, &tv);
}

void Controller::ScheduleLeader(NodeProbe* p, int64_t ms) {
  timeval tv = TimevalFromMillis(ms);
  evtimer_add(p->leader_timer, &tv);
}

void Controller::OnHealthTimer(int, short, void* arg) {
  auto* p = static_cast<NodeProbe*>(arg);
  p->owner->StartHealth(p);
}

void Controller::OnLeaderTimer(int, short, void* arg) {
  auto* p = static_cast<NodeProbe*>(arg);
  p->owner->StartLeader(p);
}

void Controller::StartHealth(NodeProbe* p) {
  if (stopped_) return;
  if (p->health) {
    p->probe_again = true;
    return;
  }
  evtimer_del(p->health_timer);
  p->probe_again = false;
  SendProbe(p, "/v1/sys/health", hc_.timeout_ms, false);
}

void Controller::SendProbe(NodeProbe* p, const std::string& path, int64_t timeout_ms, bool leader) {
  if (!client_) return;
  uint64_t seq = next_seq_++;
  (leader ? p->leader : p->health) = seq;
  http::ClientRequest req;
  req.target = path;
  req.headers.Add("User-Agent", "halo-router");
  uint64_t serial = p->serial;
  client_->Send(p->addr, p->host_header, std::move(req), timeout_ms,
                [this, serial, seq, leader](http::ClientResult r) {
                  NodeProbe* q = FindProbe(serial);
                  if (q == nullptr || (leader ? q->leader : q->health) != seq) return;  // stale
                  (leader ? q->leader : q->health) = 0;
                  if (leader) {
                    OnLeaderResult(q, ToResult(std::move(r)));
                  } else {
                    OnHealthResult(q, ToResult(std::move(r)));
                  }
                });
}

void Controller::OnHealthResult(NodeProbe* p, Result<http::Response> r) {
  int i = IndexOf(p);
  if (i < 0) return;
  Result<HealthInfo> h =
      r.ok() ? ParseHealthResponse(r->status, r->body) : Result<HealthInfo>(r.status());
  Apply(view_.OnHealth(static_cast<size_t>(i), h));
  if (p->probe_again) {
    p->probe_again = false;
    ScheduleHealth(p, 0);
  } else {
    ScheduleHealth(p, hc_.interval_ms);
  }
}

void Controller::StartLeader(NodeProbe* p) {
  if (stopped_ || p->leader) return;
  evtimer_del(p->leader_timer);
  std::string path = "/v1/sys/leader";
  int64_t timeout = hc_.timeout_ms;
  if (p->leader_index >= 0) {
    path += "?index=" + std::to_string(p->leader_index) + "&wait=" + WaitParam(hc_.leader_wait_ms);
    timeout += hc_.leader_wait_ms + 1000;
  }
  SendProbe(p, path, timeout, true);
}

void Controller::OnLeaderResult(NodeProbe* p, Result<http::Response> r) {
  int i = IndexOf(p);
  if (i < 0) return;
  Result<LeaderInfo> l =
      r.ok() ? ParseLeaderResponse(r->status, r->body) : Result<LeaderInfo>(r.status());
  ClusterView::Change c = view_.OnLeader(static_cast<size_t>(i), l);
  Apply(c);
  if (c.leader_report_changed) ProbeAllNow();  // confirm the new roles at once
  if (!l.ok()) {
    p->leader_index = -1;
    ScheduleLeader(p, hc_.interval_ms);
  } else if (l->index >= 0) {
    p->leader_index = l->index;
    ScheduleLeader(p, 0);  // next blocking query right away
  } else {
    p->leader_index = -1;  // the node does not support blocking: poll
    ScheduleLeader(p, hc_.interval_ms);
  }
}

void Controller::OnPassiveFailure(const std::string& node, const std::string& why) {
  int i = view_.IndexOf(node);
  if (i < 0) return;
  Apply(view_.OnPassiveFailure(static_cast<size_t>(i), why));
  ProbeAllNow();
}

void Controller::ProbeAllNow() {
  for (auto& p : probes_) StartHealth(p.get());
}

void Controller::Apply(const ClusterView::Change& c) {
  if (!c.changed) return;
  std::shared_ptr<const ClusterSnapshot> snap = view_.snapshot();
  if (c.active_changed) {
    std::string now = snap->active >= 0 ? snap->nodes[snap->active].name : "";
    if (!now.empty() && !last_active_.empty() && now != last_active_) {
      metrics_->counters().failovers.fetch_add(1, std::memory_order_relaxed);
    }
    if (!now.empty()) last_active_ = now;
    LOG_INFO("active node: %s", now.empty() ? "(none)" : now.c_str());
  }
  for (const NodeView& n : snap->nodes) {
    LOG_DEBUG("node %s: %s%s%s", n.name.c_str(), NodeRoleName(n.role), n.up ? "" : " (down)",
              n.last_error.empty() ? "" : (" " + n.last_error).c_str());
  }
  publish_(std::move(snap));
}

}  // namespace halo::router
