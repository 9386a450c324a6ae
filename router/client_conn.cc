#include "router/client_conn.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>

#include <charconv>
#include <chrono>

#include "common/http/serializer.h"
#include "common/http/syntax.h"
#include "common/logging.h"
#include "router/net_address.h"
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

void AddChunk(evbuffer* out, std::string_view data) {
  if (data.empty()) return;
  char size[24];
  auto [end, ec] = std::to_chars(size, size + sizeof(size) - 2, data.size(), 16);
  (void)ec;
  *end++ = '\r';
  *end++ = '\n';
  evbuffer_add(out, size, static_cast<size_t>(end - size));
  evbuffer_add(out, data.data(), data.size());
  evbuffer_add(out, "\r\n", 2);
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

ClientConn::ClientConn(Worker* worker, evutil_socket_t fd, const sockaddr* peer)
    : worker_(worker), sock_(worker->base(), this), settings_(worker->settings()) {
  client_ip_ = IpString(peer);
  timer_ = evtimer_new(worker_->base(), &ClientConn::OnTimer, this);
  parser_ = std::make_unique<http::RequestParser>(
      settings_->request_parser, static_cast<http::RequestParser::Callbacks*>(this));
  sock_.Adopt(fd);
  ArmTimer(TimerUse::kIdle, settings_->limits.idle_timeout_ms);
  worker_->counters().connections_open.fetch_add(1, std::memory_order_relaxed);
}

ClientConn::~ClientConn() {
  StopHolding();
  if (upstream_) ReleaseUpstream(false);
  if (overflow_) evbuffer_free(overflow_);
  if (timer_) event_free(timer_);
  worker_->counters().connections_open.fetch_sub(1, std::memory_order_relaxed);
  worker_->ConnClosed(this);
}

// ---------------------------------------------------------------------------------------
// Client I/O

void ClientConn::OnReadable() {
  if (lingering_) {  // closing: read and drop whatever the client still sends
    evbuffer_drain(sock_.input(), evbuffer_get_length(sock_.input()));
    return;
  }
  if (phase_ == Phase::kExchange && !request_done_ && !held_) {
    ArmTimer(TimerUse::kBody, settings_->limits.idle_timeout_ms);
  }
  ProcessInput();
}

void ClientConn::FlushClient() { sock_.Flush(); }

void ClientConn::ProcessInput() {
  if (in_process_) return;
  in_process_ = true;
  evbuffer* in = sock_.input();
  while (!closing_ && !input_paused_) {
    if (phase_ == Phase::kExchange && request_done_) break;  // next request waits
    size_t len = evbuffer_get_length(in);
    if (len == 0) break;
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHead;
      ArmTimer(TimerUse::kHeader, settings_->limits.header_timeout_ms);
    }
    evbuffer_iovec vec[8];
    int n = evbuffer_peek(in, -1, nullptr, vec, 8);
    if (n > 8) n = 8;
    size_t consumed = 0;
    http::ParseState state = http::ParseState::kNeedMore;
    for (int i = 0; i < n; ++i) {
      http::ParseProgress p = parser_->Feed(
          std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len));
      consumed += p.consumed;
      state = p.state;
      if (state != http::ParseState::kNeedMore || closing_) break;
    }
    evbuffer_drain(in, consumed);
    if (closing_) break;
    if (state == http::ParseState::kError) {
      HandleParseError();
      break;
    }
    // Back-pressure: too much request body waiting for the node.
    if (phase_ == Phase::kExchange && !request_done_) {
      size_t pending = replay_.size() - sent_ + (overflow_ ? evbuffer_get_length(overflow_) : 0);
      if (upstream_) pending += upstream_->output_length();
      if (pending > kHighWater) PauseInput();
    }
  }
  in_process_ = false;
}

void ClientConn::PauseInput() {
  if (input_paused_) return;
  input_paused_ = true;
  sock_.DisableRead();
}

void ClientConn::ResumeInput() {
  if (!input_paused_ || closing_) return;
  input_paused_ = false;
  sock_.EnableRead();
  ProcessInput();
}

void ClientConn::OnDrained() {
  if (closing_) {
    Linger();  // may delete *this
    return;
  }
  if (upstream_paused_ && upstream_) {
    upstream_paused_ = false;
    upstream_->ResumeReading();
  }
}

void ClientConn::OnClosed(int err, bool) {
  if (err == 0 && lingering_) {
    delete this;  // the client read our last answer and closed: done
    return;
  }
  if (err == 0 && !closing_ && phase_ == Phase::kExchange && request_done_ && !response_done_) {
    // Half-close after a complete request: answer, then close.
    keep_alive_ = false;
    return;
  }
  delete this;  // EOF between requests, client abort, or a socket error
}

