// HttpServer: the node's HTTP/1.1 server on a libevent loop, a thin adapter over the server
// connection both daemons share (common/http/http1_server_connection.h: parsing with all the
// hardening of parser_core.h, keep-alive, pipelining answered in order, Expect:
// 100-continue, timeouts, lingering close). It listens on host:port (port 0 picks a free
// port; port() reports it) and hands each complete request to an HttpHandler together with
// an HttpResponder that may be completed later, from any thread. The handler sees the head
// of a request with a body first (HttpHandler::CheckHead) and may answer it before the body
// is read. Beyond max_connections, new connections get 503 and are closed; request bodies
// beyond max_body_bytes_in_flight (all connections together) get 503 + Retry-After.
//
// Threading: everything runs on the loop thread of `base`, including Handle(); only
// HttpResponder::Send() may be called from other threads.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/clock.h"
#include "common/event_timer_source.h"
#include "common/http/message.h"
#include "common/http/parser_options.h"
#include "common/http/server_connection_host.h"
#include "common/loop_task_queue.h"
#include "common/net/resolver.h"
#include "common/net/tcp_listener.h"
#include "common/result.h"

namespace halo::http {

namespace detail {
struct ResponderState;
}  // namespace detail
class ServerConnection;

struct HttpServerOptions {
  std::string host = "127.0.0.1";     // an IP, or a name resolved through `resolver` at Create
  net::Resolver* resolver = nullptr;  // nullptr: numeric hosts only
  int port = 0;                       // 0: any free port
  int backlog = 1024;
  size_t max_connections = 4096;
  ParserOptions parser;
  Duration header_timeout = std::chrono::seconds(10);  // first byte -> end of head
  Duration body_timeout = std::chrono::seconds(30);    // between body reads
  Duration idle_timeout = std::chrono::seconds(60);    // keep-alive, between requests
  Duration write_timeout = std::chrono::seconds(30);   // between response writes
  Duration linger_timeout = std::chrono::seconds(2);   // drain input before a close
  size_t max_requests_per_connection = 0;              // 0: unlimited
  uint64_t max_body_bytes_in_flight = 0;               // all connections; 0: unbounded
  std::shared_ptr<const net::TlsContext> tls;          // nullptr: plaintext
  bool http2 = true;  // serve HTTP/2 (ALPN h2 on TLS, prior knowledge on plaintext)
};

// Completes one request. A cheap copyable handle (copies share the one response).
class HttpResponder {
 public:
  HttpResponder() = default;
  explicit HttpResponder(std::shared_ptr<detail::ResponderState> state)
      : state_(std::move(state)) {}

  // Sends `response` (Content-Length is set from the body; for HEAD the body is not sent).
  // Callable from any thread; off the loop thread it is posted to the loop. Only the first
  // call counts; later calls are ignored. If the client went away meanwhile it is dropped.
  // A "Connection: close" header in `response` closes the connection after it.
  // If every copy is destroyed without Send(), the client gets 500.
  void Send(Response response) const;
  // Sends `status` with body {"errors":["<message>"]} (application/json).
  void SendError(int status, std::string_view message) const;
  // Loop thread only: `cancel` runs on the loop thread, once, if the client goes away
  // (closes, half-closes or resets its connection) before Send(); e.g. to drop a parked
  // request at once. Replaces an earlier one. A Send() afterwards is dropped.
  void OnAbandoned(std::function<void()> cancel) const;
  bool valid() const { return state_ != nullptr; }

