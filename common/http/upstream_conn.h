// UpstreamConn: one HTTP/1.1 connection to a peer (a router worker to a node, or an
// HttpClient to any server), used for one exchange at a time and kept alive between
// exchanges in an UpstreamPool. Owned by whoever holds the pointer (the pool while parked,
// the exchange while attached); single-threaded (the loop it was created on).
//
// The request side is the owner's business: it appends bytes to output() and calls Send()
// (which writes at once). The response side is parsed here with the streaming
// ResponseParser and reported to the owner as it arrives. Contract for owners, which keeps
// the object's lifetime simple: OnUpstreamHead/Body/ReadDone run inside reading and must not
// destroy this connection; OnUpstreamComplete, Refused and Error are tail calls (this object
// touches nothing after making them), so the owner may release or destroy it there.
// Failures come back only through OnUpstreamError, as an UpstreamFailure plus the Reach of
// the request (whether the peer can have seen it), or OnUpstreamRefused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/http/response_parser.h"
#include "common/http/upstream_outcome.h"
#include "common/http/upstream_stream.h"
#include "common/net/net_address.h"
#include "common/net/stream_socket.h"

struct event;
struct event_base;
struct evbuffer;

namespace halo::http {

class UpstreamConn : public UpstreamStream, private net::StreamSocket::Handler {
 public:
  // The connection is not opened until Connect().
  UpstreamConn(event_base* base, int slot, const net::NetAddress& addr,
               const ParserOptions& parser_options);
  ~UpstreamConn() override;
  UpstreamConn(const UpstreamConn&) = delete;
  UpstreamConn& operator=(const UpstreamConn&) = delete;

  // Starts connecting; false if that failed at once (nothing to wait for). With `tls`
  // (a client context), a TLS handshake towards `server_name` follows, within the same
  // connect timeout; a handshake that fails is a connect failure, tls_error() says why.
  bool Connect(int64_t connect_timeout_ms, std::shared_ptr<const net::TlsContext> tls = nullptr,
               const std::string& server_name = "");
  const std::string& tls_error() const override { return sock_.tls_error(); }

  // Starts an exchange: the next response answers `method`; `response_timeout_ms` is the
  // longest silence from the node while the answer is awaited.
  void Attach(UpstreamOwner* owner, std::string_view method, int64_t response_timeout_ms) override;
  // Parks the connection (in the pool): any byte or close just marks it dead.
  void Park();
  void Detach() override { owner_ = nullptr; }

  evbuffer* output() override { return sock_.output(); }
  // After appending `n` bytes to output(): accounts them and writes now.
  void Send(size_t n) override;
  void PauseReading() override { sock_.DisableRead(); }
  void ResumeReading() override { sock_.EnableRead(); }

  int slot() const override { return slot_; }
  const char* protocol() const override { return "http1"; }
  const net::NetAddress& address() const { return addr_; }
  bool connected() const override { return sock_.connected(); }
  bool dead() const { return dead_; }
  // A parked connection the node has already closed (costs one non-blocking syscall).
  bool ClosedByPeer() { return dead_ || sock_.PeerClosedOrTalking(); }
  // A completed exchange left the connection reusable (keep-alive, nothing extra received).
  bool reusable() const override { return reusable_ && !dead_; }
  bool request_sent() const;
  // How far the current exchange got (see Reach).
  Reach reach() const override;
  size_t output_length() const override;

 private:
  class ParserCallbacks : public ResponseParser::Callbacks {
   public:
    explicit ParserCallbacks(UpstreamConn* c) : c_(c) {}
    void OnHead(Response& r) override;
    void OnBody(std::string_view d) override;
    void OnComplete(Response& r) override;

   private:
    UpstreamConn* c_;
  };

  // StreamSocket::Handler
  void OnReadable() override;
  void OnDrained() override;
  void OnConnected() override;
  void OnClosed(int err, bool connected) override;

  static void OnTimer(evutil_socket_t fd, short what, void* arg);
  void ArmTimer(int64_t ms);
  // True when it made a tail call to the owner (then *this may be gone).
  bool HandleRead();
  void Fail(UpstreamFailure why);

  int slot_;
  net::NetAddress addr_;
  net::StreamSocket sock_;
  event* timer_ = nullptr;
  int64_t response_timeout_ms_ = 0;
  ParserCallbacks callbacks_;
  ResponseParser parser_;
  UpstreamOwner* owner_ = nullptr;
  bool dead_ = false;
  bool reusable_ = false;
  bool refused_ = false;
  bool complete_ = false;
  bool response_started_ = false;  // a response byte arrived in this exchange
  size_t added_ = 0;               // bytes appended to output in this exchange
};

}  // namespace halo::http
