#include "router/router_server.h"

#include <event2/event.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <utility>

#include "common/logging.h"
#include "common/net/ares_resolver.h"
#include "common/net/tls_context.h"
#include "common/time_util.h"
#include "router/dns_refresher.h"
#include "router/node_expansion.h"
#include "router/route_settings.h"

namespace halo::router {

struct RouterServer::PendingReload {
  RouterConfig cfg;
  std::vector<std::unique_ptr<net::Resolver::Handle>> lookups;  // one per node
  std::vector<Status> errors;                                   // per node; OK when resolved
  std::vector<std::vector<net::NetAddress>> answers;            // per node
  size_t remaining = 0;
};

Result<std::unique_ptr<RouterServer>> RouterServer::Create(
    const std::string& config_path, std::unique_ptr<net::Resolver> resolver) {
  ASSIGN_OR_RETURN(RouterConfig cfg, LoadRouterConfig(config_path));
  if (resolver == nullptr) {
    net::AresResolverOptions o;
    o.servers = cfg.dns_servers;
    Result<std::unique_ptr<net::Resolver>> ares = net::NewAresResolver(o);
    if (!ares.ok()) return ares.status();
    resolver = std::move(ares).value();
  }
  std::vector<NodeConfig> configured = cfg.nodes;
  std::vector<std::vector<net::NetAddress>> answers;
  ASSIGN_OR_RETURN(cfg.nodes, DnsRefresher::ExpandBlocking(*resolver, configured, &answers));
  std::unique_ptr<RouterServer> s(
      new RouterServer(config_path, std::move(cfg), std::move(resolver)));
  RETURN_IF_ERROR(s->Init());
  s->dns_->Reset(std::move(configured), std::move(answers), s->cfg_.dns_refresh_ms, s->cfg_.nodes);
  return s;
}

RouterServer::RouterServer(std::string config_path, RouterConfig cfg,
                           std::unique_ptr<net::Resolver> resolver)
    : config_path_(std::move(config_path)), cfg_(std::move(cfg)), resolver_(std::move(resolver)) {}

RouterServer::~RouterServer() {
  reload_.reset();    // cancels its lookups: their callbacks never run
  dns_.reset();       // the same for a DNS refresh
  resolver_.reset();  // joins the lookup threads
  for (auto& w : workers_) {
    w->Stop();
    w->Join();
  }
  workers_.clear();
  access_log_.reset();  // after the workers: writes what they logged
  controller_.reset();
  for (event* e : signal_events_) event_free(e);
  if (drain_timer_) event_free(drain_timer_);
  if (grace_timer_) event_free(grace_timer_);
  if (control_queue_) control_queue_->Close();
  control_queue_.reset();
  if (base_) event_base_free(base_);
}

Status RouterServer::Init() {
  Result<LogLevel> level = ParseLogLevel(cfg_.log_level);
  if (!level.ok()) return level.status().Annotate("log_level");
  SetLogLevel(*level);
  SetLogTag("router");
  signal(SIGPIPE, SIG_IGN);
  base_ = event_base_new();
  if (!base_) return Status::Internal("event_base_new failed");
  ASSIGN_OR_RETURN(control_queue_, LoopTaskQueue::Create(base_));
  dns_ = std::make_unique<DnsRefresher>(base_, control_queue_, resolver_.get(),
                                        [this](std::vector<NodeConfig> nodes) {
                                          cfg_.nodes = std::move(nodes);
                                          controller_->Reconfigure(cfg_);
                                        });
  metrics_ = std::make_unique<Metrics>(cfg_.workers);
  if (cfg_.access_log.enabled) {
    ASSIGN_OR_RETURN(access_log_, AccessLog::Open(cfg_.access_log, &metrics_->counters()));
  }
  if (cfg_.upstream_tls_enabled) {
    ASSIGN_OR_RETURN(upstream_tls_, net::CreateClientForConfig(cfg_.upstream_tls, "upstream_tls"));
  }
  controller_ = std::make_unique<Controller>(
      base_, cfg_, metrics_.get(),
      [this](std::shared_ptr<const ClusterSnapshot> snap) {
        for (auto& w : workers_) w->PublishSnapshot(snap);
      },
      upstream_tls_);
  body_budget_ = std::make_shared<http::BodyBudget>(
      static_cast<uint64_t>(cfg_.limits.max_body_bytes_in_flight));
  std::vector<Worker::ListenAddress> listens;
  for (size_t i = 0; i < cfg_.listeners.size(); ++i) {
    const ListenerConfig& l = cfg_.listeners[i];
    std::string what =
        cfg_.listeners.size() == 1 ? "listener" : "listener[" + std::to_string(i) + "]";
    Result<net::NetAddress> addr = net::ResolveHostPort(*resolver_, l.host, l.port);
    if (!addr.ok()) return addr.status().Annotate(what);
    listens.push_back({*addr, l.address()});
    std::shared_ptr<const net::TlsContext> tls;
    if (l.tls.enabled) {
      Result<std::shared_ptr<net::TlsContext>> ctx = net::TlsContext::CreateServer(l.tls);
      if (!ctx.ok()) return ctx.status().Annotate(what + ".tcp");
      tls = std::move(ctx).value();
    }
    tls_.push_back(std::move(tls));
  }
  PublishTlsExpiry();
  std::shared_ptr<const RouteSettings> settings = MakeSettings();
  for (int i = 0; i < cfg_.workers; ++i) {
    auto w = std::make_unique<Worker>(i, metrics_.get(), static_cast<ControlSink*>(this));
    RETURN_IF_ERROR(w->Init(listens, cfg_.workers > 1, settings, controller_->snapshot()));
    workers_.push_back(std::move(w));
  }
  Result<net::NetAddress> admin =
      net::ResolveHostPort(*resolver_, cfg_.admin_host, cfg_.admin_port);
  if (!admin.ok()) return admin.status().Annotate("admin.address");
  RETURN_IF_ERROR(
      workers_[0]->InitAdmin(*admin, cfg_.admin_host + ":" + std::to_string(cfg_.admin_port)));
  for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) {
    event* e = evsignal_new(base_, sig, &RouterServer::OnSignal, this);
    evsignal_add(e, nullptr);
    signal_events_.push_back(e);
  }
  drain_timer_ = evtimer_new(base_, &RouterServer::OnDrainTimeout, this);
  grace_timer_ = evtimer_new(base_, &RouterServer::OnGraceEnd, this);
  return Status::Ok();
}

