#include "common/http/h2_upstream_session.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>

#include "common/check.h"
#include "common/http/h2_upstream_stream.h"
#include "common/net/tls_context.h"

namespace halo::http {
namespace {

constexpr size_t kOutputHighWater = 256 * 1024;

H2UpstreamSession* Self(void* p) { return static_cast<H2UpstreamSession*>(p); }

H2UpstreamStream* StreamOf(nghttp2_session* s, int32_t id) {
  return static_cast<H2UpstreamStream*>(nghttp2_session_get_stream_user_data(s, id));
}

int OnHeaderCb(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* name, size_t namelen,
               const uint8_t* value, size_t valuelen, uint8_t, void*) {
  if (H2UpstreamStream* st = StreamOf(s, f->hd.stream_id)) {
    st->OnHeader({reinterpret_cast<const char*>(name), namelen},
                 {reinterpret_cast<const char*>(value), valuelen});
  }
  return 0;
}

int OnFrameRecvCb(nghttp2_session* s, const nghttp2_frame* f, void* u) {
  bool end_stream = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (f->hd.type) {
    case NGHTTP2_SETTINGS:
      if ((f->hd.flags & NGHTTP2_FLAG_ACK) == 0) Self(u)->OnSettings();
      return 0;
    case NGHTTP2_GOAWAY:
      Self(u)->OnGoaway();
      return 0;
    case NGHTTP2_HEADERS:
      if (H2UpstreamStream* st = StreamOf(s, f->hd.stream_id)) {
        if (f->headers.cat == NGHTTP2_HCAT_RESPONSE) {
          st->OnHeadersDone(end_stream);
        } else if (end_stream) {
          st->OnEndStream();  // trailers (or a final head after 1xx, handled as a head)
        }
      }
      return 0;
    case NGHTTP2_DATA:
      if (end_stream) {
        if (H2UpstreamStream* st = StreamOf(s, f->hd.stream_id)) st->OnEndStream();
      }
      return 0;
    default:
      return 0;
  }
}

int OnDataChunkCb(nghttp2_session* s, uint8_t, int32_t id, const uint8_t* data, size_t len, void*) {
  if (H2UpstreamStream* st = StreamOf(s, id)) {
    st->OnData(data, len);
  } else {
    nghttp2_session_consume(s, id, len);  // a cancelled stream's late bytes
  }
  return 0;
}

int OnStreamCloseCb(nghttp2_session* s, int32_t id, uint32_t error_code, void*) {
  if (H2UpstreamStream* st = StreamOf(s, id)) {
    nghttp2_session_set_stream_user_data(s, id, nullptr);
    st->OnClosed(error_code);
  }
  return 0;
}

int OnFrameSendCb(nghttp2_session* s, const nghttp2_frame* f, void*) {
  if (f->hd.type == NGHTTP2_HEADERS) {
    if (H2UpstreamStream* st = StreamOf(s, f->hd.stream_id)) st->OnHeadersSent();
  }
  return 0;
}

int OnFrameNotSendCb(nghttp2_session* s, const nghttp2_frame* f, int, void*) {
  if (f->hd.type == NGHTTP2_HEADERS) {
    if (H2UpstreamStream* st = StreamOf(s, f->hd.stream_id)) {
      nghttp2_session_set_stream_user_data(s, f->hd.stream_id, nullptr);
      st->OnNotSent();
    }
  }
  return 0;
}

timeval Tv(int64_t ms) {
  if (ms < 0) ms = 0;
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

H2UpstreamSession::H2UpstreamSession(event_base* base, int slot, const net::NetAddress& addr,
                                     const H2Options& options, std::function<void()> on_not_h2)
    : base_(base),
      slot_(slot),
      addr_(addr),
      options_(options),
      on_not_h2_(std::move(on_not_h2)),
      sock_(base, this) {
  deferred_ = event_new(base, -1, 0, &H2UpstreamSession::OnDeferred, this);
  connect_timer_ = evtimer_new(base, &H2UpstreamSession::OnConnectTimer, this);
  HALO_CHECK(deferred_ != nullptr && connect_timer_ != nullptr, "event_new failed");
}

H2UpstreamSession::~H2UpstreamSession() {
  // Teardown: streams still attached lose their session without calling their owners.
  for (H2UpstreamStream* s : streams_) s->Orphan();
  if (session_) nghttp2_session_del(session_);
  event_free(deferred_);
  event_free(connect_timer_);
}

bool H2UpstreamSession::Connect(int64_t connect_timeout_ms,
                                std::shared_ptr<const net::TlsContext> tls,
                                const std::string& server_name) {
  bool started = tls ? sock_.ConnectTls(addr_, std::move(tls), server_name, /*offer_h2=*/true)
                     : sock_.Connect(addr_);
  if (!started) {
    dead_ = true;
    return false;
  }
  timeval tv = Tv(connect_timeout_ms);
  evtimer_add(connect_timer_, &tv);
  return true;
}

void H2UpstreamSession::StartSession() {
  nghttp2_session_callbacks* cbs = nullptr;
  HALO_CHECK(nghttp2_session_callbacks_new(&cbs) == 0, "nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeaderCb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecvCb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnDataChunkCb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnStreamCloseCb);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, OnFrameSendCb);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, OnFrameNotSendCb);
  nghttp2_option* opt = nullptr;
  HALO_CHECK(nghttp2_option_new(&opt) == 0, "nghttp2: out of memory");
  nghttp2_option_set_no_auto_window_update(opt, 1);          // credit returns as the owner reads
  nghttp2_option_set_peer_max_concurrent_streams(opt, 100);  // until the server's SETTINGS
  int rv = nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  HALO_CHECK(rv == 0, "nghttp2_session_client_new2 failed (out of memory)");
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initial_window_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 2);
  uint64_t window = std::min<uint64_t>(uint64_t{options_.initial_window_size} * 256, 1u << 30);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(window));
}

void H2UpstreamSession::Add(H2UpstreamStream* s) {
  streams_.insert(s);
  if (ready_) s->SessionReady();
}

void H2UpstreamSession::Remove(H2UpstreamStream* s) {
  streams_.erase(s);
  if (session_ && s->id() > 0) {
    nghttp2_session_set_stream_user_data(session_, s->id(), nullptr);
    if (s->open_on_wire() && nghttp2_session_find_stream(session_, s->id()) != nullptr) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id(), NGHTTP2_CANCEL);
    }
  }
  if (!dead_) ScheduleSend();
}

