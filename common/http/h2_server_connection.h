// H2ServerConnection: one HTTP/2 client connection (nghttp2's server session), the server
// side of both daemons next to Http1ServerConnection, which hands it the socket once the
// client opened with the connection preface (ALPN h2 on TLS, prior knowledge on plaintext).
// Each stream is one exchange through its own H2ServerStream (a Downstream), so routing,
// holding, retrying and streaming are the same code as for HTTP/1.1.
//
// Bounds: SETTINGS_MAX_CONCURRENT_STREAMS, per-stream and connection receive windows that are
// only opened again as the exchange takes the request body (so a paused exchange buffers at
// most one window), an output high-water mark (frames are produced only while the socket
// has room), the header list limit (431; an HPACK bomb far past it is ENHANCE_YOUR_CALM), and
// token buckets for client resets (rapid reset), control frames (PING/SETTINGS/PRIORITY/empty
// DATA floods) and CONTINUATION frames per header block; any of them tripped ends the
// connection with GOAWAY ENHANCE_YOUR_CALM. Timeouts: idle (no stream open), write progress.
// BeginDrain (drain, SIGTERM) sends GOAWAY with the last stream id processed; the streams
// below it finish, then the connection closes.
//
// Lifetime: deletes itself from its own loop callbacks when the session is over, telling the
// host from its destructor; the host may delete it at any time. Frames are produced from a
// deferred loop callback, never inside a Downstream call, so no stream (and no exchange) is
// ever destroyed inside a call it made. Loop thread only.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/http/server_connection.h"
#include "common/http/server_connection_host.h"
#include "common/net/stream_socket.h"
#include "common/timer.h"

struct event;
struct event_base;
typedef struct nghttp2_session nghttp2_session;

namespace halo::http {

class H2ServerStream;

class H2ServerConnection : public ServerConnection, private net::StreamSocket::Handler {
 public:
  // Takes over a connected socket whose input starts with the preface.
  H2ServerConnection(event_base* base, TimerSource* timers, ServerConnectionHost* host,
                     std::shared_ptr<const ServerConnectionOptions> options,
                     std::unique_ptr<net::StreamSocket> sock, std::string client_ip,
                     std::string peer_address);
  ~H2ServerConnection() override;
  H2ServerConnection(const H2ServerConnection&) = delete;
  H2ServerConnection& operator=(const H2ServerConnection&) = delete;

  void BeginDrain() override;
  bool idle() const override { return live_.empty(); }

  // --- for H2ServerStream ---
  nghttp2_session* session() { return session_; }
  ServerConnectionHost* host() { return host_; }
  const ServerConnectionOptions& options() const { return *options_; }
  const std::string& client_ip() const { return client_ip_; }
  const std::string& peer_address() const { return peer_address_; }
  bool secure() const { return sock_->secure(); }
  // Frames are waiting: produce and send them from the loop.
  void ScheduleSend();
  // A stream whose queued response bytes all went into frames (DownstreamDrained later).
  void NoteDrained(int32_t stream_id) { drained_.push_back(stream_id); }
  // A stream whose exchange resumed its request body (DeliverHeld from the loop).
  void NoteResumed(int32_t stream_id) {
    resumed_.push_back(stream_id);
    ScheduleSend();
  }
  // A limit was tripped: GOAWAY ENHANCE_YOUR_CALM, stop reading, close once it is sent.
  void Calm(const char* why);

  // nghttp2 callbacks (static trampolines in the .cc reach these).
  int OnBeginFrame(uint8_t type, uint8_t flags, int32_t stream_id, size_t length);
  int OnBeginHeaders(int32_t stream_id);
  int OnStreamClose(int32_t stream_id, uint32_t error_code);
  int OnFrameRecv(uint8_t type, uint8_t flags, int32_t stream_id, size_t length, bool request);

 private:
  // StreamSocket::Handler
  void OnReadable() override;
  void OnDrained() override;
  void OnConnected() override {}
  void OnClosed(int err, bool connected) override;

  static void OnDeferred(evutil_socket_t fd, short what, void* arg);
  // Feeds the input to the session; false when the connection is over (*this deleted).
  bool Receive();
  // Produces frames while the socket has room, sends them, tells drained streams; false
  // when the connection is over (then *this is deleted).
  bool Send();
  // The session is over and its last frames are out: close, or first stop sending (FIN) and
  // read and drop what the client still sends for linger_timeout, so that the close does not
  // reset the connection before the client has read our GOAWAY.
  void Linger();
  void ArmIdle();
  // A token bucket: false when empty.
  struct Bucket {
    double tokens = 0;
    int64_t last_ms = 0;
  };
  bool Take(Bucket* b, uint32_t burst, uint32_t per_second);

  event_base* base_;
  ServerConnectionHost* host_;
  std::shared_ptr<const ServerConnectionOptions> options_;
  std::unique_ptr<net::StreamSocket> sock_;
  std::string client_ip_;
  std::string peer_address_;
  nghttp2_session* session_ = nullptr;
  event* deferred_ = nullptr;
  std::unique_ptr<Timer> idle_timer_;
  std::unique_ptr<Timer> write_timer_;
  std::unique_ptr<Timer> linger_timer_;
  TimerSource* timers_;
  std::vector<int32_t> drained_;
  std::vector<int32_t> resumed_;
  std::unordered_set<H2ServerStream*> live_;
  bool calm_ = false;       // GOAWAY ENHANCE_YOUR_CALM queued: what comes is dropped unread
  bool lingering_ = false;  // FIN sent: dropping input until the client closes
  bool draining_ = false;   // GOAWAY sent: no new streams
  bool in_send_ = false;
  Bucket resets_;
  Bucket control_;
  uint32_t continuations_ = 0;  // in the header block being received
};

}  // namespace halo::http