std::shared_ptr<const RouteSettings> RouterServer::MakeSettings() const {
  auto s = std::make_shared<RouteSettings>(cfg_, generation_, body_budget_, tls_, upstream_tls_);
  s->access_log = access_log_.get();
  return s;
}

void RouterServer::PrintBanner() const {
  std::string nodes;
  for (const NodeConfig& n : cfg_.nodes) {
    if (!nodes.empty()) nodes += ", ";
    nodes += n.name + "=" + n.address;
  }
  std::string listeners;
  for (size_t i = 0; i < cfg_.listeners.size(); ++i) {
    const ListenerConfig& l = cfg_.listeners[i];
    if (i > 0) listeners += "\n                       ";
    listeners += "tcp (addr: \"" + l.address() + "\", tls: \"" +
                 (l.tls.enabled ? "enabled" : "disabled") + "\")";
  }
  std::fprintf(stdout,
               "==> halo-router configuration:\n\n"
               "             Listener: %s\n"
               "                Admin: tcp (addr: \"%s:%u\"%s; /_halo/status, /_halo/metrics, "
               "/_halo/health)\n"
               "              Workers: %d\n"
               "                Nodes: %s\n"
               "                Reads: %s\n"
               "                 Mode: %s\n"
               "        Failover hold: %lldms\n"
               "         Health check: every %lldms, timeout %lldms, rise %d, fall %d%s\n"
               "                Rules: %zu\n\n"
               "==> halo-router started! Log data will stream in below:\n\n",
               listeners.c_str(), cfg_.admin_host.c_str(), cfg_.admin_port,
               cfg_.admin_token.empty() ? "" : ", token", cfg_.workers, nodes.c_str(),
               ReadPolicyName(cfg_.reads), WriteModeName(cfg_.mode),
               static_cast<long long>(cfg_.failover_hold_ms),
               static_cast<long long>(cfg_.health.interval_ms),
               static_cast<long long>(cfg_.health.timeout_ms), cfg_.health.rise, cfg_.health.fall,
               cfg_.health.leader_watch ? ", leader watch on" : "", cfg_.rules.size());
  std::fflush(stdout);
}