 private:
  std::shared_ptr<detail::ResponderState> state_;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called on the loop thread for each complete request. `responder` must be completed
  // exactly once, now or later.
  virtual void Handle(Request request, HttpResponder responder) = 0;
  // Called on the loop thread with the head of a request that has a body (Content-Length
  // above 0, or chunked), before any byte of the body is read: an answer to send instead
  // of reading the body (the connection closes after it, with a lingering close), or
  // nullopt to read it and Handle() the whole request.
  virtual std::optional<Response> CheckHead(const Request&) { return std::nullopt; }
};

// An HttpHandler that calls a function (and, if given, a head check).
class FunctionHandler final : public HttpHandler {
 public:
  using Fn = std::function<void(Request, HttpResponder)>;
  using HeadFn = std::function<std::optional<Response>(const Request&)>;
  explicit FunctionHandler(Fn fn, HeadFn head = nullptr)
      : fn_(std::move(fn)), head_(std::move(head)) {}
  void Handle(Request request, HttpResponder responder) override {
    fn_(std::move(request), std::move(responder));
  }
  std::optional<Response> CheckHead(const Request& head) override {
    return head_ ? head_(head) : std::nullopt;
  }

 private:
  Fn fn_;
  HeadFn head_;
};

// A response with body {"errors":["<message>"]} (common/http/error_body.h),
// Content-Type: application/json.
Response ErrorResponse(int status, std::string_view message);

class HttpServer final : private ServerConnectionHost {
 public:
  struct Stats {
    uint64_t accepted = 0;
    uint64_t rejected = 0;  // over max_connections
    uint64_t requests = 0;
    uint64_t answered_at_head = 0;  // CheckHead answered; the body was not read
    uint64_t parse_errors = 0;
    uint64_t timeouts = 0;
  };

  // Binds and starts listening. Errors: kIoError (address in use, bad host...).
  // REQUIRES: `base` and `handler` outlive the server.
  static Result<std::unique_ptr<HttpServer>> Create(event_base* base, HttpServerOptions options,
                                                    HttpHandler* handler);
  // Closes every connection at once; no handler or done callback runs after this.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // "host:port" as bound.
  std::string address() const;

  // Graceful shutdown: stops accepting (the port is released), closes idle keep-alive
  // connections, lets requests in progress finish (their responses carry Connection:
  // close), and after `grace` closes whatever is left. `done` runs on the loop thread
  // (never inside Shutdown) once no connection remains.
  void Shutdown(Duration grace, std::function<void()> done);
  bool shutting_down() const { return shutting_down_; }

  size_t connection_count() const { return conns_.size(); }
  const Stats& stats() const { return stats_; }
  const HttpServerOptions& options() const { return options_; }
  // New connections use `tls` from now on (a certificate reload); open ones keep theirs.
  void SetTls(std::shared_ptr<const net::TlsContext> tls);
  // The queue responders use to reach the loop; usable for other completions too.
  const std::shared_ptr<LoopTaskQueue>& task_queue() const { return queue_; }

 private:
  HttpServer(event_base* base, HttpServerOptions options, HttpHandler* handler);
  void OnAccept(evutil_socket_t fd, const sockaddr* peer);
  static void OnGraceExpired(evutil_socket_t, short, void* arg);
  static void OnShutdownDone(evutil_socket_t, short, void* arg);
  void MaybeFinishShutdown();
  // ServerConnectionHost
  std::unique_ptr<ServerExchange> NewExchange(Downstream* downstream) override;
  bool draining() const override { return shutting_down_; }
  void OnBadRequest(int) override { ++stats_.parse_errors; }
  void OnTimeout() override { ++stats_.timeouts; }
  void OnConnectionClosed(ServerConnection* c) override;
  void OnConnectionReplaced(ServerConnection* from, ServerConnection* to) override;

  event_base* base_;
  HttpServerOptions options_;
  HttpHandler* handler_;
  EventTimerSource timers_;
  std::shared_ptr<const ServerConnectionOptions> conn_options_;
  std::unique_ptr<net::TcpListener> listener_;
  event* grace_timer_ = nullptr;
  event* done_event_ = nullptr;
  std::shared_ptr<LoopTaskQueue> queue_;
  int port_ = 0;
  std::unordered_set<ServerConnection*> conns_;
  std::unordered_set<ServerConnection*> refusing_;  // answered 503, closing
  bool shutting_down_ = false;
  bool tearing_down_ = false;
  std::function<void()> shutdown_done_;
  Stats stats_;
};

}  // namespace halo::http