void H2UpstreamSession::Retire() {
  if (retired_ || dead_) return;
  retired_ = true;
  if (session_ && ready_) {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  }
  ScheduleSend();
}

void H2UpstreamSession::ScheduleSend() {
  if (!dead_) event_active(deferred_, EV_TIMEOUT, 0);
}

void H2UpstreamSession::OnDeferred(evutil_socket_t, short, void* arg) {
  static_cast<H2UpstreamSession*>(arg)->Send();
}

void H2UpstreamSession::OnConnectTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<H2UpstreamSession*>(arg);
  if (!self->ready_) self->Fail(UpstreamFailure::kConnect);
}

void H2UpstreamSession::OnConnected() {
  if (sock_.secure() && sock_.alpn() != "h2") {
    Fail(UpstreamFailure::kNotH2);
    return;
  }
  StartSession();
  sock_.EnableRead();
  Send();  // the preface and our SETTINGS
}

void H2UpstreamSession::OnSettings() {
  if (ready_) return;
  ready_ = true;
  evtimer_del(connect_timer_);
  for (H2UpstreamStream* s : std::vector<H2UpstreamStream*>(streams_.begin(), streams_.end())) {
    if (streams_.count(s)) s->SessionReady();
  }
}

void H2UpstreamSession::OnGoaway() { retired_ = true; }