int RouterServer::Run() {
  PrintBanner();
  controller_->Start();
  for (auto& w : workers_) w->Start();
  event_base_dispatch(base_);
  for (auto& w : workers_) {
    w->Stop();
    w->Join();
  }
  LOG_INFO("stopped");
  return 0;
}

void RouterServer::PassiveFailure(const std::string& node, const std::string& why) {
  (void)control_queue_->Post([this, node, why] { controller_->OnPassiveFailure(node, why); });
}

void RouterServer::ProbeNow() {
  // Coalesce bursts (every in-flight write to a demoted active reports at once).
  (void)control_queue_->Post([this] { controller_->ProbeAllNow(); });
}

void RouterServer::WorkerDrained(int) {
  (void)control_queue_->Post([this] {
    if (++drained_ >= static_cast<int>(workers_.size())) Finish();
  });
}

void RouterServer::OnSignal(int sig, short, void* arg) {
  auto* self = static_cast<RouterServer*>(arg);
  if (sig == SIGHUP) {
    self->Reload();
  } else if (sig == SIGUSR1) {
    if (self->access_log_) self->access_log_->Reopen();  // logrotate moved the file
  } else {
    self->OnStopSignal();
  }
}

void RouterServer::Reload() {
  Result<RouterConfig> next = LoadRouterConfig(config_path_);
  if (!next.ok()) {
    ReloadFailed(next.status());
    return;
  }
  if (reload_) {
    LOG_INFO("reload: SIGHUP again before the node names were resolved; starting over");
    reload_.reset();  // cancels the lookups: their callbacks never run
  }
  auto pending = std::make_unique<PendingReload>();
  pending->cfg = std::move(next).value();
  size_t n = pending->cfg.nodes.size();
  if (n == 0) {
    ApplyReload(std::move(pending->cfg));
    return;
  }
  pending->errors.resize(n);
  pending->answers.resize(n);
  pending->remaining = n;
  reload_ = std::move(pending);
  for (size_t i = 0; i < n; ++i) {
    const NodeConfig& node = reload_->cfg.nodes[i];
    reload_->lookups.push_back(resolver_->Resolve(
        node.host, node.port, control_queue_,
        [this, i](Result<std::vector<net::NetAddress>> r) { OnReloadResolved(i, std::move(r)); }));
  }
}

void RouterServer::OnReloadResolved(size_t node, Result<std::vector<net::NetAddress>> addrs) {
  NodeConfig& n = reload_->cfg.nodes[node];
  if (!addrs.ok()) {
    reload_->errors[node] = addrs.status().Annotate("node " + n.name);
  } else if (addrs->empty()) {
    reload_->errors[node] = Status::Unavailable("node " + n.name + ": no address");
  } else {
    reload_->answers[node] = *addrs;
  }
  if (--reload_->remaining > 0) return;
  std::unique_ptr<PendingReload> done = std::move(reload_);
  for (const Status& st : done->errors) {
    if (!st.ok()) {
      ReloadFailed(st);
      return;
    }
  }
  std::vector<NodeConfig> configured = done->cfg.nodes;
  std::vector<std::optional<std::vector<net::NetAddress>>> found(done->answers.begin(),
                                                                 done->answers.end());
  size_t dropped = 0;
  done->cfg.nodes = ExpandNodes(configured, found, {}, kMaxNodes, &dropped);
  if (dropped > 0) {
    ReloadFailed(Status::InvalidArgument("nodes: the names resolve to more than " +
                                         std::to_string(kMaxNodes) + " addresses"));
    return;
  }
  ApplyReload(std::move(done->cfg));
  dns_->Reset(std::move(configured), std::move(done->answers), cfg_.dns_refresh_ms, cfg_.nodes);
}

