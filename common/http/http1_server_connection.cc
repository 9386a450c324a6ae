#include "common/http/http1_server_connection.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include <algorithm>

#include "common/check.h"
#include "common/http/error_body.h"
#include "common/http/evbuffer_feed.h"
#include "common/http/h2_server_connection.h"
#include "common/http/serializer.h"
#include "common/http/syntax.h"
#include "common/logging.h"
#include "common/net/net_address.h"

namespace halo::http {
namespace {

// Past this much unsent output the next pipelined request waits for the client to read.
constexpr size_t kOutputHighWater = 256 * 1024;
// Past this much pipelined input buffered behind a request in flight, reading stops until
// that request is answered (until then EOF is not noticed either).
constexpr size_t kPipelineHighWater = 256 * 1024;

constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

// What a plaintext client on a TLS port gets before the close (nginx answers 497 here; 400
// is what a client can act on).
const std::string& PlaintextOnTlsReply() {
  static const std::string reply = [] {
    std::string body =
        ErrorBody("the client sent a plain HTTP request to a TLS port; use https://");
    return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  return reply;
}

}  // namespace

Http1ServerConnection::Http1ServerConnection(event_base* base, TimerSource* timers,
                                             ServerConnectionHost* host,
                                             std::shared_ptr<const ServerConnectionOptions> options,
                                             evutil_socket_t fd, const sockaddr* peer)
    : base_(base),
      timers_(timers),
      host_(host),
      options_(std::move(options)),
      sock_(std::make_unique<net::StreamSocket>(base,
                                                static_cast<net::StreamSocket::Handler*>(this))),
      client_ip_(net::IpString(peer)),
      peer_address_(net::HostPortString(peer)),
      parser_(options_->parser, static_cast<RequestParser::Callbacks*>(this)) {
  timer_ = timers->NewTimer([this] { OnTimer(); });
  write_timer_ = timers->NewTimer([this] { OnWriteTimeout(); });
  deferred_ = event_new(base, -1, 0, &Http1ServerConnection::OnDeferred, this);
  HALO_CHECK(deferred_ != nullptr, "event_new failed (out of memory)");
  exchange_ = host_->NewExchange(static_cast<Downstream*>(this));
  if (options_->tls) {
    sock_->AdoptTls(fd, options_->tls, &PlaintextOnTlsReply());
  } else {
    sock_->Adopt(fd);
  }
  ArmTimer(TimerUse::kIdle, options_->first_request_timeout);
}

Http1ServerConnection::~Http1ServerConnection() {
  ReleaseBody();
  exchange_.reset();  // releases whatever the exchange holds (node connection, hold slot)
  event_free(deferred_);
  if (!handed_off_) host_->OnConnectionClosed(this);
}

bool Http1ServerConnection::HandOffToH2() {
  if (!options_->h2.enabled || requests_ > 0 || phase_ != Phase::kIdle || closing_) return false;
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  evbuffer* in = sock_->input();
  size_t n = std::min(evbuffer_get_length(in), kPreface.size());
  char head[24];
  if (n == 0 || evbuffer_copyout(in, head, n) != static_cast<ev_ssize_t>(n) ||
      std::string_view(head, n) != kPreface.substr(0, n)) {
    return false;
  }
  if (n < kPreface.size()) return true;  // a prefix of it: wait for the rest (still ours)
  auto* h2 = new H2ServerConnection(base_, timers_, host_, options_, std::move(sock_), client_ip_,
                                    peer_address_);
  host_->OnConnectionReplaced(this, h2);
  handed_off_ = true;
  delete this;
  return true;
}

// ---------------------------------------------------------------------------------------
// Client I/O

void Http1ServerConnection::OnReadable() {
  if (phase_ == Phase::kIdle && requests_ == 0 && HandOffToH2()) return;  // may delete *this
  if (lingering_) {  // closing: read and drop whatever the client still sends
    evbuffer_drain(sock_->input(), evbuffer_get_length(sock_->input()));
    return;
  }
  if (phase_ == Phase::kExchange && !request_done_) {
    ArmTimer(TimerUse::kBody, options_->body_timeout);
  }
  if (phase_ == Phase::kExchange && request_done_ &&
      evbuffer_get_length(sock_->input()) > kPipelineHighWater) {
    pipeline_full_ = true;  // FinishExchange reads on
    sock_->DisableRead();
  }
  ProcessInput();
}

void Http1ServerConnection::ProcessInput() {
  if (in_process_) return;
  in_process_ = true;
  evbuffer* in = sock_->input();
  while (!closing_ && !input_paused_ && !wait_output_) {
    if (phase_ == Phase::kExchange && request_done_) break;  // the next request waits
    size_t len = evbuffer_get_length(in);
    if (len == 0) break;
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHead;
      ArmTimer(TimerUse::kHeader, options_->header_timeout);
    }
    ParseState state = FeedFromEvbuffer(in, parser_, [this] { return closing_ || input_paused_; });
    if (closing_) break;
    if (state == ParseState::kError) {
      HandleParseError();
      break;
    }
  }
  in_process_ = false;
}

void Http1ServerConnection::PauseRequestBody() {
  if (input_paused_) return;
  input_paused_ = true;
  sock_->DisableRead();
}

void Http1ServerConnection::ResumeRequestBody() {
  if (!input_paused_ || closing_) return;
  input_paused_ = false;
  sock_->EnableRead();
  ScheduleDeferred();  // parse what is buffered, from the loop
}

void Http1ServerConnection::Flush() {
  sock_->Flush();
  if (sock_->pending_output() > 0) {
    if (!write_timer_->armed()) write_timer_->Arm(options_->write_timeout);
  } else {
    write_timer_->Cancel();
  }
}

void Http1ServerConnection::OnDrained() {
  write_timer_->Cancel();
  if (closing_) {
    Linger();  // may delete *this
    return;
  }
  if (wait_output_) {
    wait_output_ = false;
    ScheduleDeferred();  // the next pipelined request
  }
  exchange_->DownstreamDrained();
}

void Http1ServerConnection::OnWriteTimeout() {
  // The client stopped reading: nothing more can reach it.
  host_->OnTimeout();
  exchange_->Abandon();
  delete this;
}

void Http1ServerConnection::OnClosed(int err, bool) {
  if (err == 0 && lingering_) {
    delete this;  // the client read our last answer and closed: done
    return;
  }
  // Reading goes on while a request is in flight, so that a client that goes away is seen
  // at once. EOF before the answer is complete is abandonment even if it may be a
  // half-close (nginx's proxy_ignore_client_abort off): the exchange drops what it holds (a
  // parked query, a node connection) and the socket is freed.
  bool answered = phase_ == Phase::kIdle || response_done_;
  if (err == 0 && !closing_ && answered && sock_->pending_output() > 0) {
    CloseSoon();  // half-close with an answer still queued: deliver it, then close
    return;
  }
  if (!answered) exchange_->Abandon();
  delete this;  // EOF between requests, client abort, or a socket error
}

// After the last answer is out: close, or, if the client may still be sending (an error
// answered before its request was read), stop sending (FIN) and read and drop what it sends
// for a moment first, so the close does not reset a connection whose answer is unread.
void Http1ServerConnection::Linger() {
  if (lingering_) return;
  if (!linger_needed_ || sock_->closed() || sock_->read_eof()) {
    delete this;
    return;
  }
  lingering_ = true;
  sock_->ShutdownWrite();
  evbuffer_drain(sock_->input(), evbuffer_get_length(sock_->input()));
  sock_->EnableRead();
  ArmTimer(TimerUse::kLinger, options_->linger_timeout);
}

void Http1ServerConnection::OnTimer() {
  TimerUse use = timer_use_;
  timer_use_ = TimerUse::kNone;
  switch (use) {
    case TimerUse::kClose:
      if (sock_->pending_output() == 0) Linger();  // may delete
      return;                                      // else OnDrained lingers once the output is out
    case TimerUse::kLinger:
      delete this;
      return;
    case TimerUse::kIdle:
      host_->OnTimeout();
      delete this;
      return;
    case TimerUse::kHeader:
    case TimerUse::kBody:
      host_->OnTimeout();
      exchange_->Abandon();
      if (response_started_) {
        delete this;
        return;
      }
      CodecAnswer(408, "request timed out");
      return;
    case TimerUse::kNone:
      return;
  }
}

void Http1ServerConnection::ArmTimer(TimerUse use, Duration d) {
  timer_use_ = use;
  if (use == TimerUse::kNone) {
    timer_->Cancel();
    return;
  }
  timer_->Arm(d);
}

void Http1ServerConnection::ScheduleDeferred() { event_active(deferred_, EV_TIMEOUT, 0); }

void Http1ServerConnection::OnDeferred(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Http1ServerConnection*>(arg);
  if (self->closing_) return;
  if (self->phase_ == Phase::kExchange && self->request_done_ && self->response_done_) {
    self->FinishExchange();
    return;
  }
  if (!self->input_paused_ && evbuffer_get_length(self->sock_->input()) > 0) {
    self->ProcessInput();
  }
}

void Http1ServerConnection::CloseSoon() {
  if (closing_) return;
  closing_ = true;
  linger_needed_ =
      (phase_ != Phase::kIdle && !request_done_) || evbuffer_get_length(sock_->input()) > 0;
  sock_->DisableRead();
  ReleaseBody();  // no more of this body will be read
  exchange_->Abandon();
  Flush();
  ArmTimer(TimerUse::kClose, Duration::zero());  // continues from the loop
}

void Http1ServerConnection::Refuse(int status, std::string_view message) {
  phase_ = Phase::kHead;  // as if a request had started: linger for what the client sends
  CodecAnswer(status, message);
}

void Http1ServerConnection::BeginDrain() {
  drain_ = true;
  if (phase_ == Phase::kIdle && !closing_) CloseSoon();
}

bool Http1ServerConnection::KeepAliveAllowed() const {
  size_t max = options_->max_requests_per_connection;
  return !drain_ && !host_->draining() && !(max > 0 && requests_ >= max);
}

// ---------------------------------------------------------------------------------------
// Requests

void Http1ServerConnection::HandleParseError() {
  const ParseError& e = parser_.error();
  int status = e.http_status ? e.http_status : 400;
  host_->OnBadRequest(status);
  LOG_DEBUG("http: client %s: %d %s", peer_address_.c_str(), status, e.status.message().c_str());
  exchange_->Abandon();
  if (response_started_) {  // mid-exchange with a response already flowing: just close
    CloseSoon();
    return;
  }
  CodecAnswer(status, e.status.message());
}

bool Http1ServerConnection::ReserveBody(uint64_t n) {
  if (!options_->body_budget || n == 0) return true;
  if (!options_->body_budget->TryReserve(n)) return false;
  body_reserved_ += n;
  return true;
}

void Http1ServerConnection::ReleaseBody() {
  if (body_reserved_ == 0) return;
  options_->body_budget->Release(body_reserved_);
  body_reserved_ = 0;
}

void Http1ServerConnection::RefuseBody() {
  LOG_DEBUG("http: client %s: 503 request bodies in flight over the limit", peer_address_.c_str());
  exchange_->Abandon();
  if (response_started_) {  // a chunked body past the budget while an answer flows: cut
    CloseSoon();
    return;
  }
  exchange_->CodecAnswered(503);
  LocalResponse(503, "application/json",
                ErrorBody("too many request bodies in progress; retry later"), "Retry-After",
                std::to_string(options_->retry_after_s), true);
}

void Http1ServerConnection::CodecAnswer(int status, std::string_view message) {
  exchange_->CodecAnswered(status);
  LocalResponse(status, "application/json", ErrorBody(message), {}, {}, true);
}

void Http1ServerConnection::OnHead(Request& req) {
  phase_ = Phase::kExchange;
  request_done_ = false;
  response_started_ = false;
  response_done_ = false;
  framing_ = BodyFraming::kNone;
  ++requests_;
  keep_alive_ = req.keep_alive && KeepAliveAllowed();
  head_request_ = req.method == "HEAD";
  minor_version_ = req.version_minor;
  expect_continue_ = false;
  request_chunked_ = req.chunked;
  ArmTimer(TimerUse::kBody, options_->body_timeout);
  if (std::optional<std::string_view> expect = req.headers.Get("expect")) {
    if (!EqualsIgnoreCase(TrimOws(*expect), "100-continue")) {
      parser_.Reject(417, Status::InvalidArgument("unsupported expectation"));
      return;
    }
    expect_continue_ = req.IsHttp11() && (req.content_length > 0 || req.chunked);
  }
  // Before the exchange starts anything (the router dispatches at Begin): a declared body
  // must fit the process's budget, or it is refused unread.
  if (!req.chunked && req.content_length > 0 &&
      !ReserveBody(static_cast<uint64_t>(req.content_length))) {
    RefuseBody();
    return;
  }
  if (!exchange_->Begin(req)) {
    parser_.Reject(400, Status::InvalidArgument("request target cannot be normalised safely"));
    return;
  }
  if (expect_continue_ && !response_started_) {
    // The exchange wants the body: tell the client to send it (RFC 9110 §10.1.1).
    expect_continue_ = false;
    evbuffer_add(sock_->output(), k100Continue.data(), k100Continue.size());
    Flush();
  }
}

void Http1ServerConnection::OnBody(std::string_view data) {
  // Answered and closing (an early answer at the head): the rest of the segment that held
  // the head is not the exchange's any more.
  if (closing_) return;
  if (request_chunked_ && !ReserveBody(data.size())) {  // no declared length: as it arrives
    RefuseBody();
    return;
  }
  exchange_->RequestBody(data);
}

void Http1ServerConnection::OnComplete(Request& req) {
  if (closing_) return;  // as in OnBody
  request_done_ = true;
  expect_continue_ = false;
  ArmTimer(TimerUse::kNone, Duration::zero());
  exchange_->RequestComplete(req.trailers);
  if (response_done_) ScheduleDeferred();
}

void Http1ServerConnection::FinishExchange() {
  ReleaseBody();
  exchange_->Reset();
  phase_ = Phase::kIdle;
  if (pipeline_full_) {
    pipeline_full_ = false;
    if (!input_paused_) sock_->EnableRead();
  }
  request_done_ = response_started_ = response_done_ = false;
  if (!KeepAliveAllowed()) {
    CloseSoon();
    return;
  }
  ArmTimer(TimerUse::kIdle, options_->idle_timeout);
  if (sock_->pending_output() > kOutputHighWater) {
    wait_output_ = true;  // OnDrained resumes
    return;
  }
  if (!input_paused_ && evbuffer_get_length(sock_->input()) > 0) ProcessInput();  // pipelined
}

// ---------------------------------------------------------------------------------------
// Downstream: responses

void Http1ServerConnection::StartResponse(const Response& head) {
  framing_ = ClientFraming(head, head_request_ ? "HEAD" : "GET", minor_version_);
  if (framing_ == BodyFraming::kCloseDelimited || expect_continue_ || !KeepAliveAllowed()) {
    keep_alive_ = false;  // an unsent body after a final answer: close (RFC 9110 §10.1.1)
  }
  scratch_.clear();
  AppendClientResponseHead(head, framing_, keep_alive_, &scratch_, minor_version_);
  evbuffer_add(sock_->output(), scratch_.data(), scratch_.size());
  response_started_ = true;
}

void Http1ServerConnection::ResponseBody(std::string_view data) {
  if (data.empty()) return;
  if (framing_ == BodyFraming::kChunked) {
    scratch_.clear();
    AppendChunkHeader(&scratch_, data.size());
    evbuffer_add(sock_->output(), scratch_.data(), scratch_.size());
    evbuffer_add(sock_->output(), data.data(), data.size());
    evbuffer_add(sock_->output(), "\r\n", 2);
  } else {
    evbuffer_add(sock_->output(), data.data(), data.size());
  }
}

size_t Http1ServerConnection::FlushResponse() {
  Flush();
  return sock_->pending_output();
}

void Http1ServerConnection::FinishResponse(const Headers& trailers) {
  if (framing_ == BodyFraming::kChunked) {
    scratch_.clear();
    if (!AppendLastChunk(&scratch_, trailers).ok()) scratch_.assign("0\r\n\r\n");
    evbuffer_add(sock_->output(), scratch_.data(), scratch_.size());
  }
  ResponseQueued();
}

void Http1ServerConnection::LocalResponse(int status, std::string_view content_type,
                                          std::string_view body, std::string_view extra_name,
                                          std::string_view extra_value, bool close) {
  if (close || expect_continue_ || !KeepAliveAllowed()) keep_alive_ = false;
  scratch_.clear();
  AppendLocalResponse(status, content_type, body, keep_alive_, extra_name, extra_value, &scratch_,
                      head_request_, minor_version_);
  evbuffer_add(sock_->output(), scratch_.data(), scratch_.size());
  response_started_ = true;
  ResponseQueued();
}

// The whole response is queued: send it; then close, or finish the exchange from the loop
// (the exchange is still on the stack). If the request is not complete yet, the rest of its
// body is read and dropped first.
void Http1ServerConnection::ResponseQueued() {
  Flush();
  response_done_ = true;
  if (!keep_alive_) {
    CloseSoon();
    return;
  }
  if (request_done_ || input_paused_) {
    if (input_paused_) {
      input_paused_ = false;
      sock_->EnableRead();
    }
    ScheduleDeferred();
  }
}

void Http1ServerConnection::AbortResponse() {
  keep_alive_ = false;
  response_done_ = true;
  CloseSoon();  // the client sees a response cut short
}

}  // namespace halo::http
