// H2UpstreamSession: one HTTP/2 client connection to a peer (a router worker to a node),
// carrying many H2UpstreamStreams at once: their frames share each send and recv. nghttp2's
// client session over a StreamSocket (plaintext with prior knowledge, or TLS with ALPN h2).
//
// Streams wait until the server's SETTINGS arrived, then go out (nghttp2 queues those past
// the server's SETTINGS_MAX_CONCURRENT_STREAMS). A peer that turns out not to speak HTTP/2
// (ALPN picked something else, or its first bytes are not frames) fails its waiting streams
// with UpstreamFailure::kNotH2 (nothing was sent) and calls `on_not_h2`, so its owner uses
// HTTP/1.1 for that peer. GOAWAY retires the session: streams above the last stream id end
// with REFUSED_STREAM (never processed), the rest finish, no new stream is taken. A socket
// failure ends every stream, each with its own Reach.
//
// Ownership: the owner (router/upstream_connector.h) holds the session; streams point to it
// and leave it when destroyed. A dead session is deleted by its owner once it has no
// streams and is not inside one of its own callbacks (in_callback()). Loop thread only.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/http/h2_options.h"
#include "common/http/upstream_outcome.h"
#include "common/net/net_address.h"
#include "common/net/stream_socket.h"

struct event;
struct event_base;
typedef struct nghttp2_session nghttp2_session;

namespace halo::net {
class TlsContext;
}

namespace halo::http {

class H2UpstreamStream;

class H2UpstreamSession : private net::StreamSocket::Handler {
 public:
  H2UpstreamSession(event_base* base, int slot, const net::NetAddress& addr,
                    const H2Options& options, std::function<void()> on_not_h2);
  ~H2UpstreamSession() override;
  H2UpstreamSession(const H2UpstreamSession&) = delete;
  H2UpstreamSession& operator=(const H2UpstreamSession&) = delete;

  // Starts connecting (TLS when `tls`, offering h2); false if that failed at once.
  bool Connect(int64_t connect_timeout_ms, std::shared_ptr<const net::TlsContext> tls,
               const std::string& server_name);

  // Streams join at creation and leave at destruction.
  void Add(H2UpstreamStream* s);
  void Remove(H2UpstreamStream* s);
  // Takes no new streams; closes once the last one ended.
  void Retire();

  bool usable() const { return !dead_ && !retired_; }
  bool dead() const { return dead_; }
  bool ready() const { return ready_; }
  bool in_callback() const { return depth_ > 0; }
  size_t stream_count() const { return streams_.size(); }
  const net::NetAddress& address() const { return addr_; }
  bool secure() const { return sock_.secure(); }
  const std::string& tls_error() const { return sock_.tls_error(); }
  nghttp2_session* session() { return session_; }
  event_base* base() { return base_; }
  // Frames are waiting: produce and send them from the loop.
  void ScheduleSend();
  // A stream whose request body all went into frames (OnUpstreamDrained later).
  void NoteDrained(int32_t id) { drained_.push_back(id); }
  // A stream that received response bytes in this batch (OnUpstreamReadDone after it).
  void NoteRead(int32_t id) { read_.push_back(id); }

  // nghttp2 callbacks (trampolines in the .cc).
  void OnSettings();
  void OnGoaway();

 private:
  // StreamSocket::Handler
  void OnReadable() override;
  void OnDrained() override;
  void OnConnected() override;
  void OnClosed(int err, bool connected) override;

  static void OnDeferred(evutil_socket_t fd, short what, void* arg);
  static void OnConnectTimer(evutil_socket_t fd, short what, void* arg);
  void StartSession();
  void Send();
  // Ends every stream (`why`; kNotH2 also tells on_not_h2) and closes the socket.
  void Fail(UpstreamFailure why);
  void MaybeClose();

  event_base* base_;
  int slot_;
  net::NetAddress addr_;
  H2Options options_;
  std::function<void()> on_not_h2_;
  net::StreamSocket sock_;
  nghttp2_session* session_ = nullptr;
  event* deferred_ = nullptr;
  event* connect_timer_ = nullptr;
  std::unordered_set<H2UpstreamStream*> streams_;
  std::vector<int32_t> drained_;
  std::vector<int32_t> read_;
  int depth_ = 0;
  bool ready_ = false;    // the server's SETTINGS arrived
  bool dead_ = false;     // failed or closed: no stream can use it
  bool retired_ = false;  // GOAWAY received or Retire(): no new streams
};

}  // namespace halo::http
