#include "node/node_api.h"

#include <vector>

#include "common/ids.h"
#include "common/logging.h"
#include "kv/json.h"
#include "kv/v1.h"
#include "kv/v2.h"
#include "node/api_response.h"
#include "node/auth.h"
#include "node/head_check.h"
#include "node/sys_handlers.h"
#include "node/sys_mounts.h"

namespace halo::node {

namespace {

// The original path and query, for a 307's Location.
std::string OriginTarget(const http::Request& request) {
  std::string_view target = request.target;
  if (!target.empty() && target[0] == '/') return std::string(target);
  // Absolute-form: keep what follows the authority.
  size_t scheme = target.find("://");
  size_t slash = scheme == std::string_view::npos ? 0 : target.find('/', scheme + 3);
  if (slash == std::string_view::npos) return "/";
  return std::string(target.substr(slash));
}

// True if a '/'-separated segment of `path` is "." or "..".
bool HasDotSegment(std::string_view path) {
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment == "." || segment == "..") return true;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return false;
}

// The IP address of "ip:port" / "[v6]:port" (the whole text if it has no port).
std::string ClientIp(std::string_view remote_addr) {
  if (!remote_addr.empty() && remote_addr[0] == '[') {
    size_t close = remote_addr.find(']');
    return std::string(remote_addr.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  return std::string(remote_addr.substr(0, remote_addr.rfind(':')));
}

}  // namespace

std::string ClusterIdFor(std::string_view cluster_name) {
  uint64_t a = Fnv1a(cluster_name);
  return UuidText(a, Fnv1a(cluster_name, a ^ 0x9e3779b97f4a7c15ULL));
}

NodeApi::NodeApi(const NodeConfig& config, storage::Backend* backend, Forwarder* forwarder,
                 std::shared_ptr<LoopTaskQueue> poster, event_base* base, Hooks hooks, Clock* clock)
    : config_(config),
      backend_(backend),
      forwarder_(forwarder),
      poster_(std::move(poster)),
      base_(base),
      hooks_(std::move(hooks)),
      clock_(clock),
      cluster_id_(ClusterIdFor(config.cluster_name)),
      hop_marker_(HopMarker(config.cluster_secret, config.root_token)),
      alive_(std::make_shared<bool>(true)) {
  if (backend_->RemoteReads()) readers_ = std::make_unique<ThreadPool>(4, "halo-reader");
  for (const MountConfig& mount : config_.mounts) {
    kv::KvEngineOptions options;
    options.backend = backend_;
    options.storage_prefix = "logical/" + mount.path;
    options.clock = clock_;
    engines_[mount.path] =
        mount.kv_version == 2 ? kv::NewKvV2Engine(options) : kv::NewKvV1Engine(options);
  }
}

NodeApi::~NodeApi() {
  for (auto& [id, w] : waiters_) {
    if (w.timer != nullptr) event_free(w.timer);
  }
}

NodeSnapshot NodeApi::Snapshot() const {
  NodeSnapshot s;
  s.ha_enabled = ha_enabled_;
  s.active = write_epoch_ != 0;
  s.active_since_micros = active_since_micros_;
  s.leader = leader_;
  s.cluster_name = config_.cluster_name;
  s.cluster_id = cluster_id_;
  s.storage_type = config_.storage.type;
  s.now_micros = clock_->WallMicros();
  return s;
}

void NodeApi::SetActive(uint64_t epoch, int64_t since_micros) {
  write_epoch_ = epoch;
  active_since_micros_ = since_micros;
  leader_ = LeaderView{true, config_.api_addr, config_.cluster_addr, epoch};
  WakeWaiters();
}

void NodeApi::SetStandby() {
  if (write_epoch_ == 0) return;
  released_epoch_ = write_epoch_;
  write_epoch_ = 0;
  active_since_micros_ = 0;
  // We no longer know who leads; the watcher reports the next holder.
  leader_.known = false;
  leader_.api_addr.clear();
  leader_.cluster_addr.clear();
  WakeWaiters();
}

void NodeApi::SetLeader(const LeaderView& view) {
  if (write_epoch_ != 0) return;
  if (view.known && view.epoch < leader_.epoch) return;  // a read that lags our view
  // A holder read taken before we stepped down still names us: we know that term is over.
  if (view.known && view.epoch <= released_epoch_ && view.api_addr == config_.api_addr) return;
  LeaderView next = view;
  if (!next.known) next.epoch = leader_.epoch;  // the index never goes backwards
  if (next == leader_) return;
  leader_ = next;
  WakeWaiters();
}

uint64_t NodeApi::CurrentWriteEpoch() const {
  if (write_epoch_ == 0 || shutting_down_) return 0;
  return hooks_.may_write(write_epoch_) ? write_epoch_ : 0;
}

bool NodeApi::Authorized(const http::Request& request) const {
  std::string_view token = ClientToken(request.headers.Get("X-Vault-Token").value_or(""),
                                       request.headers.Get("Authorization").value_or(""));
  return TokenMatches(token, config_.root_token);
}

void NodeApi::Handle(http::Request request, ReplyFn reply, const OnAbandonedFn& on_abandoned) {
  ++in_flight_;
  std::weak_ptr<bool> alive = alive_;
  ReplyFn done = [this, alive, reply = std::move(reply)](http::Response response) {
    if (!alive.expired()) --in_flight_;
    reply(std::move(response));
  };
  if (shutting_down_) {
    http::Response response = NotExecuted("node is shutting down");
    response.headers.Set("Connection", "close");
    done(std::move(response));
    return;
  }
  Dispatch(request, done, on_abandoned);
}

std::optional<http::Response> NodeApi::Precheck(const http::Request& request,
                                                http::QueryParams* query, Route* route) const {
  if (HasDotSegment(request.path)) {
    // Go's ServeMux (in front of OpenBao's handlers) never lets "." or ".." through either.
    return ErrorReply(400,
                      "invalid request path: \".\" and \"..\" segments "
                      "are not allowed");
  }
  // The one parse of this request's query string; everything below gets the result.
  Result<http::QueryParams> parsed = http::QueryParams::Parse(request.query);
  if (!parsed.ok()) return ErrorReply(400, parsed.status().message());
  *query = std::move(parsed).value();
  const std::string& method = request.method;
  bool is_list =
      method == "LIST" || (method == "GET" && query->GetBool("list", false).value_or(false));
  *route = RoutePath(request.path, is_list, config_.mounts);
  HeadVerdict verdict = DecideHead(route->kind, method, Authorized(request));
  if (verdict != HeadVerdict::kProceed) return HeadRefusal(verdict, *route);
  return std::nullopt;
}

std::optional<http::Response> NodeApi::CheckHead(const http::Request& head) const {
  if (shutting_down_) {
    http::Response response = NotExecuted("node is shutting down");
    response.headers.Set("Connection", "close");
    return response;
  }
  http::QueryParams query;
  Route route;
  return Precheck(head, &query, &route);
}

void NodeApi::Dispatch(http::Request& request, const ReplyFn& reply,
                       const OnAbandonedFn& on_abandoned) {
  http::QueryParams query;
  Route route;
  if (std::optional<http::Response> refusal = Precheck(request, &query, &route)) {
    reply(std::move(*refusal));
    return;
  }
  // Route, method and token are checked (DecideHead); what is left is the route's own work.
  const std::string& method = request.method;
  switch (route.kind) {
    case RouteKind::kHealth:
      reply(HandleHealth(method, query, Snapshot()));
      return;
    case RouteKind::kSealStatus:
      reply(HandleSealStatus(Snapshot()));
      return;
    case RouteKind::kLeader:
      HandleLeaderQuery(request, query, reply, on_abandoned);
      return;
    case RouteKind::kSysMounts:
      reply(HandleSysMounts(config_.mounts, config_.cluster_name));
      return;
    case RouteKind::kUiMounts:
      reply(HandleUiMounts(config_.mounts, config_.cluster_name, route.rel_path));
      return;
    case RouteKind::kStepDown:
      HandleStepDown(request, reply);
      return;
    case RouteKind::kMount:
      HandleMount(route, request, query, reply);
      return;
    case RouteKind::kNotFound:
      break;
  }
  reply(NoHandler(route.api_path));  // not reached: DecideHead answers 404
}

void NodeApi::HandleStepDown(http::Request& request, const ReplyFn& reply) {
  if (request.method != "PUT" && request.method != "POST") {
    reply(MethodNotAllowed());
    return;
  }
  if (!ha_enabled_) {  // OpenBao: nothing to do on a non-HA node
    reply(JsonReply(204, ""));
    return;
  }
  if (write_epoch_ != 0) {
    LOG_INFO("sys/step-down: stepping down from active operation (epoch %llu)",
             static_cast<unsigned long long>(write_epoch_));
    hooks_.step_down();
    SetStandby();
    reply(JsonReply(204, ""));
    return;
  }
  SendToActive(request, reply);
}

void NodeApi::HandleMount(const Route& route, http::Request& request,
                          const http::QueryParams& query, const ReplyFn& reply) {
  kv::KvRequest kv;
  http::Response error;
  if (!ClassifyOperation(request.method, query, &kv.op, &error)) {
    reply(std::move(error));
    return;
  }
  kv.path = route.rel_path;
  kv.query = query.Without({"list", "scan"});
  kv.content_type = std::string(request.headers.Get("Content-Type").value_or(""));
  kv::SecretsEngine& engine = *engines_.at(route.mount->path);
  bool writes = engine.Writes(kv);
  uint64_t epoch = CurrentWriteEpoch();
  if (epoch == 0 && (writes || config_.disable_standby_reads)) {
    SendToActive(request, reply);
    return;
  }
  kv.epoch = writes ? epoch : 0;
  kv.body = std::move(request.body);
  RunEngine(engine, kv, writes, reply);
}

void NodeApi::RunEngine(kv::SecretsEngine& engine, const kv::KvRequest& kv, bool writes,
                        const ReplyFn& reply) {
  if (!writes && readers_ == nullptr) {
    engine.Handle(kv, reply);
    return;
  }
  if (!writes) {
    std::shared_ptr<LoopTaskQueue> poster = poster_;
    readers_->Post([&engine, kv, poster, reply] {
      engine.Handle(kv, [poster, reply](http::Response response) {
        poster->Post(
            [reply, response = std::move(response)]() mutable { reply(std::move(response)); });
      });
    });
    return;
  }
  std::shared_ptr<LoopTaskQueue> poster = poster_;
  engine.Handle(kv, [poster, reply](http::Response response) {
    poster->Post([reply, response = std::move(response)]() mutable {
      if (kv::IsNotActive(response)) {
        LOG_WARN("a write was refused for a stale fencing epoch; not acknowledged");
        MarkNotExecuted(&response);  // refused before it touched storage
      }
      reply(std::move(response));
    });
  });
}

void NodeApi::SendToActive(http::Request& request, const ReplyFn& reply) {
  std::optional<std::string_view> marker = request.headers.Get(kForwardedHeader);
  if (marker && TokenMatches(*marker, hop_marker_)) {
    // Forwarded once by a node: never again (no loops).
    reply(NotExecuted(kv::kNotActiveMessage));
    return;
  }
  // Any other marker came from a client: an ordinary request (replaced below).
  if (!leader_.known || leader_.api_addr.empty() || leader_.api_addr == config_.api_addr) {
    reply(NoActiveNode());
    return;
  }
  std::optional<std::string_view> no_forward = request.headers.Get(kNoForwardHeader);
  if (config_.disable_request_forwarding || (no_forward && !no_forward->empty())) {
    reply(Redirect(leader_.api_addr + OriginTarget(request)));
    return;
  }
  request.headers.Set(kForwardedHeader, hop_marker_);
  forwarder_->Forward(leader_.api_addr, std::move(request), [reply](ForwardOutcome outcome) {
    switch (outcome.kind) {
      case ForwardOutcome::Kind::kResponse:
        reply(std::move(outcome.response));
        return;
      case ForwardOutcome::Kind::kNotSent:
        // Nothing left this node (HttpForwarder: Reach::kNeverWritten only).
        reply(NotExecuted("active node unreachable: " + outcome.error));
        return;
      case ForwardOutcome::Kind::kUnknown:
        reply(ErrorReply(
            502, "error forwarding to the active node (outcome unknown): " + outcome.error));
        return;
    }
  });
}

void NodeApi::HandleLeaderQuery(const http::Request& request, const http::QueryParams& query,
                                const ReplyFn& reply, const OnAbandonedFn& on_abandoned) {
  if (request.method != "GET") {
    reply(MethodNotAllowed());
    return;
  }
  Result<LeaderWait> wait = ParseLeaderWait(query);
  if (!wait.ok()) {
    reply(ErrorReply(400, wait.status().message()));
    return;
  }
  if (!wait->blocking || wait->index != leader_.epoch || wait->wait_ms == 0) {
    reply(HandleLeader(Snapshot()));
    return;
  }
  std::string client = ClientIp(request.remote_addr);
  size_t& from_client = waiters_per_client_[client];
  if (waiters_.size() >= static_cast<size_t>(config_.limits.max_leader_waiters) ||
      from_client >= static_cast<size_t>(config_.limits.max_leader_waiters_per_client)) {
    if (from_client == 0) waiters_per_client_.erase(client);
    // 429 rather than the current state at once: a blocking-query loop re-asks at once when
    // answered with an unchanged index (a busy loop against a node that is already full),
    // while 429 + Retry-After is what Consul answers past its per-client limits, and what
    // its and Vault's clients back off on.
    http::Response busy = ErrorReply(429, "too many blocking sys/leader queries; retry later");
    busy.headers.Set("Retry-After", "1");
    reply(std::move(busy));
    return;
  }
  ++from_client;
  uint64_t id = ++next_waiter_id_;
  Waiter& w = waiters_[id];
  w.api = this;
  w.id = id;
  w.client = std::move(client);
  w.seen = leader_;
  w.seen_active = write_epoch_ != 0;
  w.reply = reply;
  w.timer = evtimer_new(base_, &NodeApi::OnWaiterTimeout, &w);
  timeval tv{static_cast<time_t>(wait->wait_ms / 1000),
             static_cast<suseconds_t>((wait->wait_ms % 1000) * 1000)};
  if (w.timer == nullptr || evtimer_add(w.timer, &tv) != 0) {
    FinishWaiter(id);
    return;
  }
  // A client gone away is answered now (the answer is dropped): frees its slot and socket.
  std::weak_ptr<bool> alive = alive_;
  if (on_abandoned) {
    on_abandoned([this, alive, id] {
      if (!alive.expired()) FinishWaiter(id);
    });
  }
}

void NodeApi::OnWaiterTimeout(evutil_socket_t, short, void* arg) {
  Waiter* w = static_cast<Waiter*>(arg);
  w->api->FinishWaiter(w->id);
}

void NodeApi::FinishWaiter(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  ReplyFn reply = TakeWaiter(waiters_.extract(it).mapped());
  reply(HandleLeader(Snapshot()));
}

NodeApi::ReplyFn NodeApi::TakeWaiter(Waiter& w) {
  if (w.timer != nullptr) event_free(w.timer);
  w.timer = nullptr;
  auto count = waiters_per_client_.find(w.client);
  if (count != waiters_per_client_.end() && --count->second == 0) waiters_per_client_.erase(count);
  return std::move(w.reply);
}

void NodeApi::WakeWaiters() {
  // Take the woken waiters out of the list before answering any: an answer can run a
  // pipelined request on the same connection (a step-down) that changes the leader view and
  // wakes waiters again, from inside this loop; it then finds only the ones still parked.
  bool active = write_epoch_ != 0;
  std::vector<ReplyFn> woken;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto next = std::next(it);
    if (shutting_down_ || !(it->second.seen == leader_) || it->second.seen_active != active) {
      woken.push_back(TakeWaiter(waiters_.extract(it).mapped()));
    }
    it = next;
  }
  for (ReplyFn& reply : woken) reply(HandleLeader(Snapshot()));
}

void NodeApi::BeginShutdown() {
  shutting_down_ = true;
  WakeWaiters();
}

}  // namespace halo::node