// After the last answer is out: close, or, if the client may still be sending (an error
// answered before its request was read), stop sending (FIN) and read and drop what it sends
// for a moment first, so the close does not reset a connection whose answer is unread
// (nginx's lingering close).
void ClientConn::Linger() {
  if (lingering_) return;
  if (!linger_needed_ || sock_.closed() || sock_.read_eof()) {
    delete this;
    return;
  }
  lingering_ = true;
  sock_.ShutdownWrite();
  evbuffer_drain(sock_.input(), evbuffer_get_length(sock_.input()));
  sock_.EnableRead();
  ArmTimer(TimerUse::kLinger, 2000);
}

void ClientConn::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientConn*>(arg);
  TimerUse use = self->timer_use_;
  self->timer_use_ = TimerUse::kNone;
  switch (use) {
    case TimerUse::kClose:
      if (evbuffer_get_length(self->sock_.output()) == 0) {
        self->Linger();  // may delete *self
        return;
      }
      return;  // OnDrained lingers once the output is out
    case TimerUse::kLinger:
      delete self;
      return;
    case TimerUse::kIdle:
      self->worker_->counters().timeouts.fetch_add(1, std::memory_order_relaxed);
      delete self;
      return;
    case TimerUse::kHeader:
    case TimerUse::kBody:
      self->worker_->counters().timeouts.fetch_add(1, std::memory_order_relaxed);
      if (self->upstream_) self->ReleaseUpstream(false);
      self->StopHolding();
      if (self->response_started_) {
        delete self;
        return;
      }
      self->local_ = true;
      self->AnswerLocal(408, "application/json", ErrorsJson("request timed out"), {}, {}, true);
      return;
    case TimerUse::kHold:
      if (!self->held_) return;
      self->StopHolding();
      self->Dispatch();  // a last look; answers 503 once the hold budget is spent
      return;
    case TimerUse::kNone:
      return;
  }
}

void ClientConn::ArmTimer(TimerUse use, int64_t ms) {
  timer_use_ = use;
  if (use == TimerUse::kNone) {
    evtimer_del(timer_);
    return;
  }
  timeval tv = Tv(ms);
  evtimer_add(timer_, &tv);
}

void ClientConn::CloseSoon() {
  if (closing_) return;
  closing_ = true;
  linger_needed_ =
      (phase_ != Phase::kIdle && !request_done_) || evbuffer_get_length(sock_.input()) > 0;
  sock_.DisableRead();
  StopHolding();
  if (upstream_) ReleaseUpstream(false);
  FlushClient();
  ArmTimer(TimerUse::kClose, 0);  // continues from the loop, never from inside a callback
}

void ClientConn::BeginDrain() {
  drain_ = true;
  if (phase_ == Phase::kIdle && !closing_) CloseSoon();
}

// ---------------------------------------------------------------------------------------
// Request parsing

void ClientConn::HandleParseError() {
  const http::ParseError& e = parser_->error();
  int status = e.http_status ? e.http_status : 400;
  RouterCounters& c = worker_->counters();
  if (status == 431) {
    c.headers_too_large.fetch_add(1, std::memory_order_relaxed);
  } else if (status == 413) {
    c.bodies_too_large.fetch_add(1, std::memory_order_relaxed);
  } else {
    c.bad_requests.fetch_add(1, std::memory_order_relaxed);
  }
  LOG_DEBUG("client %s: %d %s", client_ip_.c_str(), status, e.status.message().c_str());
  if (upstream_) ReleaseUpstream(false);
  StopHolding();
  if (response_started_) {  // mid-exchange with a response already flowing: just close
    CloseSoon();
    return;
  }
  local_ = true;
  if (start_us_ == 0) start_us_ = NowUs();
  AnswerLocal(status, "application/json", ErrorsJson(e.status.message()), {}, {}, true);
}

