#include "router/worker.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/logging.h"
#include "router/proxy_exchange.h"

namespace halo::router {

Worker::Worker(int id, Metrics* metrics, ControlSink* control)
    : id_(id),
      metrics_(metrics),
      control_(control),
      rng_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(id + 1))) {}

Worker::~Worker() {
  Join();
  CloseConnections();
  upstreams_.reset();
  listeners_.clear();
  admin_listener_.reset();
  if (queue_) queue_->Close();
  queue_.reset();
  if (base_) event_base_free(base_);
}

Status Worker::Init(const std::vector<ListenAddress>& listens, bool reuse_port,
                    std::shared_ptr<const RouteSettings> settings,
                    std::shared_ptr<const ClusterSnapshot> snapshot) {
  settings_ = std::move(settings);
  snapshot_ = std::move(snapshot);
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (!base_) return Status::Internal("event_base_new failed");
  ASSIGN_OR_RETURN(queue_, LoopTaskQueue::Create(base_));
  upstreams_ = std::make_unique<UpstreamConnector>(base_, &counters(), kMaxSlots,
                                                   settings_->limits.upstream_idle_per_node);

  timers_ = std::make_unique<EventTimerSource>(base_);
  for (size_t i = 0; i < listens.size(); ++i) {
    ASSIGN_OR_RETURN(
        std::unique_ptr<net::TcpListener> l,
        net::TcpListener::Create(
            base_, listens[i].addr, listens[i].name, 1024, reuse_port,
            [this, i](evutil_socket_t fd, const sockaddr* peer) { OnAccept(i, fd, peer); }));
    listeners_.push_back(std::move(l));
  }
  return Status::Ok();
}

Status Worker::InitAdmin(const net::NetAddress& addr, const std::string& name) {
  ASSIGN_OR_RETURN(admin_listener_,
                   net::TcpListener::Create(base_, addr, name, 64, false,
                                            [this](evutil_socket_t fd, const sockaddr* peer) {
                                              OnAdminAccept(fd, peer);
                                            }));
  return Status::Ok();
}

void Worker::OnAdminAccept(evutil_socket_t fd, const sockaddr* peer) {
  constexpr size_t kMaxAdminConnections = 64;  // operators and scrapers, not clients
  if (draining_ || admin_conns_.size() >= kMaxAdminConnections) {
    evutil_closesocket(fd);
    return;
  }
  std::shared_ptr<const http::ServerConnectionOptions> options(settings_, &settings_->server);
  admin_conns_.insert(new http::Http1ServerConnection(base_, timers_.get(), &admin_host_,
                                                      std::move(options), fd, peer));
}

std::unique_ptr<http::ServerExchange> Worker::AdminHost::NewExchange(http::Downstream* downstream) {
  return std::make_unique<ProxyExchange>(w_, downstream, ProxyExchange::Listener::kAdmin);
}

void Worker::AdminHost::OnConnectionClosed(http::ServerConnection* c) {
  w_->admin_conns_.erase(c);
  if (w_->draining_) w_->MaybeDrained();
}

