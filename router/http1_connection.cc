#include "router/http1_connection.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include <charconv>
#include <chrono>

#include "common/http/serializer.h"
#include "common/logging.h"
#include "common/net/net_address.h"
#include "router/worker.h"

namespace halo::router {
namespace {

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

}  // namespace

Http1Connection::Http1Connection(Worker* worker, evutil_socket_t fd, const sockaddr* peer)
    : worker_(worker), sock_(worker->base(), this), settings_(worker->settings()) {
  client_ip_ = net::IpString(peer);
  timer_ = evtimer_new(worker_->base(), &Http1Connection::OnTimer, this);
  deferred_ = event_new(worker_->base(), -1, 0, &Http1Connection::OnDeferred, this);
  parser_ = std::make_unique<http::RequestParser>(
      settings_->request_parser, static_cast<http::RequestParser::Callbacks*>(this));
  exchange_ = std::make_unique<ProxyExchange>(worker_, static_cast<http::Downstream*>(this));
  sock_.Adopt(fd);
  ArmTimer(TimerUse::kIdle, settings_->limits.idle_timeout_ms);
  worker_->counters().connections_open.fetch_add(1, std::memory_order_relaxed);
}

Http1Connection::~Http1Connection() {
  exchange_.reset();  // leaves the hold queue, releases any node connection
  if (timer_) event_free(timer_);
  if (deferred_) event_free(deferred_);
  worker_->counters().connections_open.fetch_sub(1, std::memory_order_relaxed);
  worker_->ConnClosed(this);
}

// ---------------------------------------------------------------------------------------
// Client I/O

void Http1Connection::OnReadable() {
  if (lingering_) {  // closing: read and drop whatever the client still sends
    evbuffer_drain(sock_.input(), evbuffer_get_length(sock_.input()));
    return;
  }
  if (phase_ == Phase::kExchange && !request_done_) {
    ArmTimer(TimerUse::kBody, settings_->limits.idle_timeout_ms);
  }
  ProcessInput();
}

void Http1Connection::ProcessInput() {
  if (in_process_) return;
  in_process_ = true;
  evbuffer* in = sock_.input();
  while (!closing_ && !input_paused_) {
    if (phase_ == Phase::kExchange && request_done_) break;  // next request waits
    size_t len = evbuffer_get_length(in);
    if (len == 0) break;
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHead;
      start_us_ = NowUs();
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
      if (state != http::ParseState::kNeedMore || closing_ || input_paused_) break;
    }
    evbuffer_drain(in, consumed);
    if (closing_) break;
    if (state == http::ParseState::kError) {
      HandleParseError();
      break;
    }
  }
  in_process_ = false;
}

void Http1Connection::PauseRequestBody() {
  if (input_paused_) return;
  input_paused_ = true;
  sock_.DisableRead();
}

void Http1Connection::ResumeRequestBody() {
  if (!input_paused_ || closing_) return;
  input_paused_ = false;
  sock_.EnableRead();
  ScheduleDeferred();  // parse what is buffered, from the loop
}

void Http1Connection::OnDrained() {
  if (closing_) {
    Linger();  // may delete *this
    return;
  }
  exchange_->DownstreamDrained();
}

void Http1Connection::OnClosed(int err, bool) {
  if (err == 0 && lingering_) {
    delete this;  // the client read our last answer and closed: done
    return;
  }
  if (err == 0 && !closing_ && phase_ == Phase::kExchange && request_done_ && !response_done_) {
    keep_alive_ = false;  // half-close after a complete request: answer, then close
    return;
  }
  delete this;  // EOF between requests, client abort, or a socket error
}

// After the last answer is out: close, or, if the client may still be sending (an error
// answered before its request was read), stop sending (FIN) and read and drop what it sends
// for a moment first, so the close does not reset a connection whose answer is unread
// (nginx's lingering close).
void Http1Connection::Linger() {
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

void Http1Connection::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Http1Connection*>(arg);
  TimerUse use = self->timer_use_;
  self->timer_use_ = TimerUse::kNone;
  switch (use) {
    case TimerUse::kClose:
      if (evbuffer_get_length(self->sock_.output()) == 0) self->Linger();  // may delete
      return;  // else OnDrained lingers once the output is out
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
      self->exchange_->Abandon();
      if (self->response_started_) {
        delete self;
        return;
      }
      self->CountLocal(408);
      self->LocalResponse(408, "application/json", ErrorsJson("request timed out"), {}, {}, true);
      return;
    case TimerUse::kNone:
      return;
  }
}

void Http1Connection::ArmTimer(TimerUse use, int64_t ms) {
  timer_use_ = use;
  if (use == TimerUse::kNone) {
    evtimer_del(timer_);
    return;
  }
  timeval tv = Tv(ms);
  evtimer_add(timer_, &tv);
}

void Http1Connection::ScheduleDeferred() { event_active(deferred_, EV_TIMEOUT, 0); }

void Http1Connection::OnDeferred(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Http1Connection*>(arg);
  if (self->closing_) return;
  if (self->phase_ == Phase::kExchange && self->request_done_ && self->response_done_) {
    self->FinishExchange();
    return;
  }
  if (!self->input_paused_ && evbuffer_get_length(self->sock_.input()) > 0) {
    self->ProcessInput();
  }
}