void ClientConn::OnHead(http::Request& req) {
  phase_ = Phase::kExchange;
  ResetExchange();
  req_ = &req;
  start_us_ = NowUs();
  ArmTimer(TimerUse::kBody, settings_->limits.idle_timeout_ms);
  xsettings_ = worker_->settings();
  if (!NormalizeTarget(req.target, &target_)) {
    parser_->Reject(400, Status::InvalidArgument("request target cannot be normalised safely"));
    return;
  }
  keep_alive_ = req.keep_alive && !drain_;
  std::string_view api = ApiPath(target_.path);
  if (target_.path.size() >= 7 && std::string_view(target_.path).substr(0, 7) == "/_halo/") {
    local_ = true;
    cls_ = RequestClass::kRead;
    return;  // answered at OnComplete
  }
  Classification c = xsettings_->classifier.Classify(req.method, api, target_.list);
  cls_ = c.cls;
  mode_ = c.mode;
  // Response wrapping always writes (cubbyhole): OpenBao forwards it from standbys.
  if (cls_ == RequestClass::kRead && req.headers.Has("x-vault-wrap-ttl")) {
    cls_ = RequestClass::kWrite;
  }
  std::optional<std::string_view> nf = req.headers.Get("x-vault-no-request-forwarding");
  no_forward_ = nf.has_value() && !nf->empty();
  replay_.clear();
  AppendUpstreamRequestHead(req, client_ip_, xsettings_->listen_address, &replay_);
  Dispatch();
}

void ClientConn::OnBody(std::string_view data) {
  if (local_ || response_done_) return;  // answered already: discard the rest
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
}

void ClientConn::OnComplete(http::Request& req) {
  request_done_ = true;
  if (!held_) ArmTimer(TimerUse::kNone, 0);
  if (local_) {
    if (!response_started_ && status_ == 0) AnswerHaloEndpoint();
    if (response_done_) FinishExchange();
    return;
  }
  if (response_done_) {
    FinishExchange();
    return;
  }
  if (req.chunked) {
    scratch_.clear();
    if (!http::AppendLastChunk(&scratch_, req.trailers).ok()) {
      scratch_.assign("0\r\n\r\n");
    }
    AppendOut(scratch_.data(), scratch_.size());
    Flush();
  }
}

void ClientConn::AppendOut(const char* data, size_t len) {
  if (replayable_ && !overflow_moved_ &&
      replay_.size() + len <= static_cast<size_t>(xsettings_->limits.retry_buffer_bytes)) {
    replay_.append(data, len);
    return;
  }
  replayable_ = false;
  if (!overflow_) overflow_ = evbuffer_new();
  evbuffer_add(overflow_, data, len);
}

void ClientConn::Flush() {
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

// ---------------------------------------------------------------------------------------
// Routing

uint64_t ClientConn::ExcludeMask() const {
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

void ClientConn::Dispatch() {
  snap_ = worker_->snapshot();
  RouteInput in;
  in.cls = cls_;
  in.mode = mode_;
  in.reads = xsettings_->reads;
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
      local_ = true;
      AnswerLocal(307, {}, {}, "Location", location);
      return;
    }
    case RouteDecision::Kind::kHold:
      if (!held_) {
        // One hold budget per request, however many times it comes back here.
        int64_t now_ms = NowUs() / 1000;
        if (hold_deadline_ms_ == 0) {
          hold_deadline_ms_ = now_ms + xsettings_->failover_hold_ms;
          worker_->counters().held_writes.fetch_add(1, std::memory_order_relaxed);
        }
        if (now_ms >= hold_deadline_ms_) {
          worker_->counters().held_expired.fetch_add(1, std::memory_order_relaxed);
          AnswerUnavailable("no active node is known; the request was held for " +
                            std::to_string(xsettings_->failover_hold_ms) + "ms");
          return;
        }
        held_ = true;
        worker_->Hold(this);
        worker_->counters().held_now.fetch_add(1, std::memory_order_relaxed);
        ArmTimer(TimerUse::kHold, hold_deadline_ms_ - now_ms);
      }
      return;
    case RouteDecision::Kind::kUnavailable:
      StopHolding();
      AnswerUnavailable("no healthy node can serve this request");
      return;
  }
}

void ClientConn::Redispatch() {
  if (!held_ || closing_) return;
  Dispatch();  // still held: stays in the queue with its timer running
  if (!held_) worker_->counters().held_dispatched.fetch_add(1, std::memory_order_relaxed);
}

void ClientConn::StopHolding() {
  if (!held_) return;
  held_ = false;
  worker_->Unhold(this);
  worker_->counters().held_now.fetch_sub(1, std::memory_order_relaxed);
  if (timer_use_ == TimerUse::kHold) {
    ArmTimer(request_done_ ? TimerUse::kNone : TimerUse::kBody, settings_->limits.idle_timeout_ms);
  }
}

