#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/http/server_connection.h"
#include "common/logging.h"

namespace halo::http {
namespace {

std::string PeerName(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

timeval ToTimeval(Duration d) {
  if (d < Duration::zero()) d = Duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
  return tv;
}

}  // namespace

// ---- responders and error bodies -----------------------------------------------------------

void HttpResponder::Send(Response response) const {
  if (!state_ || state_->sent.exchange(true)) return;
  if (std::this_thread::get_id() == state_->loop_thread) {
    state_->Deliver(std::move(response));
    return;
  }
  std::shared_ptr<detail::ResponderState> st = state_;
  st->queue->Post([st, r = std::move(response)]() mutable { st->Deliver(std::move(r)); });
}

void HttpResponder::SendError(int status, std::string_view message) const {
  Send(ErrorResponse(status, message));
}

std::string ErrorJson(std::string_view message) {
  std::string out = "{\"errors\":[\"";
  for (char c : message) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", u);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out += "\"]}";
  return out;
}

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "application/json");
  r.body = ErrorJson(message);
  return r;
}

// ---- HttpServer ----------------------------------------------------------------------------

HttpServer::HttpServer(event_base* base, HttpServerOptions options, HttpHandler* handler)
    : base_(base), options_(std::move(options)), handler_(handler) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(event_base* base, HttpServerOptions options,
                                                       HttpHandler* handler) {
  std::unique_ptr<HttpServer> server(new HttpServer(base, std::move(options), handler));
  ASSIGN_OR_RETURN(server->queue_, LoopTaskQueue::Create(base));
  server->resume_accept_ = evtimer_new(base, &HttpServer::OnResumeAccept, server.get());
  server->grace_timer_ = evtimer_new(base, &HttpServer::OnGraceExpired, server.get());
  server->done_event_ = evtimer_new(base, &HttpServer::OnShutdownDone, server.get());
  RETURN_IF_ERROR(server->Listen());
  return server;
}

Status HttpServer::Listen() {
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string port = std::to_string(options_.port);
  const char* host = options_.host.empty() ? nullptr : options_.host.c_str();
  int rc = getaddrinfo(host, port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::IoError("listen " + options_.host + ":" + port + ": " + gai_strerror(rc));
  }
  int err = 0;
  for (addrinfo* ai = res; ai != nullptr && listener_ == nullptr; ai = ai->ai_next) {
    listener_ =
        evconnlistener_new_bind(base_, &HttpServer::OnAccept, this,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                options_.backlog, ai->ai_addr, static_cast<int>(ai->ai_addrlen));
    if (listener_ == nullptr) err = errno;
  }
  freeaddrinfo(res);
  if (listener_ == nullptr) {
    return Status::FromErrno("listen " + options_.host + ":" + port, err);
  }
  evconnlistener_set_error_cb(listener_, &HttpServer::OnAcceptError);
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  return Status::Ok();
}

HttpServer::~HttpServer() {
  if (listener_) evconnlistener_free(listener_);
  auto conns = std::move(conns_);
  conns_.clear();
  for (auto& [id, c] : conns) c->Close();
  conns.clear();
  if (resume_accept_) event_free(resume_accept_);
  if (grace_timer_) event_free(grace_timer_);
  if (done_event_) event_free(done_event_);
  if (queue_) queue_->Close();
}

std::string HttpServer::address() const {
  if (options_.host.find(':') != std::string::npos) {
    return "[" + options_.host + "]:" + std::to_string(port_);
  }
  return options_.host + ":" + std::to_string(port_);
}

void HttpServer::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  if (self->shutting_down_) {
    close(fd);
    return;
  }
  ++self->stats_.accepted;
  size_t serving = self->conns_.size() - self->rejecting_;
  bool reject = serving >= self->options_.max_connections;
  if (reject) {
    ++self->stats_.rejected;
    if (self->rejecting_ >= std::max<size_t>(16, self->options_.max_connections)) {
      close(fd);
      return;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  bufferevent* bev = bufferevent_socket_new(self->base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    close(fd);
    return;
  }
  uint64_t id = self->next_id_++;
  auto conn = std::make_shared<detail::ServerConnection>(self, bev, id, PeerName(addr));
  self->conns_.emplace(id, conn);
  if (reject) ++self->rejecting_;
  conn->Start(reject);
}

void HttpServer::OnAcceptError(evconnlistener* l, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  LOG_WARN("http: accept on %s failed: %s; pausing accepts for 100 ms", self->address().c_str(),
           evutil_socket_error_to_string(err));
  evconnlistener_disable(l);
  timeval tv = ToTimeval(std::chrono::milliseconds(100));
  evtimer_add(self->resume_accept_, &tv);
}

void HttpServer::OnResumeAccept(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  if (self->listener_ && !self->shutting_down_) evconnlistener_enable(self->listener_);
}

void HttpServer::RemoveConnection(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (it->second->rejecting()) --rejecting_;
  conns_.erase(it);
  MaybeFinishShutdown();
}

void HttpServer::Shutdown(Duration grace, std::function<void()> done) {
  shutdown_done_ = std::move(done);
  if (shutting_down_) {
    MaybeFinishShutdown();
    return;
  }
  shutting_down_ = true;
  if (listener_) {
    evconnlistener_free(listener_);
    listener_ = nullptr;
  }
  evtimer_del(resume_accept_);
  std::vector<std::shared_ptr<detail::ServerConnection>> snapshot;
  for (auto& [id, c] : conns_) snapshot.push_back(c);
  for (auto& c : snapshot) c->BeginShutdown();
  timeval tv = ToTimeval(grace);
  evtimer_add(grace_timer_, &tv);
  MaybeFinishShutdown();
}

void HttpServer::MaybeFinishShutdown() {
  if (!shutting_down_ || !conns_.empty() || !shutdown_done_) return;
  evtimer_del(grace_timer_);
  timeval zero = {0, 0};
  evtimer_add(done_event_, &zero);
}

void HttpServer::OnGraceExpired(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  std::vector<std::shared_ptr<detail::ServerConnection>> snapshot;
  for (auto& [id, c] : self->conns_) snapshot.push_back(c);
  for (auto& c : snapshot) c->Close();
}

void HttpServer::OnShutdownDone(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  std::function<void()> done = std::move(self->shutdown_done_);
  self->shutdown_done_ = nullptr;
  if (done) done();
}

}  // namespace halo::http
