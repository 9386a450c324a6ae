#include "common/http/server_connection.h"

#include <event2/buffer.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/http/serializer.h"
#include "common/http/syntax.h"
#include "common/logging.h"

namespace halo::http::detail {
namespace {

// Past this much unsent output, stop reading pipelined requests until the client catches up.
constexpr size_t kOutputHighWater = 256 * 1024;

timeval ToTimeval(Duration d) {
  if (d < Duration::zero()) d = Duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return tv;
}

void FreeString(const void*, size_t, void* arg) { delete static_cast<std::string*>(arg); }

}  // namespace

// ---- ResponderState ------------------------------------------------------------------------

ResponderState::~ResponderState() {
  if (sent.load() || !queue) return;
  // Every copy of the responder is gone without an answer: the client gets 500 instead of
  // waiting forever. Always posted (this may run on any thread, or inside the handler).
  std::weak_ptr<ServerConnection> c = conn;
  uint64_t s = seq;
  queue->Post([c, s]() {
    if (auto p = c.lock()) p->OnResponse(s, ErrorResponse(500, "the request was not answered"));
  });
}

void ResponderState::Deliver(Response response) {
  if (auto p = conn.lock()) p->OnResponse(seq, std::move(response));
}

// ---- ServerConnection ----------------------------------------------------------------------

ServerConnection::ServerConnection(HttpServer* server, bufferevent* bev, uint64_t id,
                                   std::string peer)
    : server_(server),
      bev_(bev),
      id_(id),
      peer_(std::move(peer)),
      parser_(server->options_.parser, this) {}

ServerConnection::~ServerConnection() {
  if (timer_) event_free(timer_);
  if (bev_) bufferevent_free(bev_);
}

void ServerConnection::Start(bool reject) {
  timer_ = evtimer_new(bufferevent_get_base(bev_), &ServerConnection::OnTimer, this);
  bufferevent_setcb(bev_, &ServerConnection::OnRead, &ServerConnection::OnWrite,
                    &ServerConnection::OnEvent, this);
  timeval wt = ToTimeval(server_->options_.write_timeout);
  bufferevent_set_timeouts(bev_, nullptr, &wt);
  if (reject) {
    rejecting_ = true;
    bufferevent_enable(bev_, EV_WRITE);
    FailAndClose(503, "too many connections");
    return;
  }
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  ArmReadTimer();
}

void ServerConnection::OnRead(bufferevent*, void* arg) {
  auto self = static_cast<ServerConnection*>(arg)->shared_from_this();
  if (self->state_ == State::kLingering) {
    evbuffer* in = bufferevent_get_input(self->bev_);
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  if (self->state_ == State::kReading) self->ProcessInput();
}

void ServerConnection::OnWrite(bufferevent*, void* arg) {
  auto self = static_cast<ServerConnection*>(arg)->shared_from_this();
  if (self->state_ == State::kClosing) {
    self->StartLinger();
    return;
  }
  if (self->wait_drain_ && self->state_ == State::kReading) {
    self->wait_drain_ = false;
    bufferevent_enable(self->bev_, EV_READ);
    self->ProcessInput();
  }
}

void ServerConnection::OnEvent(bufferevent*, short what, void* arg) {
  auto self = static_cast<ServerConnection*>(arg)->shared_from_this();
  if (what & BEV_EVENT_TIMEOUT) {
    ++self->server_->stats_.timeouts;
    self->Close();  // a write made no progress for write_timeout
    return;
  }
  if (what & BEV_EVENT_ERROR) {
    self->Close();
    return;
  }
  if (what & BEV_EVENT_EOF) {
    switch (self->state_) {
      case State::kHandling:
        self->keep_alive_ = false;  // answer, then close
        break;
      case State::kClosing:
        break;  // finish writing; StartLinger closes at once
      case State::kReading:
        if (self->parser_.idle() && evbuffer_get_length(bufferevent_get_output(self->bev_)) > 0) {
          self->state_ = State::kClosing;  // a half-close: deliver what is queued, then close
          evtimer_del(self->timer_);
          break;
        }
        self->Close();  // idle, or a request cut short: nobody is left to answer
        break;
      default:
        self->Close();
    }
  }
}

void ServerConnection::OnTimer(evutil_socket_t, short, void* arg) {
  auto self = static_cast<ServerConnection*>(arg)->shared_from_this();
  if (self->state_ == State::kReading) {
    ++self->server_->stats_.timeouts;
    if (self->IdleBetweenRequests()) {
      self->Close();
    } else {
      self->FailAndClose(408, "request timeout");
    }
  } else if (self->state_ == State::kLingering) {
    self->Close();
  }
}

bool ServerConnection::IdleBetweenRequests() const {
  return parser_.idle() && evbuffer_get_length(bufferevent_get_input(bev_)) == 0;
}

void ServerConnection::ArmTimer(Duration d) {
  timeval tv = ToTimeval(d);
  evtimer_add(timer_, &tv);
}

void ServerConnection::ArmReadTimer() {
  const HttpServerOptions& o = server_->options_;
  if (parser_.idle()) {
    // A new connection must start its first request within header_timeout.
    ArmTimer(served_one_ ? o.idle_timeout : o.header_timeout);
  } else if (!parser_.head_complete()) {
    ArmTimer(head_deadline_ - std::chrono::steady_clock::now());
  } else {
    ArmTimer(o.body_timeout);
  }
}

void ServerConnection::ProcessInput() {
  if (in_process_ || state_ != State::kReading) return;
  in_process_ = true;
  while (state_ == State::kReading && !wait_drain_) {
    evbuffer* in = bufferevent_get_input(bev_);
    if (evbuffer_get_length(in) == 0) break;
    evbuffer_iovec vec[16];
    int n = std::min(evbuffer_peek(in, -1, nullptr, vec, 16), 16);
    size_t consumed = 0;
    ParseState st = ParseState::kNeedMore;
    for (int i = 0; i < n && st == ParseState::kNeedMore; ++i) {
      ParseProgress p =
          parser_.Feed(std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len));
      consumed += p.consumed;
      st = p.state;
    }
    evbuffer_drain(in, consumed);
    if (!request_started_ && !parser_.idle()) {
      request_started_ = true;
      head_deadline_ = std::chrono::steady_clock::now() + server_->options_.header_timeout;
    }
    if (st == ParseState::kError) {
      ++server_->stats_.parse_errors;
      LOG_DEBUG("http: %s: %d %s", peer_.c_str(), parser_.error().http_status,
                parser_.error().status.message().c_str());
      FailAndClose(parser_.error().http_status, parser_.error().status.message());
      break;
    }
    if (st == ParseState::kMessageComplete) Dispatch();
  }
  in_process_ = false;
  if (state_ == State::kReading) ArmReadTimer();
}

void ServerConnection::OnHead(Request& request) {
  current_ = &request;
  if (request.content_length > 0) {
    request.body.reserve(static_cast<size_t>(std::min<int64_t>(request.content_length, 1 << 20)));
  }
  std::optional<std::string_view> expect = request.headers.Get("Expect");
  if (!expect) return;
  if (!EqualsIgnoreCase(*expect, "100-continue")) {
    parser_.Reject(417, Status::InvalidArgument("unsupported expectation"));
    return;
  }
  if (request.IsHttp11() && (request.content_length > 0 || request.chunked)) {
    bufferevent_write(bev_, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  }
}

void ServerConnection::OnBody(std::string_view data) { current_->body.append(data); }

void ServerConnection::OnComplete(Request&) {}

void ServerConnection::Dispatch() {
  Request request = std::move(parser_.request());
  current_ = nullptr;
  request.remote_addr = peer_;
  ++seq_;
  ++requests_;
  ++server_->stats_.requests;
  head_request_ = request.method == "HEAD";
  http11_ = request.IsHttp11();
  size_t max_requests = server_->options_.max_requests_per_connection;
  keep_alive_ = request.keep_alive && !server_->shutting_down_ &&
                !(max_requests > 0 && requests_ >= max_requests);
  request_started_ = false;
  state_ = State::kHandling;
  bufferevent_disable(bev_, EV_READ);
  evtimer_del(timer_);
  auto rs = std::make_shared<ResponderState>();
  rs->conn = weak_from_this();
  rs->seq = seq_;
  rs->queue = server_->queue_;
  rs->loop_thread = std::this_thread::get_id();
  server_->handler_->Handle(std::move(request), HttpResponder(std::move(rs)));
}

void ServerConnection::OnResponse(uint64_t seq, Response response) {
  if (state_ != State::kHandling || seq != seq_) return;
  auto self = shared_from_this();
  WriteResponse(std::move(response));
}

void ServerConnection::WriteResponse(Response response) {
  for (std::string_view v : response.headers.GetAll("Connection")) {
    if (ListContainsToken(v, "close")) keep_alive_ = false;
  }
  if (server_->shutting_down_) keep_alive_ = false;
  response.headers.Remove("Connection");
  if (!keep_alive_) {
    response.headers.Add("Connection", "close");
  } else if (!http11_) {
    response.headers.Add("Connection", "keep-alive");
  }
  auto* out = new std::string;
  Status st = AppendResponse(out, response, head_request_);
  if (!st.ok()) {
    LOG_WARN("http: handler produced an invalid response: %s", st.ToString().c_str());
    out->clear();
    keep_alive_ = false;
    Response error = ErrorResponse(500, "invalid response");
    error.headers.Add("Connection", "close");
    (void)AppendResponse(out, error, head_request_);
  }
  evbuffer* output = bufferevent_get_output(bev_);
  evbuffer_add_reference(output, out->data(), out->size(), &FreeString, out);
  served_one_ = true;
  if (!keep_alive_) {
    state_ = State::kClosing;  // OnWrite starts the close once this has drained
    return;
  }
  state_ = State::kReading;
  if (evbuffer_get_length(output) > kOutputHighWater) {
    wait_drain_ = true;  // OnWrite resumes
    ArmReadTimer();
    return;
  }
  bufferevent_enable(bev_, EV_READ);
  if (in_process_) return;  // the ProcessInput loop on the stack picks up pipelined requests
  ProcessInput();
}

void ServerConnection::FailAndClose(int status, std::string_view message) {
  keep_alive_ = false;
  Response r = ErrorResponse(status, message);
  r.headers.Add("Connection", "close");
  std::string out;
  (void)AppendResponse(&out, r, false);
  bufferevent_write(bev_, out.data(), out.size());
  bufferevent_disable(bev_, EV_READ);
  evtimer_del(timer_);
  state_ = State::kClosing;
}

void ServerConnection::StartLinger() {
  // Shut our side, then read and drop whatever the client still sends, so closing does not
  // reset the connection before it has read the response.
  state_ = State::kLingering;
  evutil_socket_t fd = bufferevent_getfd(bev_);
  if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
    Close();
    return;
  }
  evbuffer* in = bufferevent_get_input(bev_);
  evbuffer_drain(in, evbuffer_get_length(in));
  bufferevent_enable(bev_, EV_READ);
  ArmTimer(server_->options_.linger_timeout);
}

void ServerConnection::BeginShutdown() {
  auto self = shared_from_this();
  if (state_ == State::kReading && IdleBetweenRequests()) {
    if (evbuffer_get_length(bufferevent_get_output(bev_)) > 0) {
      // A response is still queued: deliver it, then close (OnWrite -> StartLinger).
      bufferevent_disable(bev_, EV_READ);
      evtimer_del(timer_);
      state_ = State::kClosing;
      return;
    }
    Close();
    return;
  }
  keep_alive_ = false;
}

void ServerConnection::Close() {
  if (state_ == State::kClosed) return;
  auto self = shared_from_this();
  state_ = State::kClosed;
  if (timer_) {
    event_free(timer_);
    timer_ = nullptr;
  }
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  server_->RemoveConnection(id_);
}

}  // namespace halo::http::detail
