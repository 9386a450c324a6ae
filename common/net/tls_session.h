// TlsSession: the TLS state of one connection (an OpenSSL SSL over two memory BIOs), so the
// socket code keeps doing its own recv/send: ciphertext that arrived goes in through
// Receive(), plaintext to send goes in through Send(), and whatever TLS wants on the wire
// (handshake, records, alerts, tickets) comes out through TakeWire(). No I/O of its own.
//
// Errors: Receive() returns kIoError with OpenSSL's reason for a failed handshake or a bad
// record (the connection must be closed after sending TakeWire(): it may hold an alert).
// Threading: one connection's loop thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

struct evbuffer;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace halo::net {

class TlsSession {
 public:
  // The server side of a connection accepted on a TLS listener using `ctx`.
  static std::unique_ptr<TlsSession> Server(SSL_CTX* ctx);
  // The client side, towards `server_name` (SNI; also the name checked when `verify`).
  // `offer_h2`: ALPN offers h2 before http/1.1 (else the context's http/1.1 only).
  static std::unique_ptr<TlsSession> Client(SSL_CTX* ctx, const std::string& server_name,
                                            bool verify, bool offer_h2 = false);
  // Starts a client handshake (the ClientHello goes to the wire output).
  Status StartHandshake() { return Drive(); }
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Feeds `n` received bytes; appends the plaintext they complete to `plain`. `*eof` is set
  // when the peer sent close_notify.
  Status Receive(const char* data, size_t n, evbuffer* plain, bool* eof);
  // Encrypts and drains `plain` once the handshake is done (before that it stays put).
  Status Send(evbuffer* plain);
  // Sends close_notify (into the wire output).
  void Shutdown();
  // Moves what TLS has to send to `wire`; true if anything was moved.
  bool TakeWire(evbuffer* wire);
  bool handshake_done() const;
  // The negotiated ALPN protocol ("" for none) and TLS version ("TLSv1.3").
  std::string alpn() const;
  std::string version() const;

 private:
  explicit TlsSession(SSL* ssl) : ssl_(ssl) {}
  Status Drive();  // advances the handshake
  SSL* ssl_;
};

}  // namespace halo::net
