#include "router/probe_client.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cerrno>
#include <cstring>

namespace halo::router {
namespace {

http::ParserOptions ProbeParserOptions() {
  http::ParserOptions o;
  o.max_header_bytes = 64 * 1024;
  o.max_body_bytes = 1 << 20;
  return o;
}

}  // namespace

ProbeRequest::ProbeRequest(event_base* base, Callback cb)
    : base_(base), cb_(std::move(cb)), parser_(ProbeParserOptions()) {}

std::unique_ptr<ProbeRequest> ProbeRequest::Get(event_base* base, const net::NetAddress& addr,
                                                std::string_view host_header,
                                                std::string_view path_and_query, int64_t timeout_ms,
                                                Callback cb) {
  std::unique_ptr<ProbeRequest> r(new ProbeRequest(base, std::move(cb)));
  r->timer_ = evtimer_new(base, &ProbeRequest::OnTimeout, r.get());
  timeval tv{static_cast<time_t>(timeout_ms / 1000),
             static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
  evtimer_add(r->timer_, &tv);
  r->bev_ = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(r->bev_, &ProbeRequest::OnRead, nullptr, &ProbeRequest::OnEvent, r.get());
  std::string req;
  req.reserve(128 + path_and_query.size());
  req.append("GET ").append(path_and_query).append(" HTTP/1.1\r\nHost: ");
  req.append(host_header).append("\r\nUser-Agent: halo-router\r\nConnection: close\r\n\r\n");
  evbuffer_add(bufferevent_get_output(r->bev_), req.data(), req.size());
  bufferevent_enable(r->bev_, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(r->bev_, const_cast<sockaddr*>(addr.sa()),
                                 static_cast<int>(addr.len)) != 0) {
    // Immediate failure: report it from the loop, not from inside Get().
    timeval now{0, 0};
    evtimer_del(r->timer_);
    evtimer_add(r->timer_, &now);
    r->got_bytes_ = false;
    bufferevent_free(r->bev_);
    r->bev_ = nullptr;
  }
  return r;
}

ProbeRequest::~ProbeRequest() { Release(); }

void ProbeRequest::Release() {
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  if (timer_) {
    event_free(timer_);
    timer_ = nullptr;
  }
}

void ProbeRequest::OnRead(bufferevent*, void* arg) { static_cast<ProbeRequest*>(arg)->Feed(); }

bool ProbeRequest::Feed() {
  evbuffer* in = bufferevent_get_input(bev_);
  size_t len = evbuffer_get_length(in);
  if (len == 0) return false;
  got_bytes_ = true;
  const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, -1));
  http::ParseProgress p = parser_.Feed(std::string_view(data, len));
  evbuffer_drain(in, p.consumed);
  if (p.state == http::ParseState::kMessageComplete) {
    Finish(parser_.TakeResponse());
    return true;
  }
  if (p.state == http::ParseState::kError) {
    Finish(Status::InvalidArgument("bad response: " + parser_.error().status.message()));
    return true;
  }
  return false;
}

void ProbeRequest::OnEvent(bufferevent*, short what, void* arg) {
  auto* self = static_cast<ProbeRequest*>(arg);
  if (what & BEV_EVENT_CONNECTED) return;
  if (what & BEV_EVENT_EOF) {
    if (self->Feed()) return;  // finished (and maybe destroyed) by the last bytes
    http::ParseProgress p = self->parser_.FeedEof();
    if (p.state == http::ParseState::kMessageComplete) {
      self->Finish(self->parser_.TakeResponse());
    } else {
      self->Finish(Status::Unavailable(self->got_bytes_ ? "connection closed mid-response"
                                                        : "connection closed"));
    }
    return;
  }
  int err = EVUTIL_SOCKET_ERROR();
  self->Finish(Status::Unavailable(std::string("connect: ") + std::strerror(err)));
}

void ProbeRequest::OnTimeout(int, short, void* arg) {
  auto* self = static_cast<ProbeRequest*>(arg);
  if (!self->bev_) {
    self->Finish(Status::Unavailable("connect failed"));
    return;
  }
  self->Finish(Status::Timeout("probe timed out"));
}

void ProbeRequest::Finish(Result<http::Response> result) {
  if (!cb_) return;
  Release();
  Callback cb = std::move(cb_);
  cb_ = nullptr;
  cb(std::move(result));  // may destroy *this: touch nothing after
}

}  // namespace halo::router