void Worker::Start() {
  thread_ = std::thread([this] {
    sigset_t set;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // signals belong to the control thread
    event_base_dispatch(base_);
    CloseConnections();  // tear down on the loop's own thread
    upstreams_->Clear();
  });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Post(std::function<void()> fn) { (void)queue_->Post(std::move(fn)); }

void Worker::PublishSnapshot(std::shared_ptr<const ClusterSnapshot> snap) {
  Post([this, snap = std::move(snap)]() mutable { SetSnapshot(std::move(snap)); });
}

void Worker::PublishSettings(std::shared_ptr<const RouteSettings> settings) {
  Post([this, settings = std::move(settings)]() mutable {
    settings_ = std::move(settings);
    upstreams_->set_max_idle(settings_->limits.upstream_idle_per_node);
  });
}

void Worker::SoftStop() {
  Post([this] {
    stopping_ = true;
    // Accepted connections carry on through draining(); these close after what they do now.
    std::vector<http::ServerConnection*> conns;
    for (auto& [c, ip] : conns_) conns.push_back(c);
    for (http::ServerConnection* c : conns) c->BeginDrain();
  });
}

void Worker::Drain() {
  Post([this] {
    stopping_ = true;
    draining_ = true;
    listeners_.clear();
    admin_listener_.reset();
    std::vector<http::ServerConnection*> conns;
    for (auto& [c, ip] : conns_) conns.push_back(c);
    conns.insert(conns.end(), admin_conns_.begin(), admin_conns_.end());
    for (http::ServerConnection* c : conns) c->BeginDrain();
    MaybeDrained();
  });
}

void Worker::Stop() {
  Post([this] { event_base_loopexit(base_, nullptr); });
}

void Worker::OnAccept(size_t listener, evutil_socket_t fd, const sockaddr* peer) {
  RouterCounters& c = counters();
  if (draining_ ||
      c.connections_open.load(std::memory_order_relaxed) >= settings_->limits.max_connections) {
    c.connections_refused.fetch_add(1, std::memory_order_relaxed);
    evutil_closesocket(fd);
    return;
  }
  std::string counted;  // the client IP counted for max_connections_per_client
  if (int64_t per_client = settings_->limits.max_connections_per_client; per_client > 0) {
    counted = net::IpString(peer);
    if (!metrics_->client_counts().TryAdd(counted, per_client)) {
      c.connections_refused_per_client.fetch_add(1, std::memory_order_relaxed);
      evutil_closesocket(fd);  // as over max_connections
      return;
    }
  }
  c.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  c.connections_open.fetch_add(1, std::memory_order_relaxed);
  // The connection keeps the settings it was accepted with (its limits, timeouts and TLS).
  std::shared_ptr<const http::ServerConnectionOptions> options(
      settings_, listener < settings_->listener_server.size()
                     ? &settings_->listener_server[listener]
                     : &settings_->server);
  conns_.emplace(
      new http::Http1ServerConnection(base_, timers_.get(), this, std::move(options), fd, peer),
      std::move(counted));
}

std::unique_ptr<http::ServerExchange> Worker::NewExchange(http::Downstream* downstream) {
  return std::make_unique<ProxyExchange>(this, downstream, ProxyExchange::Listener::kClient);
}

void Worker::OnBadRequest(int status) {
  RouterCounters& c = counters();
  if (status == 431) {
    c.headers_too_large.fetch_add(1, std::memory_order_relaxed);
  } else if (status == 413) {
    c.bodies_too_large.fetch_add(1, std::memory_order_relaxed);
  } else {
    c.bad_requests.fetch_add(1, std::memory_order_relaxed);
  }
}

void Worker::OnTimeout() { counters().timeouts.fetch_add(1, std::memory_order_relaxed); }

void Worker::CloseConnections() {
  // Connections tell OnConnectionClosed() as they go; take a copy first.
  std::vector<http::ServerConnection*> conns;
  for (auto& [c, ip] : conns_) conns.push_back(c);
  conns.insert(conns.end(), admin_conns_.begin(), admin_conns_.end());
  for (http::ServerConnection* c : conns) delete c;
}

void Worker::SetSnapshot(std::shared_ptr<const ClusterSnapshot> snap) {
  // Drop pooled connections to nodes that are gone or no longer routable.
  for (const NodeView& n : snapshot_->nodes) {
    bool keep = false;
    for (const NodeView& m : snap->nodes) {
      if (m.slot == n.slot && m.routable && m.address == n.address) keep = true;
    }
    if (!keep) upstreams_->DropSlot(n.slot);
  }
  snapshot_ = std::move(snap);
  local_down_slots_ = 0;
  DispatchHeld();
}

void Worker::DispatchHeld() {
  if (held_.empty()) return;
  // In arrival order; a request that is still not routable keeps its place.
  std::vector<ProxyExchange*> held(held_.begin(), held_.end());
  for (ProxyExchange* x : held) {
    if (x->held()) x->Redispatch();
  }
}

void Worker::ReportConnectFailure(int slot, const std::string& node, const std::string& why) {
  if (slot >= 0 && slot < 64) local_down_slots_ |= uint64_t{1} << slot;
  counters().stale_signals.fetch_add(1, std::memory_order_relaxed);
  control_->PassiveFailure(node, why);
}

void Worker::ReportStale() {
  counters().stale_signals.fetch_add(1, std::memory_order_relaxed);
  control_->ProbeNow();
}

void Worker::Hold(ProxyExchange* x) { x->held_pos = held_.insert(held_.end(), x); }

void Worker::Unhold(ProxyExchange* x) { held_.erase(x->held_pos); }

void Worker::OnConnectionClosed(http::ServerConnection* c) {
  counters().connections_open.fetch_sub(1, std::memory_order_relaxed);
  auto it = conns_.find(c);
  if (it != conns_.end()) {
    if (!it->second.empty()) metrics_->client_counts().Remove(it->second);
    conns_.erase(it);
  }
  if (draining_) MaybeDrained();
}

void Worker::OnConnectionReplaced(http::ServerConnection* from, http::ServerConnection* to) {
  auto it = conns_.find(from);
  if (it == conns_.end()) return;
  std::string ip = std::move(it->second);
  conns_.erase(it);
  conns_.emplace(to, std::move(ip));
}

void Worker::AdminHost::OnConnectionReplaced(http::ServerConnection* from,
                                             http::ServerConnection* to) {
  w_->admin_conns_.erase(from);
  w_->admin_conns_.insert(to);
}

void Worker::MaybeDrained() {
  if (draining_ && conns_.empty() && admin_conns_.empty() && !drained_reported_) {
    drained_reported_ = true;
    control_->WorkerDrained(id_);
  }
}

}  // namespace halo::router
