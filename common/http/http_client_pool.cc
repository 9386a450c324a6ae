#include "common/http/http_client_pool.h"

#include <event2/buffer.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cstring>

#include "common/http/client_connection.h"
#include "common/http/serializer.h"

namespace halo::http {
namespace {

using detail::ClientConnection;
using detail::PendingRequest;

timeval ToTimeval(Duration d) {
  if (d < Duration::zero()) d = Duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return tv;
}

}  // namespace

HttpClientPool::HttpClientPool(event_base* base, HttpClientOptions options)
    : base_(base), options_(std::move(options)), alive_(std::make_shared<bool>(true)) {}

Result<std::unique_ptr<HttpClientPool>> HttpClientPool::Create(event_base* base,
                                                               HttpClientOptions options) {
  std::unique_ptr<HttpClientPool> pool(new HttpClientPool(base, std::move(options)));
  const HttpClientOptions& o = pool->options_;
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(o.port);
  int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::InvalidArgument("cannot resolve " + o.host + ": " + gai_strerror(rc));
  }
  std::memcpy(&pool->addr_, res->ai_addr, res->ai_addrlen);
  pool->addr_len_ = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  bool v6_literal = o.host.find(':') != std::string::npos;
  pool->host_header_ = (v6_literal ? "[" + o.host + "]" : o.host) + ":" + port;
  return pool;
}

HttpClientPool::~HttpClientPool() {
  *alive_ = false;
  for (auto& [id, c] : conns_) {
    c->current = nullptr;
    c->Release();
  }
  conns_.clear();
  idle_.clear();
  queue_.clear();
  requests_.clear();  // callbacks are destroyed, not called
}

void HttpClientPool::Send(ClientRequest request, Callback done) {
  uint64_t id = next_id_++;
  auto owned = std::make_unique<PendingRequest>(this, id);
  PendingRequest* req = owned.get();
  req->method = request.method;
  req->done = std::move(done);
  req->timer = evtimer_new(base_, &HttpClientPool::OnRequestTimerCb, req);
  requests_.emplace(id, std::move(owned));
  ++stats_.requests;

  Request r;
  r.method = std::move(request.method);
  r.target = std::move(request.target);
  r.headers = std::move(request.headers);
  r.headers.Remove("Connection");
  if (!r.headers.Has("Host")) r.headers.Add("Host", host_header_);
  r.body = std::move(request.body);
  Status st = AppendRequest(&req->wire, r);
  if (!st.ok()) {
    req->deferred = st;  // delivered from the timer: never inside Send
    ArmRequestTimer(req, Duration::zero());
    return;
  }
  queue_.push_back(req);
  ArmRequestTimer(req, options_.queue_timeout);
  Pump();
}

void HttpClientPool::ArmRequestTimer(PendingRequest* req, Duration d) {
  timeval tv = ToTimeval(d);
  evtimer_add(req->timer, &tv);
}

void HttpClientPool::Pump() {
  while (!queue_.empty()) {
    std::shared_ptr<ClientConnection> c;
    if (!idle_.empty()) {
      ClientConnection* raw = idle_.back();
      idle_.pop_back();
      evtimer_del(raw->idle_timer);
      c = raw->shared_from_this();
      ++stats_.reused;
    } else if (conns_.size() < options_.max_connections) {
      c = Connect();
    } else {
      return;  // wait for a connection to come back
    }
    PendingRequest* req = queue_.front();
    queue_.pop_front();
    if (!c) {
      req->deferred = Status::Unavailable("cannot open a connection to " + host_header_);
      ArmRequestTimer(req, Duration::zero());
      continue;
    }
    Assign(req, c);
  }
}

std::shared_ptr<ClientConnection> HttpClientPool::Connect() {
  bufferevent* bev = bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) return nullptr;
  auto c = std::make_shared<ClientConnection>(this, next_id_++, bev, options_.parser);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&addr_),
                                 static_cast<int>(addr_len_)) != 0) {
    return nullptr;  // `c` frees the bufferevent
  }
  int one = 1;
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  conns_.emplace(c->id, c);
  ++stats_.connections_opened;
  return c;
}

void HttpClientPool::Assign(PendingRequest* req, const std::shared_ptr<ClientConnection>& c) {
  req->conn = c.get();
  c->current = req;
  c->response_bytes = false;
  c->parser.SetRequestMethod(req->method);
  if (c->connected) {
    WriteRequest(c.get());
  } else {
    req->phase = PendingRequest::Phase::kConnecting;
    ArmRequestTimer(req, options_.connect_timeout);
  }
}

void HttpClientPool::WriteRequest(ClientConnection* c) {
  PendingRequest* req = c->current;
  req->phase = PendingRequest::Phase::kSent;  // from here on the outcome may be unknown
  bufferevent_write(c->bev, req->wire.data(), req->wire.size());
  ArmRequestTimer(req, options_.request_timeout);
}

void HttpClientPool::MakeIdle(ClientConnection* c) {
  if (idle_.size() >= options_.max_idle) {
    CloseConnection(c);
    return;
  }
  idle_.push_back(c);
  timeval tv = ToTimeval(options_.idle_timeout);
  evtimer_add(c->idle_timer, &tv);
}

void HttpClientPool::CloseConnection(ClientConnection* c) {
  if (c->current) {
    c->current->conn = nullptr;
    c->current = nullptr;
  }
  idle_.erase(std::remove(idle_.begin(), idle_.end(), c), idle_.end());
  c->Release();
  conns_.erase(c->id);  // the libevent callback on the stack holds a reference
}