void RouterServer::ReloadFailed(const Status& st) {
  metrics_->counters().reload_failures.fetch_add(1, std::memory_order_relaxed);
  LOG_ERROR("reload of %s failed, keeping the running config: %s", config_path_.c_str(),
            st.ToString().c_str());
}

void RouterServer::ApplyReload(RouterConfig cfg) {
  cfg.admin_host = cfg_.admin_host;  // the admin listener is bound once, at startup
  cfg.admin_port = cfg_.admin_port;
  auto addresses = [](const RouterConfig& c) {
    std::string out;
    for (const ListenerConfig& l : c.listeners) out += (out.empty() ? "" : ", ") + l.address();
    return out;
  };
  bool same_listeners = addresses(cfg) == addresses(cfg_);
  for (size_t i = 0; same_listeners && i < cfg.listeners.size(); ++i) {
    same_listeners = cfg.listeners[i].tls.enabled == cfg_.listeners[i].tls.enabled;
  }
  if (!same_listeners || cfg.workers != cfg_.workers) {
    LOG_WARN(
        "reload: listener addresses, TLS on/off and workers only change on restart; "
        "keeping %s x%d",
        addresses(cfg_).c_str(), cfg_.workers);
    cfg.listeners = cfg_.listeners;
    cfg.workers = cfg_.workers;
  }
  ReloadTls(cfg);
  if (cfg.dns_servers != cfg_.dns_servers) {
    LOG_WARN("reload: dns_servers only change on restart; keeping the running ones");
    cfg.dns_servers = cfg_.dns_servers;
  }
  ReloadUpstreamTls(cfg);
  const AccessLogConfig& a = cfg.access_log;
  const AccessLogConfig& b = cfg_.access_log;
  if (a.enabled != b.enabled || a.path != b.path || a.buffer_bytes != b.buffer_bytes ||
      a.flush_interval_ms != b.flush_interval_ms) {
    LOG_WARN("reload: access_log only changes on restart (SIGUSR1 reopens the file)");
    cfg.access_log = cfg_.access_log;
  }
  Result<LogLevel> level = ParseLogLevel(cfg.log_level);
  if (level.ok()) SetLogLevel(*level);
  cfg_ = std::move(cfg);
  ++generation_;
  body_budget_->set_limit(static_cast<uint64_t>(cfg_.limits.max_body_bytes_in_flight));
  std::shared_ptr<const RouteSettings> settings = MakeSettings();
  for (auto& w : workers_) w->PublishSettings(settings);
  controller_->Reconfigure(cfg_);
  metrics_->counters().reloads.fetch_add(1, std::memory_order_relaxed);
  LOG_INFO("reloaded %s (generation %llu): %zu nodes, %zu rules, reads=%s, mode=%s",
           config_path_.c_str(), static_cast<unsigned long long>(generation_), cfg_.nodes.size(),
           cfg_.rules.size(), ReadPolicyName(cfg_.reads), WriteModeName(cfg_.mode));
}

// Certificates and keys are read again on every reload; a listener whose new files do not
// load keeps its running certificate (and the files it was loaded from).
void RouterServer::ReloadTls(RouterConfig& cfg) {
  for (size_t i = 0; i < cfg.listeners.size() && i < tls_.size(); ++i) {
    if (!cfg.listeners[i].tls.enabled) continue;
    Status st = net::ReloadServerContext(cfg.listeners[i].tls, &tls_[i]);
    if (!st.ok()) {
      metrics_->counters().tls_reload_failures.fetch_add(1, std::memory_order_relaxed);
      LOG_ERROR("reload: listener %s keeps its running TLS certificate: %s",
                cfg.listeners[i].address().c_str(), st.ToString().c_str());
      cfg.listeners[i].tls = cfg_.listeners[i].tls;
      continue;
    }
    LOG_INFO("reload: listener %s TLS certificate %s loaded (expires in %lld s)",
             cfg.listeners[i].address().c_str(), cfg.listeners[i].tls.cert_file.c_str(),
             static_cast<long long>(tls_[i]->seconds_to_expiry()));
  }
  PublishTlsExpiry();
}

