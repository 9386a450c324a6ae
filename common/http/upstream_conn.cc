#include "common/http/upstream_conn.h"

#include "common/http/evbuffer_feed.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/uio.h>

#include <cerrno>

namespace halo::http {
namespace {

timeval Tv(int64_t ms) {
  if (ms < 0) ms = 0;
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

void UpstreamConn::ParserCallbacks::OnHead(Response& r) {
  if (c_->owner_ && !c_->owner_->OnUpstreamHead(c_, r)) {
    c_->refused_ = true;
    c_->parser_.Reject(502, Status::Unavailable("response refused by the router"));
  }
}

void UpstreamConn::ParserCallbacks::OnBody(std::string_view d) {
  if (c_->owner_ && !c_->refused_) c_->owner_->OnUpstreamBody(c_, d);
}

void UpstreamConn::ParserCallbacks::OnComplete(Response&) { c_->complete_ = true; }

UpstreamConn::UpstreamConn(event_base* base, int slot, const net::NetAddress& addr,
                           const ParserOptions& parser_options)
    : slot_(slot),
      addr_(addr),
      sock_(base, this),
      callbacks_(this),
      parser_(parser_options, &callbacks_) {
  timer_ = evtimer_new(base, &UpstreamConn::OnTimer, this);
}

UpstreamConn::~UpstreamConn() {
  if (timer_) event_free(timer_);
}

void UpstreamConn::ArmTimer(int64_t ms) {
  if (ms <= 0) {
    evtimer_del(timer_);
    return;
  }
  timeval tv = Tv(ms);
  evtimer_add(timer_, &tv);
}

bool UpstreamConn::Connect(int64_t connect_timeout_ms, std::shared_ptr<const net::TlsContext> tls,
                           const std::string& server_name) {
  bool started = tls ? sock_.ConnectTls(addr_, std::move(tls), server_name) : sock_.Connect(addr_);
  if (!started) {
    dead_ = true;
    return false;
  }
  ArmTimer(connect_timeout_ms);
  return true;
}

void UpstreamConn::Attach(UpstreamOwner* owner, std::string_view method,
                          int64_t response_timeout_ms) {
  owner_ = owner;
  added_ = 0;
  reusable_ = false;
  refused_ = false;
  complete_ = false;
  response_started_ = false;
  response_timeout_ms_ = response_timeout_ms;
  parser_.SetRequestMethod(method);
  if (sock_.connected()) {
    ArmTimer(response_timeout_ms_);
    sock_.EnableRead();
  }
}

void UpstreamConn::Park() {
  owner_ = nullptr;
  ArmTimer(0);
  sock_.EnableRead();  // to notice the node closing it
}

void UpstreamConn::Send(size_t n) {
  added_ += n;
  sock_.Flush();
}

size_t UpstreamConn::output_length() const {
  return evbuffer_get_length(const_cast<net::StreamSocket&>(sock_).output());
}

bool UpstreamConn::request_sent() const { return sock_.connected() && added_ > output_length(); }

Reach UpstreamConn::reach() const {
  if (response_started_) return Reach::kResponseStarted;
  return request_sent() ? Reach::kWrittenNoResponse : Reach::kNeverWritten;
}

void UpstreamConn::OnConnected() {
  sock_.EnableRead();
  ArmTimer(response_timeout_ms_ > 0 ? response_timeout_ms_ : 0);
  if (owner_) owner_->OnUpstreamConnected(this);
}

void UpstreamConn::OnDrained() {
  if (owner_) owner_->OnUpstreamDrained(this);
}

void UpstreamConn::OnReadable() {
  if (owner_ && response_timeout_ms_ > 0) ArmTimer(response_timeout_ms_);  // silence limit
  if (HandleRead()) return;
  if (owner_) owner_->OnUpstreamReadDone(this);
}

bool UpstreamConn::HandleRead() {
  evbuffer* in = sock_.input();
  if (!owner_) {
    // Bytes on a parked connection: the node is talking out of turn. Never reuse it.
    dead_ = true;
    evbuffer_drain(in, evbuffer_get_length(in));
    sock_.DisableRead();
    return false;
  }
  if (evbuffer_get_length(in) > 0) response_started_ = true;
  while (evbuffer_get_length(in) > 0) {
    ParseState state = FeedFromEvbuffer(in, parser_, [] { return false; });
    if (state == ParseState::kError) {
      dead_ = true;
      sock_.DisableRead();
      ArmTimer(0);
      UpstreamOwner* o = owner_;
      if (refused_) {
        o->OnUpstreamRefused(this);  // tail call
      } else {
        o->OnUpstreamError(this, UpstreamFailure::kBadResponse, reach());  // tail call
      }
      return true;
    }
    if (state == ParseState::kMessageComplete) {
      reusable_ = parser_.response().keep_alive && evbuffer_get_length(in) == 0;
      ArmTimer(0);
      UpstreamOwner* o = owner_;
      o->OnUpstreamComplete(this, parser_.response());  // tail call
      return true;
    }
  }
  return false;
}

void UpstreamConn::OnClosed(int err, bool connected) {
  if (!owner_) {  // parked: the node closed it or it failed; the pool sweeps it
    dead_ = true;
    return;
  }
  if (!connected) {
    Fail(UpstreamFailure::kConnect);
    return;
  }
  if (err == 0) {
    // Drain what is still buffered first; a close-delimited body ends here.
    if (HandleRead()) return;  // it handed over to the owner: *this may be gone
    ParseProgress p = parser_.FeedEof();
    if (p.state == ParseState::kMessageComplete) {
      dead_ = true;
      reusable_ = false;
      ArmTimer(0);
      UpstreamOwner* o = owner_;
      o->OnUpstreamComplete(this, parser_.response());  // tail call
      return;
    }
  }
  Fail(err == ECONNRESET || err == EPIPE ? UpstreamFailure::kReset : UpstreamFailure::kClosed);
}

void UpstreamConn::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<UpstreamConn*>(arg);
  if (!self->owner_) return;
  self->Fail(self->sock_.connected() ? UpstreamFailure::kTimeout : UpstreamFailure::kConnect);
}

void UpstreamConn::Fail(UpstreamFailure why) {
  dead_ = true;
  sock_.DisableRead();
  ArmTimer(0);
  UpstreamOwner* o = owner_;
  o->OnUpstreamError(this, why, reach());  // tail call
}

}  // namespace halo::http
