#include "router/worker.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/logging.h"
#include "router/http1_connection.h"
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
  // Connections delete themselves through ConnClosed(); take a copy first.
  std::vector<Http1Connection*> conns(conns_.begin(), conns_.end());
  for (Http1Connection* c : conns) delete c;
  pool_.reset();
  if (listener_) evconnlistener_free(listener_);
  if (queue_) queue_->Close();
  queue_.reset();
  if (base_) event_base_free(base_);
}

Status Worker::Init(const std::string& host, uint16_t port, bool reuse_port,
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
  pool_ = std::make_unique<http::UpstreamPool>(kMaxSlots, settings_->limits.upstream_idle_per_node);

  Result<net::NetAddress> addr = net::ResolveHostPort(host, port);
  if (!addr.ok()) return addr.status().Annotate("listener");
  int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, addr->sa(), addr->len) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno("bind " + host + ":" + std::to_string(port), err);
  }
  if (listen(fd, 1024) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno("listen", err);
  }
  listener_ = evconnlistener_new(base_, &Worker::OnAccept, this,
                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
  if (!listener_) {
    close(fd);
    return Status::Internal("evconnlistener_new failed");
  }
  return Status::Ok();
}

void Worker::Start() {
  thread_ = std::thread([this] {
    sigset_t set;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // signals belong to the control thread
    event_base_dispatch(base_);
    // Tear down on the loop's own thread.
    std::vector<Http1Connection*> conns(conns_.begin(), conns_.end());
    for (Http1Connection* c : conns) delete c;
    pool_->Clear();
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
    pool_->set_max_idle(settings_->limits.upstream_idle_per_node);
  });
}

void Worker::Drain() {
  Post([this] {
    draining_ = true;
    if (listener_) {
      evconnlistener_free(listener_);
      listener_ = nullptr;
    }
    std::vector<Http1Connection*> conns(conns_.begin(), conns_.end());
    for (Http1Connection* c : conns) c->BeginDrain();
    MaybeDrained();
  });
}

void Worker::Stop() {
  Post([this] { event_base_loopexit(base_, nullptr); });
}

void Worker::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  RouterCounters& c = self->counters();
  if (self->draining_ || c.connections_open.load(std::memory_order_relaxed) >=
                             self->settings_->limits.max_connections) {
    c.connections_refused.fetch_add(1, std::memory_order_relaxed);
    evutil_closesocket(fd);
    return;
  }
  c.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  auto* conn = new Http1Connection(self, fd, addr);
  self->conns_.insert(conn);
}

void Worker::SetSnapshot(std::shared_ptr<const ClusterSnapshot> snap) {
  // Drop pooled connections to nodes that are gone or no longer routable.
  for (const NodeView& n : snapshot_->nodes) {
    bool keep = false;
    for (const NodeView& m : snap->nodes) {
      if (m.slot == n.slot && m.routable && m.address == n.address) keep = true;
    }
    if (!keep) pool_->DropSlot(n.slot);
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

void Worker::ConnClosed(Http1Connection* c) {
  conns_.erase(c);
  if (draining_) MaybeDrained();
}

void Worker::MaybeDrained() {
  if (draining_ && conns_.empty() && !drained_reported_) {
    drained_reported_ = true;
    control_->WorkerDrained(id_);
  }
}

}  // namespace halo::router
