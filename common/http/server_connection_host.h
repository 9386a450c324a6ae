// ServerConnectionHost: what an HTTP server connection needs from the server that accepted
// it (the node's HttpServer, a router Worker): a new exchange per connection, whether the
// server is draining, and where to report what it saw. ServerConnectionOptions: the limits and
// timeouts of one connection, fixed when it is accepted (a config reload applies to new
// connections). Loop thread only.
#pragma once

#include <cstddef>
#include <memory>

#include "common/clock.h"
#include "common/http/body_budget.h"
#include "common/http/downstream.h"
#include "common/http/h2_options.h"
#include "common/http/parser_options.h"
#include "common/http/server_exchange.h"

namespace halo::net {
class TlsContext;
}  // namespace halo::net

namespace halo::http {

class ServerConnection;

struct ServerConnectionOptions {
  ParserOptions parser;
  Duration first_request_timeout = std::chrono::seconds(10);  // accept -> first byte
  Duration header_timeout = std::chrono::seconds(10);         // first byte -> end of head
  Duration body_timeout = std::chrono::seconds(30);           // silence inside a body
  Duration idle_timeout = std::chrono::seconds(60);           // between requests
  Duration write_timeout = std::chrono::seconds(30);          // no progress sending
  Duration linger_timeout = std::chrono::seconds(2);          // drain input before close
  size_t max_requests_per_connection = 0;                     // 0: unlimited
  // Request-body bytes in flight across the whole process (shared by every connection);
  // nullptr: unbounded. A body that does not fit gets 503 + Retry-After before it is read.
  std::shared_ptr<BodyBudget> body_budget;
  int retry_after_s = 1;  // Retry-After of that 503
  // The listener's TLS configuration; nullptr: plaintext. A reload swaps in a new context for
  // new connections; one accepted keeps its own.
  std::shared_ptr<const net::TlsContext> tls;
  // HTTP/2 on this listener (h2.enabled: ALPN h2 on TLS, prior knowledge on plaintext).
  H2Options h2;
};

class ServerConnectionHost {
 public:
  virtual ~ServerConnectionHost() = default;
  // The one exchange the connection reuses for all its requests (Reset between them).
  virtual std::unique_ptr<ServerExchange> NewExchange(Downstream* downstream) = 0;
  // Draining: finish what is in progress, keep no connection alive.
  virtual bool draining() const = 0;
  // The connection refused a request it could not parse (`status` 400/413/414/417/431/501/
  // 505) or timed a client out (408 or a silent close).
  virtual void OnBadRequest(int status) = 0;
  virtual void OnTimeout() = 0;
  // From the connection's destructor (the host's bookkeeping; no call back into `c`).
  virtual void OnConnectionClosed(ServerConnection* c) = 0;
  // `from` handed its socket to `to` (HTTP/1.1 to HTTP/2 at the preface): `to` takes its
  // place in the host's bookkeeping; `from` is deleted next without OnConnectionClosed.
  virtual void OnConnectionReplaced(ServerConnection* from, ServerConnection* to) = 0;
};

}  // namespace halo::http