// upstream_tls: its files are read again on every reload (a renewed client certificate or
// CA), for new connections to the nodes; turning it on or off needs a restart. A context
// that does not load keeps the running one.
void RouterServer::ReloadUpstreamTls(RouterConfig& cfg) {
  if (cfg.upstream_tls_enabled != cfg_.upstream_tls_enabled) {
    LOG_WARN("reload: upstream_tls on/off only changes on restart; keeping the running one");
    cfg.upstream_tls_enabled = cfg_.upstream_tls_enabled;
    cfg.upstream_tls = cfg_.upstream_tls;
    return;
  }
  if (!cfg.upstream_tls_enabled) return;
  Result<std::shared_ptr<net::TlsContext>> next =
      net::CreateClientForConfig(cfg.upstream_tls, "upstream_tls");
  if (!next.ok()) {
    metrics_->counters().tls_reload_failures.fetch_add(1, std::memory_order_relaxed);
    LOG_ERROR("reload: upstream_tls keeps its running certificates: %s",
              next.status().ToString().c_str());
    cfg.upstream_tls = cfg_.upstream_tls;
    return;
  }
  upstream_tls_ = std::move(next).value();
  controller_->SetUpstreamTls(upstream_tls_);
  LOG_INFO("reload: upstream_tls reloaded (ca_file %s, cert_file %s)",
           cfg.upstream_tls.ca_file.c_str(), cfg.upstream_tls.cert_file.c_str());
}

void RouterServer::PublishTlsExpiry() {
  std::vector<std::pair<std::string, int64_t>> certs;
  for (size_t i = 0; i < tls_.size() && i < cfg_.listeners.size(); ++i) {
    if (tls_[i]) certs.emplace_back(cfg_.listeners[i].address(), tls_[i]->not_after_unix());
  }
  metrics_->SetTlsCertificates(std::move(certs));
}

void RouterServer::OnStopSignal() {
  if (draining_) {
    LOG_WARN("second stop signal: exiting now");
    Finish();
    return;
  }
  if (stopping_ || cfg_.shutdown_grace_ms <= 0) {
    BeginDrain();  // a second signal in the grace drains at once
    return;
  }
  stopping_ = true;
  LOG_INFO("stopping: /_halo/health fails now; serving for shutdown_grace %lldms, then draining",
           static_cast<long long>(cfg_.shutdown_grace_ms));
  timeval tv = TimevalFromMillis(cfg_.shutdown_grace_ms);
  evtimer_add(grace_timer_, &tv);
  for (auto& w : workers_) w->SoftStop();
}

void RouterServer::OnGraceEnd(int, short, void* arg) {
  static_cast<RouterServer*>(arg)->BeginDrain();
}

void RouterServer::BeginDrain() {
  if (draining_) return;
  stopping_ = true;
  draining_ = true;
  evtimer_del(grace_timer_);
  LOG_INFO("draining (up to %lldms)", static_cast<long long>(cfg_.drain_timeout_ms));
  timeval tv = TimevalFromMillis(cfg_.drain_timeout_ms);
  evtimer_add(drain_timer_, &tv);
  for (auto& w : workers_) w->Drain();
}

void RouterServer::OnDrainTimeout(int, short, void* arg) {
  auto* self = static_cast<RouterServer*>(arg);
  LOG_WARN("drain timeout: closing the remaining connections");
  self->Finish();
}

void RouterServer::Finish() {
  reload_.reset();
  controller_->Stop();
  event_base_loopexit(base_, nullptr);
}

}  // namespace halo::router
