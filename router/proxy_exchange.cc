#include "router/proxy_exchange.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include <chrono>

#include "common/http/retry_policy.h"
#include "common/http/serializer.h"
#include "common/http/url.h"
#include "common/ids.h"
#include "common/logging.h"
#include "router/access_line.h"
#include "router/access_log.h"
#include "router/admin_access.h"
#include "router/proxy_headers.h"
#include "router/route_policy.h"
#include "router/status_page.h"

namespace halo::router {
namespace {

// Flow control: stop reading one side when the other side's unsent bytes pass this.
constexpr size_t kHighWater = 256 * 1024;

}  // namespace

ProxyExchange::ProxyExchange(ExchangeContext* ctx, http::Downstream* downstream, Listener listener)
    : ctx_(ctx), downstream_(downstream), listener_(listener) {
  hold_timer_ = ctx_->timers().NewTimer([this] { OnHoldTimer(); });
}

ProxyExchange::~ProxyExchange() {
  Abandon();
  if (overflow_) evbuffer_free(overflow_);
}

void ProxyExchange::Reset() {
  Abandon();
  st_ = State{};
  replay_.clear();
  if (overflow_) evbuffer_drain(overflow_, evbuffer_get_length(overflow_));
}

void ProxyExchange::Abandon() {
  StopHolding();
  // The client went away before its answer (nginx's 499), logged once.
  if (st_.req && !st_.answered && !st_.logged) LogAccess(kLocalSlot, 499);
  // Not back to the pool: the node still owes an answer on it (the client went away).
  if (st_.upstream) ReleaseUpstream(false);
  if (st_.blocking_query) {
    st_.blocking_query = false;
    ctx_->counters().blocking_queries.fetch_sub(1, std::memory_order_relaxed);
  }
}

// ---------------------------------------------------------------------------------------
// The request

bool ProxyExchange::Begin(http::Request& req) {
  Reset();
  st_.req = &req;
  st_.start = ctx_->timers().clock().Now();
  st_.settings = ctx_->settings();
  (downstream_->http2() ? ctx_->counters().client_requests_h2
                        : ctx_->counters().client_requests_http1)
      .fetch_add(1, std::memory_order_relaxed);
  if (st_.settings->access_log) {
    st_.start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    std::optional<std::string_view> id = req.headers.Get("x-request-id");
    if (id && !id->empty() && id->size() <= 128) {
      request_id_.assign(*id);
    } else {
      request_id_.clear();
      uint64_t hi = ctx_->rng().Next();
      AppendUuidText(hi, ctx_->rng().Next(), &request_id_);
    }
  }
  if (!NormalizeTarget(req.target, &target_)) return false;
  std::string_view path = target_.path;
  if (listener_ == Listener::kAdmin || (path.size() >= 7 && path.substr(0, 7) == "/_halo/")) {
    st_.halo_endpoint = true;
    st_.cls = RequestClass::kRead;
    return true;  // answered at RequestComplete
  }
  Classification c = st_.settings->classifier.Classify(req.method, ApiPath(path), target_.list);
  st_.cls = c.cls;
  st_.mode = c.mode;
  st_.rule = c.rule;
  // Response wrapping always writes (cubbyhole): OpenBao forwards it from standbys.
  if (st_.cls == RequestClass::kRead && req.headers.Has("x-vault-wrap-ttl")) {
    st_.cls = RequestClass::kWrite;
  }
  std::optional<std::string_view> nf = req.headers.Get("x-vault-no-request-forwarding");
  st_.no_forward = nf.has_value() && !nf->empty();
  // sys/health answers with the codes the client's query picks: relayed as is.
  st_.health_query = ApiPath(path) == "sys/health";
  if (ApiPath(path) == "sys/leader" &&
      http::QueryParams::ParseLenient(target_.query).Has("index")) {
    // A blocking query holds a node connection (and a router one) for its whole wait: bound
    // how many pass through, so that parked queries cannot take every node connection.
    int64_t cap = st_.settings->limits.max_blocking_queries;
    RouterCounters& counters = ctx_->counters();
    if (cap > 0 && counters.blocking_queries.load(std::memory_order_relaxed) >= cap) {
      counters.blocking_queries_refused.fetch_add(1, std::memory_order_relaxed);
      Answer(429, "application/json", ErrorsJson("too many blocking sys/leader queries"),
             "Retry-After", "1");  // tail
      return true;
    }
    counters.blocking_queries.fetch_add(1, std::memory_order_relaxed);
    st_.blocking_query = true;
  }
  AppendUpstreamRequestHead(req, downstream_->client_ip(), downstream_->secure(),
                            st_.settings->listen_address, &replay_);
  Dispatch();
  return true;
}

void ProxyExchange::RequestBody(std::string_view data) {
  // Answered already, or the node is answering: the rest is dropped, never pushed on.
  st_.request_bytes += data.size();
  if (st_.halo_endpoint || st_.answered || st_.response_started) return;
  if (st_.req->chunked) {
    if (data.empty()) return;
    scratch_.clear();
    http::AppendChunkHeader(&scratch_, data.size());
    AppendOut(scratch_.data(), scratch_.size());
    AppendOut(data.data(), data.size());
    AppendOut("\r\n", 2);
  } else {
    AppendOut(data.data(), data.size());
  }
  Flush();
  PaceRequestBody();
}

void ProxyExchange::RequestComplete(const http::Headers& trailers) {
  st_.request_done = true;
  if (st_.halo_endpoint) {
    AnswerHaloEndpoint();  // tail
    return;
  }
  if (st_.answered) return;
  if (st_.req->chunked) {
    scratch_.clear();
    if (!http::AppendLastChunk(&scratch_, trailers).ok()) scratch_.assign("0\r\n\r\n");
    AppendOut(scratch_.data(), scratch_.size());
    Flush();
  }
}

void ProxyExchange::AppendOut(const char* data, size_t len) {
  if (st_.replayable && !st_.overflow_moved &&
      replay_.size() + len <= static_cast<size_t>(st_.settings->limits.retry_buffer_bytes)) {
    replay_.append(data, len);
    return;
  }
  st_.replayable = false;
  if (!overflow_) overflow_ = evbuffer_new();
  evbuffer_add(overflow_, data, len);
}

void ProxyExchange::Flush() {
  if (!st_.upstream || !st_.upstream->connected()) return;
  evbuffer* out = st_.upstream->output();
  size_t total = 0;
  if (st_.sent < replay_.size()) {
    size_t n = replay_.size() - st_.sent;
    evbuffer_add(out, replay_.data() + st_.sent, n);
    st_.sent = replay_.size();
    total += n;
  }
  if (overflow_) {
    size_t n = evbuffer_get_length(overflow_);
    if (n > 0) {
      evbuffer_add_buffer(out, overflow_);  // a move, not a copy
      st_.overflow_moved = true;
      total += n;
    }
  }
  if (total > 0) st_.upstream->Send(total);
}

// Back-pressure: too much request body waiting for the node pauses the client.
void ProxyExchange::PaceRequestBody() {
  if (st_.request_done) return;
  size_t pending = replay_.size() - st_.sent + (overflow_ ? evbuffer_get_length(overflow_) : 0);
  if (st_.upstream) pending += st_.upstream->output_length();
  if (pending > kHighWater && !st_.body_paused) {
    st_.body_paused = true;
    downstream_->PauseRequestBody();
  } else if (pending <= kHighWater && st_.body_paused) {
    st_.body_paused = false;
    downstream_->ResumeRequestBody();
  }
}

// ---------------------------------------------------------------------------------------
// Routing

uint64_t ProxyExchange::ExcludeMask() const {
  uint64_t slots = ctx_->local_down_slots();
  if (st_.exclude_version == st_.snap->version) slots |= st_.exclude_slots;
  if (slots == 0) return 0;
  uint64_t mask = 0;
  for (size_t i = 0; i < st_.snap->nodes.size() && i < 64; ++i) {
    int s = st_.snap->nodes[i].slot;
    if (s >= 0 && s < 64 && ((slots >> s) & 1)) mask |= uint64_t{1} << i;
  }
  return mask;
}

void ProxyExchange::Dispatch() {
  st_.snap = ctx_->snapshot();
  RouteInput in;
  in.cls = st_.cls;
  in.mode = st_.mode;
  in.reads = st_.settings->reads;
  in.client_no_forward = st_.no_forward;
  in.exclude_mask = ExcludeMask();
  const RouterCounters& counters = ctx_->counters();
  const ClusterSnapshot& snap = *st_.snap;
  RouteDecision d = DecideRoute(
      in, snap,
      [&](int i) { return counters.inflight[snap.nodes[i].slot].load(std::memory_order_relaxed); },
      &ctx_->rng());
  switch (d.kind) {
    case RouteDecision::Kind::kProxy:
      StopHolding();
      StartUpstream(d.node);
      return;
    case RouteDecision::Kind::kRedirect: {
      StopHolding();
      ctx_->counters().redirects.fetch_add(1, std::memory_order_relaxed);
      std::string location = snap.redirect_addr;
      while (!location.empty() && location.back() == '/') location.pop_back();
      location.append(http::OriginForm(st_.req->target));
      Answer(307, {}, {}, "Location", location);  // tail
      return;
    }
    case RouteDecision::Kind::kHold:
      if (!st_.held) {
        // One hold budget per request, however many times it comes back here.
        TimePoint now = ctx_->timers().clock().Now();
        if (!st_.hold_deadline) {
          st_.hold_deadline = now + std::chrono::milliseconds(st_.settings->failover_hold_ms);
          ctx_->counters().held_writes.fetch_add(1, std::memory_order_relaxed);
        }
        if (now >= *st_.hold_deadline) {
          ctx_->counters().held_expired.fetch_add(1, std::memory_order_relaxed);
          AnswerUnavailable("no active node is known; the request was held for " +
                            std::to_string(st_.settings->failover_hold_ms) + "ms");
          return;
        }
        st_.held = true;
        st_.held_since = now;
        ctx_->Hold(this);
        ctx_->counters().held_now.fetch_add(1, std::memory_order_relaxed);
        hold_timer_->Arm(*st_.hold_deadline - now);
      }
      return;
    case RouteDecision::Kind::kUnavailable:
      StopHolding();
      AnswerUnavailable("no healthy node can serve this request");
      return;
  }
}

void ProxyExchange::Redispatch() {
  if (!st_.held) return;
  Dispatch();  // still held: stays in the queue with its timer running
  if (!st_.held) ctx_->counters().held_dispatched.fetch_add(1, std::memory_order_relaxed);
}

void ProxyExchange::OnHoldTimer() {
  if (!st_.held) return;
  StopHolding();
  Dispatch();  // a last look; answers 503 once the hold budget is spent
}

void ProxyExchange::StopHolding() {
  if (!st_.held) return;
  st_.held = false;
  st_.held_for += ctx_->timers().clock().Now() - st_.held_since;
  hold_timer_->Cancel();
  ctx_->Unhold(this);
  ctx_->counters().held_now.fetch_sub(1, std::memory_order_relaxed);
}

void ProxyExchange::StartUpstream(int node_index) {
  const NodeView& node = st_.snap->nodes[node_index];
  http::UpstreamStream* conn = ctx_->upstreams().Open(
      node, *st_.settings, st_.cls == RequestClass::kWrite, &st_.upstream_pooled);
  if (!conn) {
    ctx_->counters().connect_failures[node.slot].fetch_add(1, std::memory_order_relaxed);
    ctx_->ReportConnectFailure(node.slot, node.name, "connect failed");
    Dispatch();  // bounded: the node is now excluded
    return;
  }
  if (st_.attempts > 0) ctx_->counters().retries.fetch_add(1, std::memory_order_relaxed);
  ++st_.attempts;
  st_.upstream = conn;
  st_.node_index = node_index;
  st_.slot = node.slot;
  st_.sent = 0;
  ctx_->counters().inflight[st_.slot].fetch_add(1, std::memory_order_relaxed);
  conn->Attach(this, st_.req->method, st_.settings->limits.upstream_timeout_ms);
  if (conn->connected()) {
    Flush();
    PaceRequestBody();
  }
}

void ProxyExchange::ReleaseUpstream(bool reuse) {
  http::UpstreamStream* c = st_.upstream;
  st_.upstream = nullptr;
  st_.upstream_paused = false;
  ctx_->counters().inflight[st_.slot].fetch_sub(1, std::memory_order_relaxed);
  ctx_->upstreams().Release(c, reuse);
}

// ---------------------------------------------------------------------------------------
// Upstream events

void ProxyExchange::OnUpstreamConnected(http::UpstreamStream*) {
  Flush();
  PaceRequestBody();
}

void ProxyExchange::OnUpstreamDrained(http::UpstreamStream*) { PaceRequestBody(); }

bool ProxyExchange::OnUpstreamHead(http::UpstreamStream*, http::Response& resp) {
  const NodeView& node = st_.snap->nodes[st_.node_index];
  if (resp.status == 503) {
    // Marked: a sealed or shutting-down node, or a standby that knows no active, did not run
    // it. Unmarked: it may have run (DecideRetry replays only reads).
    bool marked = resp.headers.Get(http::kNotExecutedHeader).value_or("") == "1";
    http::RetryInput in = RetryBase();
    in.end = marked ? http::AttemptEnd::kNotExecuted : http::AttemptEnd::kAnswered503;
    http::RetryDecision d = http::DecideRetry(in);
    if (d.action == http::RetryAction::kResend) {
      if (d.counts_as_replay) ++st_.replays;
      if (marked) ctx_->ReportStale();  // only the node's own word is cluster state
      return false;                     // -> OnUpstreamRefused: excluded, dispatched again
    }
  }
  if (st_.cls == RequestClass::kWrite && resp.status == 307 && node.role == NodeRole::kActive) {
    ctx_->ReportStale();  // the node we believed active redirects: it is not any more
  }
  st_.status = resp.status;
  st_.upstream_status = resp.status;
  st_.response_started = true;
  if (!st_.request_done) {
    // An early answer (403, 413...: the node refused the request at its head and does not
    // read the rest of the body). The client gets it now, then the connection closes (a
    // lingering close): the rest of the body is unread, so the connection cannot go on.
    downstream_->CloseAfterResponse();
  }
  downstream_->StartResponse(resp);
  return true;
}

void ProxyExchange::OnUpstreamBody(http::UpstreamStream*, std::string_view data) {
  st_.response_bytes += data.size();
  downstream_->ResponseBody(data);
}

void ProxyExchange::DownstreamDrained() {
  if (st_.upstream_paused && st_.upstream) {
    st_.upstream_paused = false;
    st_.upstream->ResumeReading();
  }
}

void ProxyExchange::OnUpstreamReadDone(http::UpstreamStream* c) {
  size_t queued = downstream_->FlushResponse();
  if (!st_.upstream_paused && queued > kHighWater) {
    st_.upstream_paused = true;  // the client reads slower than the node answers
    c->PauseReading();
  }
}

void ProxyExchange::OnUpstreamComplete(http::UpstreamStream* c, http::Response& resp) {
  bool fully_sent = st_.request_done && st_.sent == replay_.size() &&
                    (!overflow_ || evbuffer_get_length(overflow_) == 0);
  bool reuse = c->reusable() && fully_sent;
  bool node_closes = !resp.keep_alive;
  trailers_ = resp.trailers;  // `resp` dies with the connection
  int slot = st_.slot;
  ReleaseUpstream(reuse);
  // A node that closes connections is shutting down or restarting: its pooled siblings will
  // be closed too, so do not send the next write into one of them.
  if (node_closes) ctx_->upstreams().DropSlot(slot);
  CountDone(slot, st_.status);
  st_.answered = true;
  downstream_->FinishResponse(trailers_);  // tail
}

void ProxyExchange::OnUpstreamRefused(http::UpstreamStream*) {
  ExcludeCurrentNode();
  int slot = st_.slot;
  ReleaseUpstream(false);
  ctx_->upstreams().DropSlot(slot);
  Dispatch();
}

http::RetryInput ProxyExchange::RetryBase() const {
  http::RetryInput in;
  in.scope = http::RetryScope::kAnyNode;
  in.kind = st_.cls == RequestClass::kWrite ? http::RequestKind::kWrite : http::RequestKind::kRead;
  in.pooled = st_.upstream_pooled;
  // Every byte is still here while none went beyond the replay buffer to a node.
  in.replayable = !st_.overflow_moved;
  in.response_forwarded = st_.response_started;
  in.replays = st_.replays;
  in.other_peer = true;  // routing decides: another node, the next active, or a 503
  in.client_chosen_status = st_.health_query;
  return in;
}

void ProxyExchange::ExcludeCurrentNode() {
  st_.exclude_slots |= uint64_t{1} << st_.slot;
  st_.exclude_version = st_.snap->version;
}

void ProxyExchange::OnUpstreamError(http::UpstreamStream* conn, http::UpstreamFailure why,
                                    http::Reach reach) {
  const std::string connect_error =
      conn->tls_error().empty() ? "connect failed" : "connect failed: " + conn->tls_error();
  http::RetryInput in = RetryBase();
  in.failure = why;
  in.reach = reach;
  http::RetryDecision d = http::DecideRetry(in);
  const std::string node = st_.snap->nodes[st_.node_index].name;
  int slot = st_.slot;
  if (d.action == http::RetryAction::kResend && d.exclude_peer) ExcludeCurrentNode();
  ReleaseUpstream(false);
  // Its siblings in the pool most likely died the same way (node crash or restart).
  if (why == http::UpstreamFailure::kConnect || why == http::UpstreamFailure::kClosed ||
      why == http::UpstreamFailure::kReset) {
    ctx_->upstreams().DropSlot(slot);
  }
  switch (d.action) {
    case http::RetryAction::kResend:
      if (d.counts_as_replay) ++st_.replays;
      if (why == http::UpstreamFailure::kConnect) {
        ctx_->counters().connect_failures[slot].fetch_add(1, std::memory_order_relaxed);
        ctx_->ReportConnectFailure(slot, node, connect_error);
      } else {
        ctx_->ReportStale();
      }
      Dispatch();
      return;
    case http::RetryAction::kAbort:  // the client already has part of this response
      ctx_->counters().upstream_errors.fetch_add(1, std::memory_order_relaxed);
      CountDone(slot, 502);
      st_.answered = true;
      downstream_->AbortResponse();  // tail
      return;
    case http::RetryAction::kPassThrough:
    case http::RetryAction::kFail:
      break;
  }
  LOG_WARN("%s %s to node %s: %s, %s (attempt %d): %.*s", st_.req->method.c_str(),
           st_.req->target.c_str(), node.c_str(), http::UpstreamFailureName(why),
           http::ReachName(reach), st_.attempts, static_cast<int>(d.reason.size()),
           d.reason.data());
  ctx_->counters().upstream_errors.fetch_add(1, std::memory_order_relaxed);
  ctx_->ReportStale();
  std::string message = d.status == 504 ? "node " + node + " did not answer in time"
                                        : "connection to node " + node + " failed";
  if (d.outcome_unknown) message += "; outcome unknown";
  Answer(d.status ? d.status : 502, "application/json", ErrorsJson(message), {}, {},
         !st_.request_done);  // tail
}

// ---------------------------------------------------------------------------------------
// Answers made by the router

void ProxyExchange::AnswerUnavailable(std::string_view why) {
  std::string retry = std::to_string(st_.settings ? st_.settings->retry_after_s : 1);
  Answer(503, "application/json", ErrorsJson(why), "Retry-After", retry);  // tail
}

void ProxyExchange::Answer(int status, std::string_view content_type, std::string_view body,
                           std::string_view extra_name, std::string_view extra_value, bool close) {
  StopHolding();
  st_.status = status;
  st_.answered = true;
  if (!downstream_->head_request()) st_.response_bytes = body.size();
  CountDone(kLocalSlot, status);
  downstream_->LocalResponse(status, content_type, body, extra_name, extra_value, close);  // tail
}

void ProxyExchange::AnswerHaloEndpoint() {
  std::string_view path = target_.path;
  std::string_view method = st_.req->method;
  if (listener_ == Listener::kClient) {
    // OpenBao has no /_halo/ paths; the router's pages are on its admin listener only.
    Answer(404, "application/json",
           ErrorsJson("no such path; the router's pages are on its admin listener"));
    return;
  }
  // The health check carries no secrets: a VIP's track script needs no token.
  bool health = path == "/_halo/health";
  if (!health && !AdminAccessAllowed(st_.req->headers, st_.settings->admin_token)) {
    Answer(403, "application/json", ErrorsJson("permission denied"));
    return;
  }
  if (!health && path != "/_halo/status" && path != "/_halo/metrics") {
    Answer(404, "application/json", ErrorsJson("no such router endpoint"));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    Answer(405, "application/json", ErrorsJson("use GET"), "Allow", "GET, HEAD");
    return;
  }
  const ClusterSnapshot& snap = *ctx_->snapshot();
  if (health) {
    HealthAnswer h = DecideHealth(snap, ctx_->draining());
    Answer(h.status, "application/json", h.body);
    return;
  }
  if (path == "/_halo/metrics") {
    std::string text = ctx_->metrics().RenderPrometheus(snap);
    Answer(200, "text/plain; version=0.0.4", text);
    return;
  }
  StatusContext ctx;
  ctx.config_generation = st_.settings->generation;
  ctx.reads = st_.settings->reads;
  ctx.mode = st_.settings->mode;
  ctx.failover_hold_ms = st_.settings->failover_hold_ms;
  ctx.workers = st_.settings->workers;
  ctx.draining = ctx_->draining();
  std::string json = RenderStatusJson(snap, ctx_->metrics(), ctx);
  Answer(200, "application/json", json);
}

void ProxyExchange::CountDone(int slot, int status) {
  int64_t latency = st_.start == TimePoint{}
                        ? 0
                        : std::chrono::duration_cast<std::chrono::microseconds>(
                              ctx_->timers().clock().Now() - st_.start)
                              .count();
  ctx_->worker_metrics().CountRequest(st_.cls, slot, status, latency);
  if (st_.settings && st_.settings->access_log) LogAccess(slot, status);
}

void ProxyExchange::LogAccess(int slot, int status) {
  AccessLog* log = st_.settings ? st_.settings->access_log : nullptr;
  // The admin listener's pages (health checks every second) stay out of the access log.
  if (!log || st_.logged || listener_ == Listener::kAdmin) return;
  st_.logged = true;
  TimePoint now = ctx_->timers().clock().Now();
  AccessRecord r;
  r.start_unix_ms = st_.start_ms;
  r.client = downstream_->peer_address();
  r.request_id = request_id_;
  if (st_.req) {
    r.proto = downstream_->http2()          ? "HTTP/2"
              : st_.req->version_minor == 0 ? "HTTP/1.0"
                                            : "HTTP/1.1";
    r.method = st_.req->method;
    r.path = target_.path;
    r.query = target_.query;
  }
  r.cls = st_.cls == RequestClass::kWrite ? "write" : "read";
  r.rule = st_.settings->classifier.rule_pattern(st_.rule);
  if (slot != kLocalSlot && st_.snap && st_.node_index >= 0 &&
      static_cast<size_t>(st_.node_index) < st_.snap->nodes.size()) {
    r.node = st_.snap->nodes[st_.node_index].name;
    r.upstream_status = st_.upstream_status;
  }
  r.status = status;
  r.request_bytes = st_.request_bytes;
  r.bytes = st_.response_bytes;
  if (st_.start != TimePoint{}) {
    r.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(now - st_.start).count();
  }
  r.retries = st_.attempts > 1 ? st_.attempts - 1 : 0;
  Duration held = st_.held_for + (st_.held ? now - st_.held_since : Duration{});
  r.held_us = std::chrono::duration_cast<std::chrono::microseconds>(held).count();
  log_line_.clear();
  AppendAccessLine(r, &log_line_);
  log->Append(log_line_);
}

}  // namespace halo::router
