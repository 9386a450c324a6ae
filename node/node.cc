#include "node/node.h"

#include <signal.h>

#include "common/event_timer_source.h"
#include "common/http/http_server.h"
#include "common/logging.h"
#include "common/net/getaddrinfo_resolver.h"
#include "common/net/tls_context.h"
#include "common/time_util.h"
#include "lock/lock_config.h"
#include "lock/lock_value.h"
#include "node/banner.h"
#include "node/http_forwarder.h"
#include "storage/backend_factory.h"

namespace halo::node {

Result<std::unique_ptr<Node>> Node::Create(NodeConfig config) {
  std::unique_ptr<Node> node(new Node(std::move(config)));
  RETURN_IF_ERROR(node->Init());
  return node;
}

Node::Node(NodeConfig config) : config_(std::move(config)) {}

Status Node::Init() {
  base_ = event_base_new();
  if (base_ == nullptr) return Status::Internal("event_base_new failed");
  ASSIGN_OR_RETURN(poster_, LoopTaskQueue::Create(base_));

  Result<std::unique_ptr<storage::Backend>> backend = storage::OpenBackend(config_.storage);
  if (!backend.ok()) return backend.status().Annotate("storage." + config_.storage.type);
  backend_ = std::move(backend).value();
  if (!config_.lock.type.empty()) {
    Result<lock::LockBackendPtr> lock = lock::OpenLockBackend(config_.lock);
    if (!lock.ok()) {
      return lock.status().Annotate(config_.ha_storage_set ? "ha_storage." + config_.lock.type
                                                           : "HA lock " + config_.lock.type);
    }
    lock_backend_ = std::move(lock).value();
  }

  resolver_ = net::NewGetaddrinfoResolver();
  std::shared_ptr<const net::TlsContext> cluster_tls;
  if (config_.cluster_tls_enabled) {
    ASSIGN_OR_RETURN(cluster_tls, net::CreateClientForConfig(config_.cluster_tls, "cluster_tls"));
  }
  auto forwarder =
      std::make_unique<HttpForwarder>(base_, milliseconds(config_.listener.max_request_duration_ms),
                                      resolver_.get(), std::move(cluster_tls));
  http_forwarder_ = forwarder.get();
  forwarder_ = std::move(forwarder);
  NodeApi::Hooks hooks;
  hooks.may_write = [this](uint64_t epoch) {
    return elector_ == nullptr ? lock_backend_ == nullptr : elector_->MayWrite(epoch);
  };
  hooks.step_down = [this] { return elector_ != nullptr && elector_->StepDown(); };
  api_ = std::make_unique<NodeApi>(config_, backend_.get(), forwarder_.get(), poster_, base_,
                                   std::move(hooks), RealClock());
  api_->SetHaEnabled(lock_backend_ != nullptr);

  handler_ = std::make_unique<http::FunctionHandler>(
      [this](http::Request request, http::HttpResponder responder) {
        api_->Handle(
            std::move(request),
            [responder](http::Response response) { responder.Send(std::move(response)); },
            [responder](std::function<void()> cancel) {
              responder.OnAbandoned(std::move(cancel));
            });
      },
      [this](const http::Request& head) { return api_->CheckHead(head); });
  http::HttpServerOptions options;
  options.host = config_.listener.host;
  options.port = config_.listener.port;
  options.resolver = resolver_.get();
  options.parser.max_body_bytes = static_cast<uint64_t>(config_.listener.max_request_size);
  options.max_body_bytes_in_flight = static_cast<uint64_t>(config_.limits.max_body_bytes_in_flight);
  options.http2 = config_.listener.tls.offer_h2;
  if (config_.listener.tls.enabled) {
    Result<std::shared_ptr<net::TlsContext>> tls =
        net::TlsContext::CreateServer(config_.listener.tls);
    if (!tls.ok()) return tls.status().Annotate("listener.tcp");
    options.tls = std::move(tls).value();
  }
  Result<std::unique_ptr<http::HttpServer>> server =
      http::HttpServer::Create(base_, options, handler_.get());
  if (!server.ok()) return server.status().Annotate("listener.tcp.address");
  server_ = std::move(server).value();
  listen_address_ = server_->address();
  if (config_.listener.port == 0 && config_.api_addr_from_listener) {
    // Port 0: advertise the port actually bound.
    std::string host = config_.listener.host == "0.0.0.0" ? "127.0.0.1" : config_.listener.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    config_.api_addr = std::string(config_.listener.tls.enabled ? "https://" : "http://") + host +
                       ":" + std::to_string(server_->port());
  }

  sigterm_ = evsignal_new(base_, SIGTERM, &Node::OnSignal, this);
  sigint_ = evsignal_new(base_, SIGINT, &Node::OnSignal, this);
  sighup_ = evsignal_new(base_, SIGHUP, &Node::OnSignal, this);
  if (sigterm_ == nullptr || sigint_ == nullptr || sighup_ == nullptr ||
      evsignal_add(sigterm_, nullptr) != 0 || evsignal_add(sigint_, nullptr) != 0 ||
      evsignal_add(sighup_, nullptr) != 0) {
    return Status::Internal("cannot install the SIGTERM/SIGINT/SIGHUP handlers");
  }
  return Status::Ok();
}

Node::~Node() {
  liveness_timer_.reset();
  server_.reset();
  api_.reset();
  forwarder_.reset();
  if (watcher_) watcher_->Stop();
  watcher_.reset();
  if (elector_) elector_->Stop();
  elector_.reset();
  lock_backend_.reset();
  if (poster_) poster_->Close();
  backend_.reset();
  handler_.reset();
  if (drain_timer_ != nullptr) event_free(drain_timer_);
  if (sigterm_ != nullptr) event_free(sigterm_);
  if (sigint_ != nullptr) event_free(sigint_);
  if (sighup_ != nullptr) event_free(sighup_);
  poster_.reset();
  if (base_ != nullptr) event_base_free(base_);
}

std::string Node::Banner() const { return FormatBanner(config_, listen_address_); }

Status Node::StartElection() {
  if (lock_backend_ == nullptr) {
    ASSIGN_OR_RETURN(uint64_t max_epoch, backend_->MaxEpoch());
    uint64_t epoch = max_epoch + 1;
    RETURN_IF_ERROR(backend_->RecordEpoch(epoch));
    api_->SetActive(epoch, RealClock()->WallMicros());
    LOG_INFO("HA is not enabled (no HA lock): running as a single active node (epoch %llu)",
             static_cast<unsigned long long>(epoch));
    return Status::Ok();
  }
  lock::ElectorOptions options = config_.lock.elector;
  lock::LockValue value{config_.api_addr, config_.log_tag, config_.cluster_addr};
  ASSIGN_OR_RETURN(options.value, lock::EncodeLockValue(value));
  lock::ElectorCallbacks callbacks;
  callbacks.on_active = [this](uint64_t epoch) { OnActive(epoch); };
  callbacks.on_standby = [this](lock::StandbyReason reason, const std::string& detail) {
    OnStandby(reason, detail);
  };
  callbacks.epoch_floor = [this] { return backend_->MaxEpoch().value_or(0); };
  callbacks.last_progress = [this] { return LastProgress(); };
  timers_ = std::make_unique<EventTimerSource>(base_);
  liveness_timer_ = timers_->NewTimer([this] { OnLivenessTick(); });
  OnLivenessTick();
  elector_ = std::make_unique<lock::Elector>(lock_backend_.get(), RealClock(), options,
                                             std::move(callbacks));
  RETURN_IF_ERROR(elector_->Start());
  watcher_ = std::make_unique<LeaderWatcher>(
      [this] { return elector_->CurrentHolder(); }, milliseconds(config_.leader_check_interval_ms),
      [this](const LeaderView& view) {
        poster_->Post([this, view] {
          if (view.known) {
            LOG_DEBUG("lock holder: %s (epoch %llu)", view.api_addr.c_str(),
                      static_cast<unsigned long long>(view.epoch));
          } else {
            LOG_DEBUG("lock holder: none");
          }
          api_->SetLeader(view);
        });
      });
  watcher_->Start();
  LOG_INFO("entering standby mode");
  return Status::Ok();
}

// Runs on the elector's watchdog thread.
void Node::OnActive(uint64_t epoch) {
  // Storage must refuse every older term before this one accepts a write.
  Status st = backend_->RecordEpoch(epoch);
  if (!st.ok()) {
    LOG_ERROR("cannot record epoch %llu in storage (%s); stepping down",
              static_cast<unsigned long long>(epoch), st.ToString().c_str());
    poster_->Post([this] {
      if (elector_) elector_->StepDown();
    });
    return;
  }
  int64_t since = RealClock()->WallMicros();
  poster_->Post([this, epoch, since] {
    if (!elector_ || !elector_->MayWrite(epoch) || shutting_down_) return;
    api_->SetActive(epoch, since);
    LOG_INFO("acquired lock, enabling active operation (epoch %llu)",
             static_cast<unsigned long long>(epoch));
  });
}

// Runs on the elector's watchdog thread.
void Node::OnStandby(lock::StandbyReason reason, const std::string& detail) {
  std::string why = std::string(lock::StandbyReasonName(reason)) +
                    (detail.empty() ? std::string() : ": " + detail);
  poster_->Post([this, why] {
    bool was_active = api_->write_epoch() != 0;
    api_->SetStandby();
    if (watcher_) watcher_->PollSoon();
    if (was_active) LOG_INFO("stopping active operation, entering standby mode (%s)", why.c_str());
  });
}

int Node::Run() {
  Status st = StartElection();
  if (!st.ok()) {
    LOG_ERROR("cannot start the HA election: %s", st.ToString().c_str());
    return 1;
  }
  event_base_dispatch(base_);
  LOG_INFO("halo-node stopped");
  return 0;
}

void Node::OnSignal(evutil_socket_t sig, short, void* arg) {
  Node* node = static_cast<Node*>(arg);
  if (sig == SIGHUP) {
    node->ReloadTls();
    return;
  }
  node->BeginShutdown(static_cast<int>(sig));
}

// SIGHUP: the listener's certificate and key are read again (the rest of the config is
// fixed at start). A file that does not load keeps the running certificate.
void Node::ReloadTls() {
  if (config_.cluster_tls_enabled) {
    Result<std::shared_ptr<net::TlsContext>> ctx =
        net::CreateClientForConfig(config_.cluster_tls, "cluster_tls");
    if (ctx.ok()) {
      http_forwarder_->SetTls(std::move(ctx).value());
      LOG_INFO("SIGHUP: reloaded cluster_tls (%s)", config_.cluster_tls.cert_file.c_str());
    } else {
      LOG_ERROR("SIGHUP: keeping the running cluster_tls: %s", ctx.status().ToString().c_str());
    }
  }
  if (!config_.listener.tls.enabled) {
    LOG_INFO("SIGHUP: TLS is off on the listener; nothing to reload");
    return;
  }
  std::shared_ptr<const net::TlsContext> tls = server_->options().tls;
  Status st = net::ReloadServerContext(config_.listener.tls, &tls);
  if (!st.ok()) {
    LOG_ERROR("SIGHUP: keeping the running TLS certificate: %s", st.ToString().c_str());
    return;
  }
  server_->SetTls(std::move(tls));
  LOG_INFO("SIGHUP: reloaded the TLS certificate %s (expires in %lld s)",
           config_.listener.tls.cert_file.c_str(),
           static_cast<long long>(server_->options().tls->seconds_to_expiry()));
}

void Node::BeginShutdown(int sig) {
  if (shutting_down_) {
    LOG_INFO("shutdown already in progress (signal %d)", sig);
    return;
  }
  shutting_down_ = true;
  LOG_INFO("shutdown triggered (%s): closing the listener, finishing in-flight requests",
           sig == SIGTERM ? "SIGTERM" : "SIGINT");
  Duration grace = milliseconds(config_.listener.max_request_duration_ms);
  drain_deadline_ = RealClock()->Now() + grace;
  // The server first (idle connections close, busy ones will answer with Connection: close),
  // then the API answers what it holds (parked sys/leader queries) on those busy connections.
  server_->Shutdown(grace, [this] {
    server_closed_ = true;
    MaybeExit();
  });
  api_->BeginShutdown();
  drain_timer_ = event_new(base_, -1, EV_PERSIST, &Node::OnDrainTick, this);
  timeval tick = TimevalFromMillis(1);
  if (drain_timer_ == nullptr || evtimer_add(drain_timer_, &tick) != 0) ReleaseLock();
  OnDrainTick(-1, 0, this);
}

void Node::OnDrainTick(evutil_socket_t, short, void* arg) {
  Node* node = static_cast<Node*>(arg);
  if (node->lock_released_) return;
  if (node->api_->in_flight() == 0 || RealClock()->Now() >= node->drain_deadline_) {
    node->ReleaseLock();
  }
}

void Node::ReleaseLock() {
  if (lock_released_) return;
  lock_released_ = true;
  if (drain_timer_ != nullptr) evtimer_del(drain_timer_);
  if (elector_) {
    bool was_active = api_->write_epoch() != 0;
    elector_->Stop();  // ends the term (MayWrite false) and releases the lock
    api_->SetStandby();
    if (was_active) LOG_INFO("stepped down and released the lock");
  }
  if (watcher_) watcher_->Stop();
  MaybeExit();
}

void Node::OnLivenessTick() {
  loop_progress_ns_.store(RealClock()->Now().time_since_epoch().count(), std::memory_order_release);
  liveness_timer_->Arm(config_.lock.elector.liveness_timeout / 6);
}

TimePoint Node::LastProgress() const {
  TimePoint loop{Duration(loop_progress_ns_.load(std::memory_order_acquire))};
  std::optional<TimePoint> writer = backend_->WriterBusySince();
  return writer ? std::min(loop, *writer) : loop;
}

void Node::MaybeExit() {
  if (!lock_released_ || !server_closed_) return;
  forwarder_->Shutdown();
  event_base_loopexit(base_, nullptr);
}

}  // namespace halo::node
