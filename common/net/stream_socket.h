// StreamSocket: a non-blocking TCP socket on an event loop with input and output evbuffers,
// the data path's replacement for bufferevent. The difference is the syscall count per
// request: reads are one recv (recvmsg) into reserved evbuffer space (no FIONREAD ioctl
// first), and writes go out at once from Flush() (send, or sendmsg for several chunks), so
// EPOLLOUT is only armed when the kernel did not take everything. Steady-state keep-alive traffic
// makes no epoll_ctl calls.
//
// Handler callbacks run from the loop (never from inside Flush() or the other methods), so
// a handler may delete the socket's owner there as long as it touches nothing afterwards.
// Single-threaded (the owning worker's loop).
#pragma once

#include <event2/util.h>

#include <cstddef>
#include <memory>
#include <string>

#include "common/net/net_address.h"

struct event;
struct event_base;
struct evbuffer;

namespace halo::net {

class TlsContext;
class TlsSession;

class StreamSocket {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Bytes were appended to input().
    virtual void OnReadable() = 0;
    // A Flush() that could not finish has now written everything (output() is empty).
    virtual void OnDrained() = 0;
    // Connect() completed.
    virtual void OnConnected() = 0;
    // The peer closed its side (err 0: reading stops, writing still works) or the socket
    // failed (errno: nothing works any more); `connected` tells whether a connection was
    // ever established. Input that arrived before is still in input().
    virtual void OnClosed(int err, bool connected) = 0;
  };

  StreamSocket(event_base* base, Handler* handler);
  ~StreamSocket();  // closes the socket
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;

  // Takes an accepted (connected) socket; reading starts enabled.
  void Adopt(evutil_socket_t fd);
  // Same, as the server side of TLS: input() and output() carry plaintext; the handshake
  // runs first (no OnReadable until plaintext arrives). A peer whose first byte is not a TLS
  // handshake record gets `plaintext_reply` (e.g. an HTTP 400) and is closed. A failed
  // handshake or a bad record closes the socket (OnClosed with EPROTO); tls_error() says why.
  void AdoptTls(evutil_socket_t fd, std::shared_ptr<const TlsContext> tls,
                const std::string* plaintext_reply);
  bool secure() const { return tls_ != nullptr; }
  const std::string& tls_error() const { return tls_error_; }
  // Bytes queued and not yet sent: output() plus, on TLS, ciphertext waiting for the kernel.
  size_t pending_output() const;
  // Starts a non-blocking connect; false if the socket could not even be created.
  bool Connect(const NetAddress& addr);
  // Same, then a TLS handshake as the client (`tls` from TlsContext::CreateClient, towards
  // `server_name`): OnConnected comes once the handshake is done; a failed one is a failed
  // connect (OnClosed(EPROTO, false)), tls_error() says why.
  // `offer_h2`: ALPN offers h2 before http/1.1; alpn() tells what the server picked.
  bool ConnectTls(const NetAddress& addr, std::shared_ptr<const TlsContext> tls,
                  const std::string& server_name, bool offer_h2 = false);
  // The ALPN protocol negotiated ("" for none or plaintext).
  std::string alpn() const;
  // Hands the socket's events to another handler (a connection changing protocol).
  void set_handler(Handler* handler) { handler_ = handler; }

  evbuffer* input() { return input_; }
  evbuffer* output() { return output_; }
  void EnableRead();
  void DisableRead();
  bool reading() const { return reading_; }
  // Writes as much of output() as the kernel takes now. A failure is reported later
  // through OnClosed (from the loop).
  void Flush();
  bool connected() const { return connected_ && !handshaking_; }
  bool closed() const { return closed_; }
  bool read_eof() const { return read_eof_; }
  // For an idle keep-alive socket: true if the peer already closed it (or sent something,
  // which an idle HTTP/1.1 server must not). One non-blocking MSG_PEEK recv.
  bool PeerClosedOrTalking();
  // Half-close: shut down our sending side (after the last response) and keep reading.
  void ShutdownWrite();
  evutil_socket_t fd() const { return fd_; }

 private:
  static void OnReadEvent(evutil_socket_t fd, short what, void* arg);
  static void OnWriteEvent(evutil_socket_t fd, short what, void* arg);
  void Setup(evutil_socket_t fd);
  void ReportClosed(int err);  // from the loop only
  void ScheduleClose(int err);
  // Sends what `buf` holds as far as the kernel takes it; false after a failure (reported
  // later), `*left` bytes remain.
  bool SendBuffer(evbuffer* buf, size_t* left);
  void OnTlsReadable();

  event_base* base_;
  Handler* handler_;
  evutil_socket_t fd_ = -1;
  event* rev_ = nullptr;
  event* wev_ = nullptr;
  evbuffer* input_;
  evbuffer* output_;
  bool reading_ = false;
  bool writing_ = false;  // EPOLLOUT armed
  bool connecting_ = false;
  bool connected_ = false;
  bool closed_ = false;
  bool read_eof_ = false;
  int pending_error_ = -1;  // a write error waiting to be reported (-1: none)
  // TLS (AdoptTls): the session, its context (kept alive), ciphertext waiting for the wire.
  std::unique_ptr<TlsSession> tls_;
  std::shared_ptr<const TlsContext> tls_ctx_;
  evbuffer* wire_out_ = nullptr;
  const std::string* plaintext_reply_ = nullptr;
  bool tls_first_byte_seen_ = false;
  bool tls_client_ = false;
  bool handshaking_ = false;  // client: TCP is up, the TLS handshake is not done yet
  std::string tls_error_;
};

}  // namespace halo::net