void H2UpstreamSession::OnReadable() {
  if (dead_ || !session_) return;
  ++depth_;
  evbuffer* in = sock_.input();
  bool failed = false;
  while (evbuffer_get_length(in) > 0) {
    evbuffer_iovec v;
    if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1) break;
    ssize_t rv =
        nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(v.iov_base), v.iov_len);
    if (rv < 0) {
      failed = true;
      break;
    }
    evbuffer_drain(in, v.iov_len);
  }
  if (failed) {
    evbuffer_drain(in, evbuffer_get_length(in));
    // Bytes that are not HTTP/2 before the server's SETTINGS: an HTTP/1.1-only peer.
    Fail(ready_ ? UpstreamFailure::kBadResponse : UpstreamFailure::kNotH2);
    --depth_;
    return;
  }
  std::vector<int32_t> ids;
  ids.swap(read_);
  for (int32_t id : ids) {
    if (H2UpstreamStream* st = StreamOf(session_, id)) st->ReadDone();
  }
  if (!ready_ && !nghttp2_session_want_read(session_)) {
    Fail(UpstreamFailure::kNotH2);  // the peer's first bytes were not HTTP/2
    --depth_;
    return;
  }
  --depth_;
  Send();
}

void H2UpstreamSession::Send() {
  if (dead_ || !session_) return;
  ++depth_;
  while (sock_.pending_output() < kOutputHighWater) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      Fail(UpstreamFailure::kClosed);
      --depth_;
      return;
    }
    if (n == 0) break;
    evbuffer_add(sock_.output(), data, static_cast<size_t>(n));
  }
  sock_.Flush();
  std::vector<int32_t> ids;
  ids.swap(drained_);
  for (int32_t id : ids) {
    if (H2UpstreamStream* st = StreamOf(session_, id)) st->Drained();
  }
  --depth_;
  MaybeClose();
}

void H2UpstreamSession::MaybeClose() {
  if (dead_ || !session_) return;
  bool over = !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
  if (over && !streams_.empty()) {
    // nghttp2 ended the session (a protocol error; before the server's SETTINGS: bytes that
    // are not HTTP/2, an HTTP/1.1-only peer): what is still attached fails now.
    Fail(ready_ ? UpstreamFailure::kClosed : UpstreamFailure::kNotH2);
    return;
  }
  if ((over || (retired_ && streams_.empty())) && sock_.pending_output() == 0) {
    dead_ = true;  // the owner deletes it
    sock_.DisableRead();
  }
}

void H2UpstreamSession::OnDrained() { Send(); }

void H2UpstreamSession::OnClosed(int, bool connected) {
  if (!connected) {
    Fail(UpstreamFailure::kConnect);
    return;
  }
  // Frames that arrived with the close (a GOAWAY, the last answers) count first.
  if (session_ && evbuffer_get_length(sock_.input()) > 0) OnReadable();
  if (!dead_ || !streams_.empty()) {
    dead_ = false;  // Fail() ends what is still attached
    // Accepted, then closed on our preface without a SETTINGS frame: an HTTP/1.1-only peer
    // that drops what it cannot parse (an h2 server always sends SETTINGS first).
    Fail(ready_ ? UpstreamFailure::kClosed : UpstreamFailure::kNotH2);
  }
}

void H2UpstreamSession::Fail(UpstreamFailure why) {
  if (dead_) return;
  dead_ = true;
  ++depth_;
  evtimer_del(connect_timer_);
  sock_.DisableRead();
  if (why == UpstreamFailure::kNotH2 && on_not_h2_) on_not_h2_();
  std::string tls_error = sock_.tls_error();
  for (H2UpstreamStream* s : std::vector<H2UpstreamStream*>(streams_.begin(), streams_.end())) {
    if (!streams_.count(s)) continue;  // an earlier owner's retry removed it
    streams_.erase(s);
    s->SessionFailed(why, tls_error);  // tail call to its owner: may delete s
  }
  --depth_;
}

}  // namespace halo::http
