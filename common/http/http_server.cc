#include "common/http/http_server.h"

#include <unistd.h>

#include <vector>

#include "common/http/error_body.h"
#include "common/http/handler_exchange.h"
#include "common/http/http1_server_connection.h"
#include "common/logging.h"

namespace halo::http {
namespace {

timeval ToTimeval(Duration d) {
  if (d < Duration::zero()) d = Duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

}  // namespace

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "application/json");
  r.body = ErrorBody(message);
  return r;
}

HttpServer::HttpServer(event_base* base, HttpServerOptions options, HttpHandler* handler)
    : base_(base), options_(std::move(options)), handler_(handler), timers_(base) {
  auto o = std::make_shared<ServerConnectionOptions>();
  o->parser = options_.parser;
  o->first_request_timeout = options_.header_timeout;  // a new connection must speak soon
  o->header_timeout = options_.header_timeout;
  o->body_timeout = options_.body_timeout;
  o->idle_timeout = options_.idle_timeout;
  o->write_timeout = options_.write_timeout;
  o->linger_timeout = options_.linger_timeout;
  o->max_requests_per_connection = options_.max_requests_per_connection;
  if (options_.max_body_bytes_in_flight > 0) {
    o->body_budget = std::make_shared<BodyBudget>(options_.max_body_bytes_in_flight);
  }
  o->tls = options_.tls;
  o->h2.enabled = options_.http2;
  conn_options_ = std::move(o);
}

void HttpServer::SetTls(std::shared_ptr<const net::TlsContext> tls) {
  auto o = std::make_shared<ServerConnectionOptions>(*conn_options_);
  o->tls = std::move(tls);
  options_.tls = o->tls;
  conn_options_ = std::move(o);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(event_base* base, HttpServerOptions options,
                                                       HttpHandler* handler) {
  std::unique_ptr<HttpServer> server(new HttpServer(base, std::move(options), handler));
  ASSIGN_OR_RETURN(server->queue_, LoopTaskQueue::Create(base));
  server->grace_timer_ = evtimer_new(base, &HttpServer::OnGraceExpired, server.get());
  server->done_event_ = evtimer_new(base, &HttpServer::OnShutdownDone, server.get());
  const HttpServerOptions& o = server->options_;
  std::string what = o.host + ":" + std::to_string(o.port);
  // Before the loop serves anything, so a blocking lookup is allowed here.
  std::optional<net::NetAddress> numeric =
      net::ParseNumericAddress(o.host.empty() ? "0.0.0.0" : o.host, static_cast<uint16_t>(o.port));
  Result<net::NetAddress> addr =
      numeric      ? Result<net::NetAddress>(*numeric)
      : o.resolver ? net::ResolveHostPort(*o.resolver, o.host, o.port)
                   : Result<net::NetAddress>(Status::InvalidArgument("not an IP address"));
  if (!addr.ok()) return Status::IoError("listen " + what + ": " + addr.status().message());
  HttpServer* s = server.get();
  ASSIGN_OR_RETURN(server->listener_,
                   net::TcpListener::Create(
                       base, *addr, what, o.backlog, false,
                       [s](evutil_socket_t fd, const sockaddr* peer) { s->OnAccept(fd, peer); }));
  server->port_ = server->listener_->port();
  return server;
}

HttpServer::~HttpServer() {
  tearing_down_ = true;
  listener_.reset();
  std::vector<ServerConnection*> conns(conns_.begin(), conns_.end());
  for (ServerConnection* c : conns) delete c;
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

void HttpServer::OnAccept(evutil_socket_t fd, const sockaddr* peer) {
  if (shutting_down_) {
    close(fd);
    return;
  }
  ++stats_.accepted;
  bool refuse = conns_.size() - refusing_.size() >= options_.max_connections;
  if (refuse) {
    ++stats_.rejected;
    if (refusing_.size() >= std::max<size_t>(16, options_.max_connections)) {
      close(fd);
      return;
    }
  }
  auto* c = new Http1ServerConnection(base_, &timers_, this, conn_options_, fd, peer);
  conns_.insert(c);
  if (refuse) {
    refusing_.insert(c);
    c->Refuse(503, "too many connections");
  }
}

std::unique_ptr<ServerExchange> HttpServer::NewExchange(Downstream* downstream) {
  return std::make_unique<HandlerExchange>(downstream, handler_, queue_, &stats_);
}

void HttpServer::OnConnectionClosed(ServerConnection* c) {
  conns_.erase(c);
  refusing_.erase(c);
  if (!tearing_down_) MaybeFinishShutdown();
}

void HttpServer::OnConnectionReplaced(ServerConnection* from, ServerConnection* to) {
  conns_.erase(from);
  conns_.insert(to);
}

void HttpServer::Shutdown(Duration grace, std::function<void()> done) {
  shutdown_done_ = std::move(done);
  if (shutting_down_) {
    MaybeFinishShutdown();
    return;
  }
  shutting_down_ = true;
  listener_.reset();  // the port is released at once
  std::vector<ServerConnection*> conns(conns_.begin(), conns_.end());
  for (ServerConnection* c : conns) c->BeginDrain();
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
  std::vector<ServerConnection*> conns(self->conns_.begin(), self->conns_.end());
  for (ServerConnection* c : conns) delete c;
}

void HttpServer::OnShutdownDone(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  std::function<void()> done = std::move(self->shutdown_done_);
  self->shutdown_done_ = nullptr;
  if (done) done();
}

}  // namespace halo::http
