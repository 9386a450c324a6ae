#include "router/proxy_exchange.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include <charconv>
#include <chrono>

#include "common/http/serializer.h"
#include "common/logging.h"
#include "router/proxy_headers.h"
#include "router/route_policy.h"
#include "router/status_page.h"
#include "router/worker.h"

namespace halo::router {
namespace {

// Flow control: stop reading one side when the other side's unsent bytes pass this.
constexpr size_t kHighWater = 256 * 1024;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

timeval Tv(int64_t ms) {
  if (ms < 0) ms = 0;
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// The origin-form part of a request-target (absolute-form loses scheme and authority).
std::string_view OriginForm(std::string_view target) {
  if (!target.empty() && target[0] == '/') return target;
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return "/";
  size_t slash = target.find('/', scheme + 3);
  return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
}

}  // namespace

ProxyExchange::ProxyExchange(Worker* worker, http::Downstream* downstream)
    : worker_(worker), downstream_(downstream) {
  hold_timer_ = evtimer_new(worker_->base(), &ProxyExchange::OnHoldTimer, this);
}

ProxyExchange::~ProxyExchange() {
  Abandon();
  if (overflow_) evbuffer_free(overflow_);
  if (hold_timer_) event_free(hold_timer_);
}

void ProxyExchange::Reset() {
  Abandon();
  req_ = nullptr;
  snap_.reset();
  halo_endpoint_ = false;
  request_done_ = false;
  response_started_ = false;
  answered_ = false;
  overflow_moved_ = false;
  body_paused_ = false;
  replayable_ = true;
  no_forward_ = false;
  node_index_ = -1;
  slot_ = -1;
  attempts_ = 0;
  read_retries_ = 0;
  exclude_slots_ = 0;
  exclude_version_ = 0;
  hold_deadline_ms_ = 0;
  status_ = 0;
  replay_.clear();
  sent_ = 0;
  if (overflow_) evbuffer_drain(overflow_, evbuffer_get_length(overflow_));
  start_us_ = 0;
}

void ProxyExchange::Abandon() {
  StopHolding();
  if (upstream_) ReleaseUpstream(false);
}

// ---------------------------------------------------------------------------------------
// The request

bool ProxyExchange::Begin(http::Request& req) {
  Reset();
  req_ = &req;
  start_us_ = NowUs();
  settings_ = worker_->settings();
  if (!NormalizeTarget(req.target, &target_)) return false;
  std::string_view path = target_.path;
  if (path.size() >= 7 && path.substr(0, 7) == "/_halo/") {
    halo_endpoint_ = true;
    cls_ = RequestClass::kRead;
    return true;  // answered at RequestComplete
  }
  Classification c = settings_->classifier.Classify(req.method, ApiPath(path), target_.list);
  cls_ = c.cls;
  mode_ = c.mode;
  // Response wrapping always writes (cubbyhole): OpenBao forwards it from standbys.
  if (cls_ == RequestClass::kRead && req.headers.Has("x-vault-wrap-ttl")) {
    cls_ = RequestClass::kWrite;
  }
  std::optional<std::string_view> nf = req.headers.Get("x-vault-no-request-forwarding");
  no_forward_ = nf.has_value() && !nf->empty();
  AppendUpstreamRequestHead(req, downstream_->client_ip(), settings_->listen_address, &replay_);
  Dispatch();
  return true;
}

void ProxyExchange::RequestBody(std::string_view data) {
  if (halo_endpoint_ || answered_) return;  // answered already: the rest is dropped
  if (req_->chunked) {
    char size[24];
    auto [end, ec] = std::to_chars(size, size + sizeof(size) - 2, data.size(), 16);
    (void)ec;
    *end++ = '\r';
    *end++ = '\n';
    AppendOut(size, static_cast<size_t>(end - size));
    AppendOut(data.data(), data.size());
    AppendOut("\r\n", 2);
  } else {
    AppendOut(data.data(), data.size());
  }
  Flush();
  PaceRequestBody();
}

void ProxyExchange::RequestComplete(const http::Headers& trailers) {
  request_done_ = true;
  if (halo_endpoint_) {
    AnswerHaloEndpoint();  // tail
    return;
  }
  if (answered_) return;
  if (req_->chunked) {
    scratch_.clear();
    if (!http::AppendLastChunk(&scratch_, trailers).ok()) scratch_.assign("0\r\n\r\n");
    AppendOut(scratch_.data(), scratch_.size());
    Flush();
  }
}

void ProxyExchange::AppendOut(const char* data, size_t len) {
  if (replayable_ && !overflow_moved_ &&
      replay_.size() + len <= static_cast<size_t>(settings_->limits.retry_buffer_bytes)) {
    replay_.append(data, len);
    return;
  }
  replayable_ = false;
  if (!overflow_) overflow_ = evbuffer_new();
  evbuffer_add(overflow_, data, len);
}

void ProxyExchange::Flush() {
  if (!upstream_ || !upstream_->connected()) return;
  evbuffer* out = upstream_->output();
  size_t total = 0;
  if (sent_ < replay_.size()) {
    size_t n = replay_.size() - sent_;
    evbuffer_add(out, replay_.data() + sent_, n);
    sent_ = replay_.size();
    total += n;
  }
  if (overflow_) {
    size_t n = evbuffer_get_length(overflow_);
    if (n > 0) {
      evbuffer_add_buffer(out, overflow_);  // a move, not a copy
      overflow_moved_ = true;
      total += n;
    }
  }
  if (total > 0) upstream_->Send(total);
}

// Back-pressure: too much request body waiting for the node pauses the client.
void ProxyExchange::PaceRequestBody() {
  if (request_done_) return;
  size_t pending = replay_.size() - sent_ + (overflow_ ? evbuffer_get_length(overflow_) : 0);
  if (upstream_) pending += upstream_->output_length();
  if (pending > kHighWater && !body_paused_) {
    body_paused_ = true;
    downstream_->PauseRequestBody();
  } else if (pending <= kHighWater && body_paused_) {
    body_paused_ = false;
    downstream_->ResumeRequestBody();
  }
}

// ---------------------------------------------------------------------------------------
// Routing

uint64_t ProxyExchange::ExcludeMask() const {
  uint64_t slots = worker_->local_down_slots();
  if (exclude_version_ == snap_->version) slots |= exclude_slots_;
  if (slots == 0) return 0;
  uint64_t mask = 0;
  for (size_t i = 0; i < snap_->nodes.size() && i < 64; ++i) {
    int s = snap_->nodes[i].slot;
    if (s >= 0 && s < 64 && ((slots >> s) & 1)) mask |= uint64_t{1} << i;
  }
  return mask;
}

void ProxyExchange::Dispatch() {
  snap_ = worker_->snapshot();
  RouteInput in;
  in.cls = cls_;
  in.mode = mode_;
  in.reads = settings_->reads;
  in.client_no_forward = no_forward_;
  in.exclude_mask = ExcludeMask();
  const RouterCounters& counters = worker_->counters();
  const ClusterSnapshot& snap = *snap_;
  RouteDecision d = DecideRoute(
      in, snap,
      [&](int i) { return counters.inflight[snap.nodes[i].slot].load(std::memory_order_relaxed); },
      &worker_->rng());
  switch (d.kind) {
    case RouteDecision::Kind::kProxy:
      StopHolding();
      StartUpstream(d.node);
      return;
    case RouteDecision::Kind::kRedirect: {
      StopHolding();
      worker_->counters().redirects.fetch_add(1, std::memory_order_relaxed);
      std::string location = snap.redirect_addr;
      while (!location.empty() && location.back() == '/') location.pop_back();
      location.append(OriginForm(req_->target));
      Answer(307, {}, {}, "Location", location);  // tail
      return;
    }
    case RouteDecision::Kind::kHold:
      if (!held_) {
        // One hold budget per request, however many times it comes back here.
        int64_t now_ms = NowUs() / 1000;
        if (hold_deadline_ms_ == 0) {
          hold_deadline_ms_ = now_ms + settings_->failover_hold_ms;
          worker_->counters().held_writes.fetch_add(1, std::memory_order_relaxed);
        }
        if (now_ms >= hold_deadline_ms_) {
          worker_->counters().held_expired.fetch_add(1, std::memory_order_relaxed);
          AnswerUnavailable("no active node is known; the request was held for " +
                            std::to_string(settings_->failover_hold_ms) + "ms");
          return;
        }
        held_ = true;
        worker_->Hold(this);
        worker_->counters().held_now.fetch_add(1, std::memory_order_relaxed);
        timeval tv = Tv(hold_deadline_ms_ - now_ms);
        evtimer_add(hold_timer_, &tv);
      }
      return;
    case RouteDecision::Kind::kUnavailable:
      StopHolding();
      AnswerUnavailable("no healthy node can serve this request");
      return;
  }
}

void ProxyExchange::Redispatch() {
  if (!held_) return;
  Dispatch();  // still held: stays in the queue with its timer running
  if (!held_) worker_->counters().held_dispatched.fetch_add(1, std::memory_order_relaxed);
}

void ProxyExchange::OnHoldTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ProxyExchange*>(arg);
  if (!self->held_) return;
  self->StopHolding();
  self->Dispatch();  // a last look; answers 503 once the hold budget is spent
}

void ProxyExchange::StopHolding() {
  if (!held_) return;
  held_ = false;
  evtimer_del(hold_timer_);
  worker_->Unhold(this);
  worker_->counters().held_now.fetch_sub(1, std::memory_order_relaxed);
}

void ProxyExchange::StartUpstream(int node_index) {
  const NodeView& node = snap_->nodes[node_index];
  http::UpstreamConn* conn =
      worker_->pool().Take(node.slot, node.resolved, cls_ == RequestClass::kWrite);
  if (!conn) {
    conn = new http::UpstreamConn(worker_->base(), node.slot, node.resolved,
                                  settings_->response_parser);
    if (!conn->Connect(settings_->limits.upstream_connect_timeout_ms)) {
      delete conn;
      worker_->counters().connect_failures[node.slot].fetch_add(1, std::memory_order_relaxed);
      worker_->ReportConnectFailure(node.slot, node.name, "connect failed");
      Dispatch();  // bounded: the node is now excluded
      return;
    }
  }
  if (attempts_ > 0) worker_->counters().retries.fetch_add(1, std::memory_order_relaxed);
  ++attempts_;
  upstream_ = conn;
  node_index_ = node_index;
  slot_ = node.slot;
  sent_ = 0;
  worker_->counters().inflight[slot_].fetch_add(1, std::memory_order_relaxed);
  conn->Attach(this, req_->method, settings_->limits.upstream_timeout_ms);
  if (conn->connected()) {
    Flush();
    PaceRequestBody();
  }
}

void ProxyExchange::ReleaseUpstream(bool reuse) {
  http::UpstreamConn* c = upstream_;
  upstream_ = nullptr;
  upstream_paused_ = false;
  worker_->counters().inflight[slot_].fetch_sub(1, std::memory_order_relaxed);
  c->Detach();
  if (reuse) {
    worker_->pool().Put(c);
  } else {
    delete c;
  }
}

// ---------------------------------------------------------------------------------------
// Upstream events

void ProxyExchange::OnUpstreamConnected(http::UpstreamConn*) {
  Flush();
  PaceRequestBody();
}

void ProxyExchange::OnUpstreamDrained(http::UpstreamConn*) { PaceRequestBody(); }

bool ProxyExchange::OnUpstreamHead(http::UpstreamConn*, http::Response& resp) {
  const NodeView& node = snap_->nodes[node_index_];
  if (resp.status == 503 && replayable_ && !overflow_moved_ &&
      (cls_ == RequestClass::kWrite || read_retries_ == 0)) {
    // A sealed or shutting-down node, or a standby that knows no active: the request was
    // not executed. Try again (writes wait for the next active; reads go elsewhere once).
    worker_->ReportStale();
    return false;
  }
  if (cls_ == RequestClass::kWrite && resp.status == 307 && node.role == NodeRole::kActive) {
    worker_->ReportStale();  // the node we believed active redirects: it is not any more
  }
  status_ = resp.status;
  response_started_ = true;
  downstream_->StartResponse(resp);
  return true;
}

void ProxyExchange::OnUpstreamBody(http::UpstreamConn*, std::string_view data) {
  downstream_->ResponseBody(data);
}

void ProxyExchange::DownstreamDrained() {
  if (upstream_paused_ && upstream_) {
    upstream_paused_ = false;
    upstream_->ResumeReading();
  }
}

void ProxyExchange::OnUpstreamReadDone(http::UpstreamConn* c) {
  size_t queued = downstream_->FlushResponse();
  if (!upstream_paused_ && queued > kHighWater) {
    upstream_paused_ = true;  // the client reads slower than the node answers
    c->PauseReading();
  }
}

void ProxyExchange::OnUpstreamComplete(http::UpstreamConn* c, http::Response& resp) {
  bool fully_sent = request_done_ && sent_ == replay_.size() &&
                    (!overflow_ || evbuffer_get_length(overflow_) == 0);
  bool reuse = c->reusable() && fully_sent;
  bool node_closes = !resp.keep_alive;
  trailers_ = resp.trailers;  // `resp` dies with the connection
  int slot = slot_;
  ReleaseUpstream(reuse);
  // A node that closes connections is shutting down or restarting: its pooled siblings will
  // be closed too, so do not send the next write into one of them.
  if (node_closes) worker_->pool().DropSlot(slot);
  CountDone(slot, status_);
  answered_ = true;
  downstream_->FinishResponse(trailers_);  // tail
}

void ProxyExchange::OnUpstreamRefused(http::UpstreamConn*) {
  exclude_slots_ |= uint64_t{1} << slot_;
  exclude_version_ = snap_->version;
  if (cls_ == RequestClass::kRead) ++read_retries_;
  int slot = slot_;
  ReleaseUpstream(false);
  worker_->pool().DropSlot(slot);
  Dispatch();
}

void ProxyExchange::OnUpstreamError(http::UpstreamConn*, http::UpstreamFailure why,
                                    http::Reach reach) {
  const bool request_sent = reach != http::Reach::kNeverWritten;
  const bool response_started = reach == http::Reach::kResponseStarted;
  const std::string node = snap_->nodes[node_index_].name;
  int slot = slot_;
  ReleaseUpstream(false);
  // Its siblings in the pool most likely died the same way (node crash or restart).
  if (why == http::UpstreamFailure::kConnect || why == http::UpstreamFailure::kClosed ||
      why == http::UpstreamFailure::kReset) {
    worker_->pool().DropSlot(slot);
  }
  if (why == http::UpstreamFailure::kConnect) {
    worker_->counters().connect_failures[slot].fetch_add(1, std::memory_order_relaxed);
    worker_->ReportConnectFailure(slot, node, "connect failed");
    Dispatch();  // never written: safe anywhere
    return;
  }
  if (response_started_) {  // the client already has part of this response
    worker_->counters().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    CountDone(slot, 502);
    answered_ = true;
    downstream_->AbortResponse();  // tail
    return;
  }
  bool have_all_bytes = !overflow_moved_;
  // Not executed, so safe to send again anywhere:
  //  - nothing left the router (a pooled connection the node had just closed);
  //  - the node reset the connection before any response byte. A TCP stack resets a socket
  //    closed with unread data in it, or data arriving after the close; a node that had
  //    read the whole request and then stopped (crash, SIGKILL) closes with a FIN instead
  //    (kClosed below, outcome unknown). The router never pipelines to a node, so the unread
  //    bytes can only be this request's: the node closed an "idle" keep-alive connection
  //    (graceful shutdown) while the request was on its way.
  if ((!request_sent || why == http::UpstreamFailure::kReset) && !response_started &&
      have_all_bytes) {
    exclude_slots_ |= uint64_t{1} << slot;
    exclude_version_ = snap_->version;
    worker_->ReportStale();
    Dispatch();
    return;
  }
  if (cls_ == RequestClass::kRead && !response_started && replayable_ && have_all_bytes &&
      read_retries_ == 0) {
    ++read_retries_;
    exclude_slots_ |= uint64_t{1} << slot;
    exclude_version_ = snap_->version;
    worker_->ReportStale();
    Dispatch();
    return;
  }
  // The node may or may not have acted on it: never replay.
  LOG_WARN("%s %s to node %s: %s after the request was sent (attempt %d); outcome unknown",
           req_->method.c_str(), req_->target.c_str(), node.c_str(),
           why == http::UpstreamFailure::kTimeout       ? "no answer in time"
           : why == http::UpstreamFailure::kBadResponse ? "bad response"
           : why == http::UpstreamFailure::kReset       ? "connection reset"
                                                        : "connection closed",
           attempts_);
  worker_->counters().upstream_errors.fetch_add(1, std::memory_order_relaxed);
  worker_->ReportStale();
  int status = why == http::UpstreamFailure::kTimeout ? 504 : 502;
  Answer(status, "application/json",
         ErrorsJson(why == http::UpstreamFailure::kTimeout
                        ? "node " + node + " did not answer in time; outcome unknown"
                        : "connection to node " + node + " failed; outcome unknown"),
         {}, {}, !request_done_);  // tail
}

// ---------------------------------------------------------------------------------------
// Answers made by the router

void ProxyExchange::AnswerUnavailable(std::string_view why) {
  std::string retry = std::to_string(settings_ ? settings_->retry_after_s : 1);
  Answer(503, "application/json", ErrorsJson(why), "Retry-After", retry);  // tail
}

void ProxyExchange::Answer(int status, std::string_view content_type, std::string_view body,
                           std::string_view extra_name, std::string_view extra_value, bool close) {
  StopHolding();
  status_ = status;
  answered_ = true;
  CountDone(kLocalSlot, status);
  downstream_->LocalResponse(status, content_type, body, extra_name, extra_value, close);  // tail
}

void ProxyExchange::AnswerHaloEndpoint() {
  std::string_view path = target_.path;
  std::string_view method = req_->method;
  if (path != "/_halo/status" && path != "/_halo/metrics") {
    Answer(404, "application/json", ErrorsJson("no such router endpoint"));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    Answer(405, "application/json", ErrorsJson("use GET"), "Allow", "GET, HEAD");
    return;
  }
  const ClusterSnapshot& snap = *worker_->snapshot();
  if (path == "/_halo/metrics") {
    std::string text = worker_->metrics().RenderPrometheus(snap);
    Answer(200, "text/plain; version=0.0.4", text);
    return;
  }
  StatusContext ctx;
  ctx.config_generation = settings_->generation;
  ctx.reads = settings_->reads;
  ctx.mode = settings_->mode;
  ctx.failover_hold_ms = settings_->failover_hold_ms;
  ctx.workers = settings_->workers;
  ctx.draining = worker_->draining();
  std::string json = RenderStatusJson(snap, worker_->metrics(), ctx);
  Answer(200, "application/json", json);
}

void ProxyExchange::CountDone(int slot, int status) {
  int64_t latency = start_us_ ? NowUs() - start_us_ : 0;
  worker_->worker_metrics().CountRequest(cls_, slot, status, latency);
}

}  // namespace halo::router
