// HttpClientPool: HTTP/1.1 client for one upstream host:port on a libevent loop (the node's
// forwarding to the active node). Keeps connections alive and reuses them (most recently
// used first), opens at most max_connections at once and queues requests beyond that, one
// request per connection at a time (no client-side pipelining).
//
// Every request ends in exactly one callback, on the loop thread, never inside Send():
//  - the Response (any status);
//  - kUnavailable: the request was NEVER SENT (no connection could be made, connect timed
//    out, it waited too long for a free connection, or the pool is shutting down): safe to
//    retry elsewhere;
//  - kTimeout: the request was written (maybe partly) and no complete response came back
//    (response timeout, connection reset or closed, malformed response): the OUTCOME IS
//    UNKNOWN and the request must not be replayed blindly;
//  - kInvalidArgument: the request itself cannot be written (bad header): never sent.
// One transparent retry: when a reused keep-alive connection is closed cleanly by the server
// before any byte of the response (the server timed the idle connection out just as the
// request went out, Go's errServerClosedIdle), the request is sent once more on a new
// connection.
//
// Threading: loop thread only. Destroying the pool drops in-flight callbacks (they are
// destroyed without being called).
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/http/message.h"
#include "common/http/parser_options.h"
#include "common/result.h"

namespace halo::http {

namespace detail {
class ClientConnection;
struct PendingRequest;
}  // namespace detail

struct HttpClientOptions {
  std::string host = "127.0.0.1";  // IP or name (resolved once, in Create)
  int port = 80;
  size_t max_connections = 64;
  size_t max_idle = 16;
  Duration connect_timeout = std::chrono::seconds(2);
  Duration request_timeout = std::chrono::seconds(30);  // written -> response complete
  Duration queue_timeout = std::chrono::seconds(5);     // waiting for a free connection
  Duration idle_timeout = std::chrono::seconds(30);     // an unused pooled connection
  ParserOptions parser;                                 // response limits
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // origin-form, e.g. "/v1/secret/data/a?version=2"
  Headers headers;           // Host is added when absent; Content-Length, Transfer-Encoding
                             // and Connection are the pool's business and are replaced
  std::string body;
};

class HttpClientPool {
 public:
  using Callback = std::function<void(Result<Response>)>;

  struct Stats {
    uint64_t connections_opened = 0;
    uint64_t requests = 0;
    uint64_t reused = 0;   // requests sent on a kept-alive connection
    uint64_t retried = 0;  // transparent retries after a stale keep-alive close
  };

  // Resolves `options.host`. kInvalidArgument when it cannot be resolved.
  // REQUIRES: `base` outlives the pool.
  static Result<std::unique_ptr<HttpClientPool>> Create(event_base* base,
                                                        HttpClientOptions options);
  ~HttpClientPool();
  HttpClientPool(const HttpClientPool&) = delete;
  HttpClientPool& operator=(const HttpClientPool&) = delete;

  // Loop thread. `done` runs exactly once, later, on the loop thread (see the header comment
  // for the outcomes). It may destroy the pool.
  void Send(ClientRequest request, Callback done);

  // True for the statuses that mean "never sent, safe to retry".
  static bool NeverSent(const Status& s) {
    return s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kInvalidArgument;
  }

  size_t idle_connections() const { return idle_.size(); }
  size_t open_connections() const { return conns_.size(); }
  size_t queued_requests() const { return queue_.size(); }
  const Stats& stats() const { return stats_; }
  const HttpClientOptions& options() const { return options_; }

 private:
  friend class detail::ClientConnection;

  HttpClientPool(event_base* base, HttpClientOptions options);
  void Pump();
  void Assign(detail::PendingRequest* req, const std::shared_ptr<detail::ClientConnection>& c);
  void WriteRequest(detail::ClientConnection* c);
  std::shared_ptr<detail::ClientConnection> Connect();
  void MakeIdle(detail::ClientConnection* c);
  void CloseConnection(detail::ClientConnection* c);
  // Ends `req` (removing it from every list) and calls its callback. Returns false if the
  // callback destroyed the pool.
  bool Finish(detail::PendingRequest* req, Result<Response> result);
  // The connection carrying a request failed; retries or finishes the request.
  bool FailCurrent(detail::ClientConnection* c, bool clean_eof, const std::string& why);
  void ArmRequestTimer(detail::PendingRequest* req, Duration d);

  // From detail::ClientConnection's libevent callbacks.
  void OnConnRead(detail::ClientConnection* c);
  void OnConnEvent(detail::ClientConnection* c, short what);
  void OnIdleTimeout(detail::ClientConnection* c);
  void OnRequestTimer(detail::PendingRequest* req);
  static void OnRequestTimerCb(evutil_socket_t, short, void* arg);

  event_base* base_;
  HttpClientOptions options_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::string host_header_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<detail::ClientConnection>> conns_;
  std::vector<detail::ClientConnection*> idle_;  // most recently used last
  std::unordered_map<uint64_t, std::unique_ptr<detail::PendingRequest>> requests_;
  std::deque<detail::PendingRequest*> queue_;  // waiting for a connection
  std::shared_ptr<bool> alive_;
  Stats stats_;
};

}  // namespace halo::http