void Http1Connection::CloseSoon() {
  if (closing_) return;
  closing_ = true;
  linger_needed_ =
      (phase_ != Phase::kIdle && !request_done_) || evbuffer_get_length(sock_.input()) > 0;
  sock_.DisableRead();
  exchange_->Abandon();
  sock_.Flush();
  ArmTimer(TimerUse::kClose, 0);  // continues from the loop, never from inside a callback
}

void Http1Connection::BeginDrain() {
  drain_ = true;
  if (phase_ == Phase::kIdle && !closing_) CloseSoon();
}

// ---------------------------------------------------------------------------------------
// Requests

void Http1Connection::HandleParseError() {
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
  exchange_->Abandon();
  if (response_started_) {  // mid-exchange with a response already flowing: just close
    CloseSoon();
    return;
  }
  CountLocal(status);
  LocalResponse(status, "application/json", ErrorsJson(e.status.message()), {}, {}, true);
}

void Http1Connection::OnHead(http::Request& req) {
  phase_ = Phase::kExchange;
  request_done_ = false;
  response_started_ = false;
  response_done_ = false;
  framing_ = BodyFraming::kNone;
  keep_alive_ = req.keep_alive && !drain_;
  head_request_ = req.method == "HEAD";
  minor_version_ = req.version_minor;
  ArmTimer(TimerUse::kBody, settings_->limits.idle_timeout_ms);
  if (!exchange_->Begin(req)) {
    parser_->Reject(400, Status::InvalidArgument("request target cannot be normalised safely"));
  }
}

void Http1Connection::OnBody(std::string_view data) { exchange_->RequestBody(data); }

void Http1Connection::OnComplete(http::Request& req) {
  request_done_ = true;
  ArmTimer(TimerUse::kNone, 0);
  exchange_->RequestComplete(req.trailers);
  if (response_done_) ScheduleDeferred();
}

void Http1Connection::FinishExchange() {
  exchange_->Reset();
  phase_ = Phase::kIdle;
  request_done_ = response_started_ = response_done_ = false;
  if (drain_ || worker_->draining()) {
    CloseSoon();
    return;
  }
  ArmTimer(TimerUse::kIdle, settings_->limits.idle_timeout_ms);
  if (!input_paused_ && evbuffer_get_length(sock_.input()) > 0) ProcessInput();  // pipelined
}

void Http1Connection::CountLocal(int status) {
  int64_t latency = start_us_ ? NowUs() - start_us_ : 0;
  worker_->worker_metrics().CountRequest(exchange_->cls(), kLocalSlot, status, latency);
}

// ---------------------------------------------------------------------------------------
// http::Downstream: responses

void Http1Connection::StartResponse(const http::Response& head) {
  framing_ = ClientFraming(head, head_request_ ? "HEAD" : "GET", minor_version_);
  if (framing_ == BodyFraming::kCloseDelimited) keep_alive_ = false;
  if (drain_ || worker_->draining()) keep_alive_ = false;
  scratch_.clear();
  AppendClientResponseHead(head, framing_, keep_alive_, &scratch_);
  evbuffer_add(sock_.output(), scratch_.data(), scratch_.size());
  response_started_ = true;
}

void Http1Connection::ResponseBody(std::string_view data) {
  if (framing_ == BodyFraming::kChunked) {
    AddChunk(sock_.output(), data);
  } else {
    evbuffer_add(sock_.output(), data.data(), data.size());
  }
}

size_t Http1Connection::FlushResponse() {
  sock_.Flush();
  return evbuffer_get_length(sock_.output());
}

void Http1Connection::FinishResponse(const http::Headers& trailers) {
  if (framing_ == BodyFraming::kChunked) {
    scratch_.clear();
    if (!http::AppendLastChunk(&scratch_, trailers).ok()) scratch_.assign("0\r\n\r\n");
    evbuffer_add(sock_.output(), scratch_.data(), scratch_.size());
  }
  sock_.Flush();
  response_done_ = true;
  if (!keep_alive_) {
    CloseSoon();
    return;
  }
  // Finish from the loop (the exchange is still on the stack); if the request is not done
  // yet, the rest of its body is read and dropped first.
  if (request_done_ || input_paused_) {
    if (input_paused_) {
      input_paused_ = false;
      sock_.EnableRead();
    }
    ScheduleDeferred();
  }
}

void Http1Connection::LocalResponse(int status, std::string_view content_type,
                                    std::string_view body, std::string_view extra_name,
                                    std::string_view extra_value, bool close) {
  if (close || drain_ || worker_->draining()) keep_alive_ = false;
  scratch_.clear();
  AppendLocalResponse(status, content_type, body, keep_alive_, extra_name, extra_value, &scratch_,
                      head_request_);
  evbuffer_add(sock_.output(), scratch_.data(), scratch_.size());
  sock_.Flush();
  response_started_ = true;
  response_done_ = true;
  if (!keep_alive_) {
    CloseSoon();
    return;
  }
  if (request_done_ || input_paused_) {
    if (input_paused_) {
      input_paused_ = false;
      sock_.EnableRead();
    }
    ScheduleDeferred();
  }
}

void Http1Connection::AbortResponse() {
  keep_alive_ = false;
  response_done_ = true;
  CloseSoon();  // the client sees a response cut short
}

}  // namespace halo::router
