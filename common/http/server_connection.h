// ServerConnection: one accepted client connection of either protocol, as the server that
// accepted it (the node's HttpServer, a router Worker) sees it: something to drain, to
// count and, at teardown, to delete. Http1ServerConnection serves HTTP/1.1 and hands a
// connection that opens with the HTTP/2 preface (ALPN h2 on TLS, prior knowledge on
// plaintext) to an H2ServerConnection (ServerConnectionHost::OnConnectionReplaced).
// Loop thread only; each connection deletes itself when it ends and tells its host from its
// destructor (ServerConnectionHost::OnConnectionClosed).
#pragma once

namespace halo::http {

class ServerConnection {
 public:
  virtual ~ServerConnection() = default;
  // Finish what is in progress, take no new requests (HTTP/2: GOAWAY), then close.
  virtual void BeginDrain() = 0;
  // No request in progress.
  virtual bool idle() const = 0;
};

}  // namespace halo::http
