// HttpServer: the node's HTTP/1.1 server on a libevent loop. It listens on host:port (port 0
// picks a free port; port() reports it), parses requests with RequestParser (all the
// hardening of parser_core.h), and hands each complete request to an HttpHandler together
// with an HttpResponder that may be completed later, from any thread.
//
// Per connection: keep-alive and pipelining, one request in the handler at a time, answered
// in order (the next request is not read until the current one is answered). Timeouts
// against slowloris: the head must arrive within header_timeout of its first byte (and a
// new connection must send one within header_timeout), a body must keep moving
// (body_timeout), an idle keep-alive connection is closed after idle_timeout, a stuck write
// after write_timeout. Parse errors and timeouts are answered with the right status, a
// {"errors":["..."]} body and Connection: close; the connection is then closed gracefully
// (write side shut, unread input drained for up to linger_timeout) so the client reads the
// answer instead of a reset. Beyond max_connections, new connections get 503 and are closed.
//
// Threading: everything runs on the loop thread of `base`, including Handle(); only
// HttpResponder::Send() may be called from other threads.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/http/message.h"
#include "common/http/parser_options.h"
#include "common/loop_task_queue.h"
#include "common/result.h"

namespace halo::http {

namespace detail {
class ServerConnection;
struct ResponderState;
}  // namespace detail

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int backlog = 1024;
  size_t max_connections = 4096;
  ParserOptions parser;
  Duration header_timeout = std::chrono::seconds(10);  // first byte -> end of head
  Duration body_timeout = std::chrono::seconds(30);    // between body reads
  Duration idle_timeout = std::chrono::seconds(60);    // keep-alive, between requests
  Duration write_timeout = std::chrono::seconds(30);   // between response writes
  Duration linger_timeout = std::chrono::seconds(2);   // drain input before a close
  size_t max_requests_per_connection = 0;              // 0: unlimited
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
};

// An HttpHandler that calls a function.
class FunctionHandler final : public HttpHandler {
 public:
  using Fn = std::function<void(Request, HttpResponder)>;
  explicit FunctionHandler(Fn fn) : fn_(std::move(fn)) {}
  void Handle(Request request, HttpResponder responder) override {
    fn_(std::move(request), std::move(responder));
  }

 private:
  Fn fn_;
};

// {"errors":["<message>"]} with the message JSON-escaped.
std::string ErrorJson(std::string_view message);
// A response with that body, Content-Type: application/json.
Response ErrorResponse(int status, std::string_view message);

class HttpServer {
 public:
  struct Stats {
    uint64_t accepted = 0;
    uint64_t rejected = 0;  // over max_connections
    uint64_t requests = 0;
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
  // The queue responders use to reach the loop; usable for other completions too.
  const std::shared_ptr<LoopTaskQueue>& task_queue() const { return queue_; }

 private:
  friend class detail::ServerConnection;

  HttpServer(event_base* base, HttpServerOptions options, HttpHandler* handler);
  Status Listen();
  static void OnAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void OnAcceptError(evconnlistener* l, void* arg);
  static void OnResumeAccept(evutil_socket_t, short, void* arg);
  static void OnGraceExpired(evutil_socket_t, short, void* arg);
  static void OnShutdownDone(evutil_socket_t, short, void* arg);
  // From ServerConnection::Close().
  void RemoveConnection(uint64_t id);
  void MaybeFinishShutdown();

  event_base* base_;
  HttpServerOptions options_;
  HttpHandler* handler_;
  evconnlistener* listener_ = nullptr;
  event* resume_accept_ = nullptr;
  event* grace_timer_ = nullptr;
  event* done_event_ = nullptr;
  std::shared_ptr<LoopTaskQueue> queue_;
  int port_ = 0;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<detail::ServerConnection>> conns_;
  size_t rejecting_ = 0;  // connections being answered 503
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  Stats stats_;
};

}  // namespace halo::http