void ClientConn::StartUpstream(int node_index) {
  const NodeView& node = snap_->nodes[node_index];
  UpstreamPool& pool = worker_->pool();
  UpstreamConn* conn = pool.Take(node.slot, node.resolved, cls_ == RequestClass::kWrite);
  if (!conn) {
    conn = new UpstreamConn(worker_->base(), node.slot, node.resolved, xsettings_->response_parser);
    if (!conn->Connect(xsettings_->limits.upstream_connect_timeout_ms)) {
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
  conn->Attach(this, req_->method, xsettings_->limits.upstream_timeout_ms);
  if (conn->connected()) Flush();
}

void ClientConn::ReleaseUpstream(bool reuse) {
  UpstreamConn* c = upstream_;
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

void ClientConn::OnUpstreamConnected(UpstreamConn*) {
  Flush();
  if (input_paused_) ResumeInput();
}

void ClientConn::OnUpstreamDrained(UpstreamConn*) {
  if (input_paused_) ResumeInput();
}

bool ClientConn::OnUpstreamHead(UpstreamConn*, http::Response& resp) {
  const NodeView& node = snap_->nodes[node_index_];
  if (resp.status == 503 && replayable_ && !overflow_moved_ &&
      (cls_ == RequestClass::kWrite || read_retries_ == 0)) {
    // A sealed node, or a standby that knows no active: the request was not executed.
    // Try again (writes wait for the next active; reads go to another node once).
    worker_->ReportStale();
    return false;
  }
  if (cls_ == RequestClass::kWrite && resp.status == 307 && node.role == NodeRole::kActive) {
    worker_->ReportStale();  // the node we believed active redirects: it is not any more
  }
  status_ = resp.status;
  framing_ = ClientFraming(resp, req_->method, req_->version_minor);
  if (framing_ == BodyFraming::kCloseDelimited) keep_alive_ = false;
  if (drain_ || worker_->draining()) keep_alive_ = false;
  scratch_.clear();
  AppendClientResponseHead(resp, framing_, keep_alive_, &scratch_);
  evbuffer_add(sock_.output(), scratch_.data(), scratch_.size());
  response_started_ = true;
  return true;
}

void ClientConn::OnUpstreamBody(UpstreamConn*, std::string_view data) {
  evbuffer* out = sock_.output();
  if (framing_ == BodyFraming::kChunked) {
    AddChunk(out, data);
  } else {
    evbuffer_add(out, data.data(), data.size());
  }
}

void ClientConn::OnUpstreamReadDone(UpstreamConn* c) {
  FlushClient();
  if (!upstream_paused_ && evbuffer_get_length(sock_.output()) > kHighWater) {
    upstream_paused_ = true;  // the client reads slower than the node answers
    c->PauseReading();
  }
}

void ClientConn::OnUpstreamComplete(UpstreamConn* c, http::Response& resp) {
  if (framing_ == BodyFraming::kChunked) {
    scratch_.clear();
    if (!http::AppendLastChunk(&scratch_, resp.trailers).ok()) scratch_.assign("0\r\n\r\n");
    evbuffer_add(sock_.output(), scratch_.data(), scratch_.size());
  }
  FlushClient();
  bool fully_sent = request_done_ && sent_ == replay_.size() &&
                    (!overflow_ || evbuffer_get_length(overflow_) == 0);
  bool reuse = c->reusable() && fully_sent;
  int slot = slot_;
  ReleaseUpstream(reuse);
  // A node that closes connections is shutting down or restarting: its pooled siblings will
  // be closed too, so do not send the next write into one of them.
  if (!resp.keep_alive) worker_->pool().DropSlot(slot);
  CountDone(slot, status_);
  ResponseDone();
}

void ClientConn::OnUpstreamRefused(UpstreamConn*) {
  exclude_slots_ |= uint64_t{1} << slot_;
  exclude_version_ = snap_->version;
  if (cls_ == RequestClass::kRead) ++read_retries_;
  int slot = slot_;
  ReleaseUpstream(false);
  worker_->pool().DropSlot(slot);
  Dispatch();
}

void ClientConn::OnUpstreamError(UpstreamConn*, UpstreamFailure why, bool request_sent,
                                 bool response_started) {
  const NodeView node = snap_->nodes[node_index_];
  int slot = slot_;
  ReleaseUpstream(false);
  // Its siblings in the pool most likely died the same way (node crash or restart).
  if (why == UpstreamFailure::kConnect || why == UpstreamFailure::kClosed) {
    worker_->pool().DropSlot(slot);
  }
  if (why == UpstreamFailure::kConnect) {
    worker_->counters().connect_failures[slot].fetch_add(1, std::memory_order_relaxed);
    worker_->ReportConnectFailure(slot, node.name, "connect failed");
    Dispatch();  // never written: safe anywhere
    return;
  }
  if (response_started_) {  // the client already has part of this response
    worker_->counters().upstream_errors.fetch_add(1, std::memory_order_relaxed);
    CountDone(slot, 502);
    CloseSoon();
    return;
  }
  bool have_all_bytes = !overflow_moved_;
  if (!request_sent && !response_started && have_all_bytes) {
    // Nothing left the router (a pooled connection the node had closed): not executed.
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
  worker_->counters().upstream_errors.fetch_add(1, std::memory_order_relaxed);
  worker_->ReportStale();
  int status = why == UpstreamFailure::kTimeout ? 504 : 502;
  local_ = true;
  AnswerLocal(status, "application/json",
              ErrorsJson(why == UpstreamFailure::kTimeout
                             ? "node " + node.name + " did not answer in time; outcome unknown"
                             : "connection to node " + node.name + " failed; outcome unknown"),
              {}, {}, !request_done_);
}

// ---------------------------------------------------------------------------------------
// Answers

void ClientConn::AnswerUnavailable(std::string_view why) {
  local_ = true;
  std::string retry = std::to_string(xsettings_ ? xsettings_->retry_after_s : 1);
  AnswerLocal(503, "application/json", ErrorsJson(why), "Retry-After", retry);
}

void ClientConn::AnswerLocal(int status, std::string_view content_type, std::string_view body,
                             std::string_view extra_name, std::string_view extra_value,
                             bool close) {
  local_ = true;
  status_ = status;
  if (close || drain_ || worker_->draining()) keep_alive_ = false;
  scratch_.clear();
  bool head_only = req_ && req_->method == "HEAD";
  AppendLocalResponse(status, content_type, body, keep_alive_, extra_name, extra_value, &scratch_,
                      head_only);
  evbuffer_add(sock_.output(), scratch_.data(), scratch_.size());
  FlushClient();
  response_started_ = true;
  CountDone(kLocalSlot, status);
  if (close) {
    CloseSoon();
    return;
  }
  ResponseDone();
}

void ClientConn::AnswerHaloEndpoint() {
  std::string_view path = target_.path;
  std::string_view method = req_->method;
  if (path != "/_halo/status" && path != "/_halo/metrics") {
    AnswerLocal(404, "application/json", ErrorsJson("no such router endpoint"));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    AnswerLocal(405, "application/json", ErrorsJson("use GET"), "Allow", "GET, HEAD");
    return;
  }
  const ClusterSnapshot& snap = *worker_->snapshot();
  if (path == "/_halo/metrics") {
    std::string text = worker_->metrics().RenderPrometheus(snap);
    AnswerLocal(200, "text/plain; version=0.0.4", text);
    return;
  }
  StatusContext ctx;
  ctx.config_generation = xsettings_->generation;
  ctx.reads = xsettings_->reads;
  ctx.mode = xsettings_->mode;
  ctx.failover_hold_ms = xsettings_->failover_hold_ms;
  ctx.workers = xsettings_->workers;
  ctx.draining = worker_->draining();
  std::string json = RenderStatusJson(snap, worker_->metrics(), ctx);
  AnswerLocal(200, "application/json", json);
}

void ClientConn::CountDone(int slot, int status) {
  int64_t latency = start_us_ ? NowUs() - start_us_ : 0;
  worker_->worker_metrics().CountRequest(cls_, slot, status, latency);
}

void ClientConn::ResponseDone() {
  response_done_ = true;
  if (!keep_alive_) {
    CloseSoon();
    return;
  }
  if (request_done_) {
    FinishExchange();
  } else if (input_paused_) {
    ResumeInput();  // keep reading and discarding the rest of the request body
  }
}

void ClientConn::FinishExchange() {
  ResetExchange();
  phase_ = Phase::kIdle;
  if (drain_ || worker_->draining()) {
    CloseSoon();
    return;
  }
  ArmTimer(TimerUse::kIdle, settings_->limits.idle_timeout_ms);
  if (input_paused_) {
    ResumeInput();
  } else if (evbuffer_get_length(sock_.input()) > 0) {
    ProcessInput();  // a pipelined request (no-op when called from inside ProcessInput)
  }
}

void ClientConn::ResetExchange() {
  req_ = nullptr;
  local_ = false;
  request_done_ = false;
  response_started_ = false;
  response_done_ = false;
  overflow_moved_ = false;
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
  framing_ = BodyFraming::kNone;
  replay_.clear();
  sent_ = 0;
  if (overflow_) evbuffer_drain(overflow_, evbuffer_get_length(overflow_));
  start_us_ = 0;
  keep_alive_ = true;
}

}  // namespace halo::router
