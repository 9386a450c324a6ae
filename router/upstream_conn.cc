#include "router/upstream_conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>

namespace halo::router {
namespace {

timeval Tv(int64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

void UpstreamConn::ParserCallbacks::OnHead(http::Response& r) {
  c_->response_started_ = true;
  if (c_->owner_ && !c_->owner_->OnUpstreamHead(c_, r)) {
    c_->refused_ = true;
    c_->parser_.Reject(502, Status::Unavailable("response refused by the router"));
  }
}

void UpstreamConn::ParserCallbacks::OnBody(std::string_view d) {
  if (c_->owner_ && !c_->refused_) c_->owner_->OnUpstreamBody(c_, d);
}

void UpstreamConn::ParserCallbacks::OnComplete(http::Response&) { c_->complete_ = true; }

UpstreamConn::UpstreamConn(event_base* base, int slot, const NetAddress& addr,
                           const http::ParserOptions& parser_options)
    : slot_(slot), addr_(addr), callbacks_(this), parser_(parser_options, &callbacks_) {
  bev_ = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(bev_, &UpstreamConn::OnRead, &UpstreamConn::OnWrite, &UpstreamConn::OnEvent,
                    this);
}

UpstreamConn::~UpstreamConn() {
  if (bev_) bufferevent_free(bev_);
}

bool UpstreamConn::Connect(int64_t connect_timeout_ms) {
  timeval tv = Tv(connect_timeout_ms);
  bufferevent_set_timeouts(bev_, &tv, &tv);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(bev_, const_cast<sockaddr*>(addr_.sa()),
                                 static_cast<int>(addr_.len)) != 0) {
    dead_ = true;
    return false;
  }
  return true;
}

void UpstreamConn::Attach(UpstreamOwner* owner, std::string_view method,
                          int64_t response_timeout_ms) {
  owner_ = owner;
  ++exchanges_;
  added_ = 0;
  reusable_ = false;
  refused_ = false;
  complete_ = false;
  response_started_ = false;
  parser_.SetRequestMethod(method);
  if (connected_) {
    timeval tv = Tv(response_timeout_ms);
    bufferevent_set_timeouts(bev_, &tv, &tv);
    bufferevent_enable(bev_, EV_READ | EV_WRITE);
  }
}

void UpstreamConn::Park() {
  owner_ = nullptr;
  bufferevent_set_timeouts(bev_, nullptr, nullptr);
  bufferevent_enable(bev_, EV_READ);  // to notice the node closing it
}

evbuffer* UpstreamConn::output() { return bufferevent_get_output(bev_); }

size_t UpstreamConn::output_length() const {
  return evbuffer_get_length(bufferevent_get_output(bev_));
}

bool UpstreamConn::request_sent() const { return connected_ && added_ > output_length(); }

void UpstreamConn::PauseReading() { bufferevent_disable(bev_, EV_READ); }
void UpstreamConn::ResumeReading() { bufferevent_enable(bev_, EV_READ); }

void UpstreamConn::OnRead(bufferevent*, void* arg) {
  static_cast<UpstreamConn*>(arg)->HandleRead();
}

bool UpstreamConn::HandleRead() {
  evbuffer* in = bufferevent_get_input(bev_);
  if (!owner_) {
    // Bytes on a parked connection: the node is talking out of turn. Never reuse it.
    dead_ = true;
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_disable(bev_, EV_READ);
    return false;
  }
  while (evbuffer_get_length(in) > 0) {
    evbuffer_iovec vec[8];
    int n = evbuffer_peek(in, -1, nullptr, vec, 8);
    if (n > 8) n = 8;
    size_t consumed = 0;
    http::ParseState state = http::ParseState::kNeedMore;
    for (int i = 0; i < n; ++i) {
      http::ParseProgress p =
          parser_.Feed(std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len));
      consumed += p.consumed;
      state = p.state;
      if (state != http::ParseState::kNeedMore) break;
    }
    evbuffer_drain(in, consumed);
    if (state == http::ParseState::kError) {
      dead_ = true;
      bufferevent_disable(bev_, EV_READ | EV_WRITE);
      UpstreamOwner* o = owner_;
      if (refused_) {
        o->OnUpstreamRefused(this);  // tail call
      } else {
        o->OnUpstreamError(this, UpstreamFailure::kBadResponse, request_sent(),
                           response_started_);  // tail call
      }
      return true;
    }
    if (state == http::ParseState::kMessageComplete) {
      reusable_ = parser_.response().keep_alive && evbuffer_get_length(in) == 0;
      bufferevent_set_timeouts(bev_, nullptr, nullptr);
      UpstreamOwner* o = owner_;
      o->OnUpstreamComplete(this, parser_.response());  // tail call
      return true;
    }
  }
  return false;
}

void UpstreamConn::OnWrite(bufferevent*, void* arg) {
  auto* self = static_cast<UpstreamConn*>(arg);
  if (self->owner_) self->owner_->OnUpstreamDrained(self);
}

void UpstreamConn::OnEvent(bufferevent*, short what, void* arg) {
  auto* self = static_cast<UpstreamConn*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    self->connected_ = true;
    evutil_socket_t fd = bufferevent_getfd(self->bev_);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (self->owner_) self->owner_->OnUpstreamConnected(self);
    return;
  }
  if (!self->owner_) {  // parked: the node closed it or it failed; the pool sweeps it
    self->dead_ = true;
    bufferevent_disable(self->bev_, EV_READ | EV_WRITE);
    return;
  }
  if ((what & BEV_EVENT_EOF) && self->connected_) {
    // Drain what is still buffered first; a close-delimited body ends here.
    if (self->HandleRead()) return;  // it handed over to the owner: *self may be gone
    http::ParseProgress p = self->parser_.FeedEof();
    if (p.state == http::ParseState::kMessageComplete) {
      self->dead_ = true;
      self->reusable_ = false;
      UpstreamOwner* o = self->owner_;
      o->OnUpstreamComplete(self, self->parser_.response());  // tail call
      return;
    }
    self->Fail(UpstreamFailure::kClosed);
    return;
  }
  if (!self->connected_) {
    self->Fail(UpstreamFailure::kConnect);
  } else if (what & BEV_EVENT_TIMEOUT) {
    self->Fail(UpstreamFailure::kTimeout);
  } else {
    self->Fail(UpstreamFailure::kClosed);
  }
}

void UpstreamConn::Fail(UpstreamFailure why) {
  dead_ = true;
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  UpstreamOwner* o = owner_;
  o->OnUpstreamError(this, why, request_sent(), response_started_);  // tail call
}

}  // namespace halo::router