bool HttpClientPool::Finish(PendingRequest* req, Result<Response> result) {
  queue_.erase(std::remove(queue_.begin(), queue_.end(), req), queue_.end());
  if (req->conn) {
    req->conn->current = nullptr;
    req->conn = nullptr;
  }
  auto node = requests_.extract(req->id);
  Callback done = std::move(node.mapped()->done);
  node.mapped().reset();  // frees the timer
  std::shared_ptr<bool> alive = alive_;
  if (done) done(std::move(result));
  return *alive;
}

bool HttpClientPool::FailCurrent(ClientConnection* c, bool clean_eof, const std::string& why) {
  PendingRequest* req = c->current;
  bool retry = clean_eof && c->reused && !c->response_bytes && !req->retried;
  CloseConnection(c);
  if (retry) {
    // The server closed an idle keep-alive connection just as the request went out: it
    // never saw it. Send it once more on a fresh connection.
    req->retried = true;
    ++stats_.retried;
    req->phase = PendingRequest::Phase::kQueued;
    queue_.push_front(req);
    ArmRequestTimer(req, options_.queue_timeout);
    Pump();
    return true;
  }
  if (!Finish(req,
              Status::Timeout("request to " + host_header_ + ": " + why + " (outcome unknown)"))) {
    return false;
  }
  Pump();
  return true;
}

void HttpClientPool::OnConnRead(ClientConnection* c) {
  evbuffer* in = bufferevent_get_input(c->bev);
  if (c->current == nullptr) {
    CloseConnection(c);  // bytes on an idle connection: nothing valid can follow
    Pump();
    return;
  }
  ParseState st = ParseState::kNeedMore;
  while (evbuffer_get_length(in) > 0 && st == ParseState::kNeedMore) {
    c->response_bytes = true;
    evbuffer_iovec vec[16];
    int n = std::min(evbuffer_peek(in, -1, nullptr, vec, 16), 16);
    size_t consumed = 0;
    for (int i = 0; i < n && st == ParseState::kNeedMore; ++i) {
      ParseProgress p = c->parser.Feed(
          std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len));
      consumed += p.consumed;
      st = p.state;
    }
    evbuffer_drain(in, consumed);
  }
  if (st == ParseState::kError) {
    PendingRequest* req = c->current;
    std::string why = c->parser.error().status.message();
    CloseConnection(c);
    if (!Finish(req, Status::Timeout("malformed response from " + host_header_ + ": " + why +
                                     " (outcome unknown)"))) {
      return;
    }
    Pump();
    return;
  }
  if (st != ParseState::kMessageComplete) return;
  PendingRequest* req = c->current;
  c->current = nullptr;
  req->conn = nullptr;
  c->reused = true;
  Response response = c->parser.TakeResponse();
  if (response.keep_alive && evbuffer_get_length(in) == 0) {
    MakeIdle(c);
  } else {
    CloseConnection(c);
  }
  if (!Finish(req, std::move(response))) return;
  Pump();
}

void HttpClientPool::OnConnEvent(ClientConnection* c, short what) {
  if (what & BEV_EVENT_CONNECTED) {
    c->connected = true;
    if (c->current) WriteRequest(c);
    return;
  }
  if (!c->connected) {
    PendingRequest* req = c->current;
    std::string err = evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    CloseConnection(c);
    if (req && !Finish(req, Status::Unavailable("connect to " + host_header_ + ": " + err))) {
      return;
    }
    Pump();
    return;
  }
  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
  if (c->current == nullptr) {
    CloseConnection(c);  // an idle connection went away
    Pump();
    return;
  }
  bool clean = (what & BEV_EVENT_EOF) != 0;
  if (clean) {
    ParseProgress p = c->parser.FeedEof();
    if (p.state == ParseState::kMessageComplete) {  // a close-delimited body ended
      PendingRequest* req = c->current;
      Response response = c->parser.TakeResponse();
      CloseConnection(c);
      if (!Finish(req, std::move(response))) return;
      Pump();
      return;
    }
  }
  std::string why = clean ? "connection closed before the response was complete"
                          : std::string("connection error: ") +
                                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
  FailCurrent(c, clean, why);
}

void HttpClientPool::OnIdleTimeout(ClientConnection* c) {
  CloseConnection(c);
  Pump();
}

void HttpClientPool::OnRequestTimerCb(evutil_socket_t, short, void* arg) {
  auto* req = static_cast<PendingRequest*>(arg);
  req->pool->OnRequestTimer(req);
}

void HttpClientPool::OnRequestTimer(PendingRequest* req) {
  if (!req->deferred.ok()) {
    Status st = req->deferred;
    Finish(req, std::move(st));
    return;
  }
  Duration limit = req->phase == PendingRequest::Phase::kQueued       ? options_.queue_timeout
                   : req->phase == PendingRequest::Phase::kConnecting ? options_.connect_timeout
                                                                      : options_.request_timeout;
  std::string ms = std::to_string(ToMillis(limit));
  switch (req->phase) {
    case PendingRequest::Phase::kQueued:
      Finish(req, Status::Unavailable("no connection to " + host_header_ + " free within " + ms +
                                      " ms"));
      return;
    case PendingRequest::Phase::kConnecting: {
      auto c = req->conn->shared_from_this();
      CloseConnection(c.get());
      if (!Finish(req, Status::Unavailable("connect to " + host_header_ + " timed out after " + ms +
                                           " ms"))) {
        return;
      }
      Pump();
      return;
    }
    case PendingRequest::Phase::kSent: {
      auto c = req->conn->shared_from_this();
      CloseConnection(c.get());
      if (!Finish(req, Status::Timeout("no response from " + host_header_ + " within " + ms +
                                       " ms (outcome unknown)"))) {
        return;
      }
      Pump();
      return;
    }
  }
}

}  // namespace halo::http
