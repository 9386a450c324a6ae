#include "common/http/h2_server_connection.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <chrono>

#include "common/check.h"
#include "common/http/h2_server_stream.h"
#include "common/logging.h"

namespace halo::http {
namespace {

// Frames are produced only while less than this is waiting for the socket.
constexpr size_t kOutputHighWater = 256 * 1024;

H2ServerConnection* Self(void* p) { return static_cast<H2ServerConnection*>(p); }

H2ServerStream* StreamOf(nghttp2_session* s, int32_t id) {
  return static_cast<H2ServerStream*>(nghttp2_session_get_stream_user_data(s, id));
}

int OnBeginFrameCb(nghttp2_session*, const nghttp2_frame_hd* hd, void* u) {
  return Self(u)->OnBeginFrame(hd->type, hd->flags, hd->stream_id, hd->length);
}

int OnBeginHeadersCb(nghttp2_session*, const nghttp2_frame* f, void* u) {
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  return Self(u)->OnBeginHeaders(f->hd.stream_id);
}

int OnHeaderCb(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* name, size_t namelen,
               const uint8_t* value, size_t valuelen, uint8_t, void* u) {
  H2ServerStream* st = StreamOf(s, f->hd.stream_id);
  if (st == nullptr) return 0;
  if (!st->OnHeader({reinterpret_cast<const char*>(name), namelen},
                    {reinterpret_cast<const char*>(value), valuelen})) {
    Self(u)->Calm("a header list far past the limit (HPACK bomb)");
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int OnFrameRecvCb(nghttp2_session*, const nghttp2_frame* f, void* u) {
  bool request = f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST;
  return Self(u)->OnFrameRecv(f->hd.type, f->hd.flags, f->hd.stream_id, f->hd.length, request);
}

int OnDataChunkCb(nghttp2_session* s, uint8_t, int32_t id, const uint8_t* data, size_t len, void*) {
  if (H2ServerStream* st = StreamOf(s, id)) {
    st->OnData(data, len);
  } else {
    nghttp2_session_consume(s, id, len);
  }
  return 0;
}

int OnFrameSendCb(nghttp2_session* s, const nghttp2_frame* f, void*) {
  bool last = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
              (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
  if (!last) return 0;
  if (H2ServerStream* st = StreamOf(s, f->hd.stream_id)) st->OnResponseSent();
  return 0;
}

int OnStreamCloseCb(nghttp2_session*, int32_t id, uint32_t error_code, void* u) {
  return Self(u)->OnStreamClose(id, error_code);
}

}  // namespace

H2ServerConnection::H2ServerConnection(event_base* base, TimerSource* timers,
                                       ServerConnectionHost* host,
                                       std::shared_ptr<const ServerConnectionOptions> options,
                                       std::unique_ptr<net::StreamSocket> sock,
                                       std::string client_ip, std::string peer_address)
    : base_(base),
      host_(host),
      options_(std::move(options)),
      sock_(std::move(sock)),
      client_ip_(std::move(client_ip)),
      peer_address_(std::move(peer_address)),
      timers_(timers) {
  sock_->set_handler(this);
  idle_timer_ = timers_->NewTimer([this] {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    host_->OnTimeout();
    Send();  // may delete *this
  });
  write_timer_ = timers_->NewTimer([this] {
    host_->OnTimeout();  // the client stopped reading: nothing more can reach it
    delete this;
  });
  linger_timer_ = timers_->NewTimer([this] { delete this; });
  deferred_ = event_new(base, -1, 0, &H2ServerConnection::OnDeferred, this);
  HALO_CHECK(deferred_ != nullptr, "event_new failed (out of memory)");

  const H2Options& h2 = options_->h2;
  nghttp2_session_callbacks* cbs = nullptr;
  HALO_CHECK(nghttp2_session_callbacks_new(&cbs) == 0, "nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, OnBeginFrameCb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, OnBeginHeadersCb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeaderCb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecvCb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnDataChunkCb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnStreamCloseCb);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, OnFrameSendCb);
  nghttp2_option* opt = nullptr;
  HALO_CHECK(nghttp2_option_new(&opt) == 0, "nghttp2: out of memory");
  nghttp2_option_set_no_auto_window_update(opt, 1);  // windows open as exchanges take bytes
  // nghttp2's own defences stay on behind ours (ours answer first, with ENHANCE_YOUR_CALM).
  nghttp2_option_set_max_continuations(opt, h2.max_continuations + 1);
  nghttp2_option_set_stream_reset_rate_limit(opt, 2 * h2.reset_burst, 2 * h2.resets_per_second);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  HALO_CHECK(rv == 0, "nghttp2_session_server_new2 failed (out of memory)");

  size_t header_limit =
      h2.max_header_list_bytes ? h2.max_header_list_bytes : options_->parser.max_header_bytes;
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, std::max<uint32_t>(h2.max_frame_size, 16384)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(header_limit)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
  uint64_t conn_window = std::min<uint64_t>(
      uint64_t{h2.initial_window_size} * std::max<uint32_t>(h2.max_concurrent_streams, 1),
      uint64_t{1} << 30);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(conn_window));
  resets_.tokens = h2.reset_burst;
  control_.tokens = h2.control_burst;
  resets_.last_ms = control_.last_ms = 0;
  ArmIdle();
  ScheduleSend();  // our SETTINGS, and the preface already buffered in the input
}

H2ServerConnection::~H2ServerConnection() {
  // The session ends without closing its streams: abandon their exchanges first.
  std::vector<H2ServerStream*> streams(live_.begin(), live_.end());
  for (H2ServerStream* st : streams) {
    st->OnClosed(NGHTTP2_CANCEL);
    delete st;
  }
  live_.clear();
  nghttp2_session_del(session_);
  event_free(deferred_);
  host_->OnConnectionClosed(this);
}

void H2ServerConnection::ScheduleSend() { event_active(deferred_, EV_TIMEOUT, 0); }

void H2ServerConnection::OnDeferred(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<H2ServerConnection*>(arg);
  if (!self->resumed_.empty()) {
    std::vector<int32_t> ids;
    ids.swap(self->resumed_);
    for (int32_t id : ids) {
      if (H2ServerStream* st = StreamOf(self->session_, id)) st->DeliverHeld();
    }
  }
  if (!self->calm_ && evbuffer_get_length(self->sock_->input()) > 0) {
    if (!self->Receive()) return;
  }
  self->Send();
}

void H2ServerConnection::OnReadable() {
  if (lingering_) {
    evbuffer_drain(sock_->input(), evbuffer_get_length(sock_->input()));
    return;
  }
  if (Receive()) Send();
}

bool H2ServerConnection::Receive() {
  evbuffer* in = sock_->input();
  while (!calm_ && evbuffer_get_length(in) > 0) {
    evbuffer_iovec v;
    if (evbuffer_peek(in, -1, nullptr, &v, 1) < 1) break;
    ssize_t rv =
        nghttp2_session_mem_recv(session_, static_cast<const uint8_t*>(v.iov_base), v.iov_len);
    if (rv < 0) {
      if (rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
        Calm(nghttp2_strerror(static_cast<int>(rv)));
        break;
      }
      if (!calm_) {
        LOG_DEBUG("http2: client %s: %s", peer_address_.c_str(),
                  nghttp2_strerror(static_cast<int>(rv)));
        host_->OnBadRequest(400);
        delete this;
        return false;
      }
      break;
    }
    evbuffer_drain(in, v.iov_len);
  }
  if (calm_) evbuffer_drain(in, evbuffer_get_length(in));
  return true;
}

bool H2ServerConnection::Send() {
  if (in_send_ || lingering_) return true;
  in_send_ = true;
  while (sock_->pending_output() < kOutputHighWater) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      LOG_DEBUG("http2: client %s: %s", peer_address_.c_str(),
                nghttp2_strerror(static_cast<int>(n)));
      delete this;
      return false;
    }
    if (n == 0) break;
    evbuffer_add(sock_->output(), data, static_cast<size_t>(n));
  }
  sock_->Flush();
  in_send_ = false;
  if (!drained_.empty()) {
    std::vector<int32_t> ids;
    ids.swap(drained_);
    for (int32_t id : ids) {
      if (H2ServerStream* st = StreamOf(session_, id)) st->Drained();
    }
  }
  size_t pending = sock_->pending_output();
  if (pending > 0) {
    if (!write_timer_->armed()) write_timer_->Arm(options_->write_timeout);
  } else {
    write_timer_->Cancel();
  }
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_) &&
      pending == 0) {
    Linger();  // the session is over and everything it said is out; may delete *this
    return false;
  }
  return true;
}

void H2ServerConnection::Linger() {
  if (sock_->closed() || sock_->read_eof()) {
    delete this;
    return;
  }
  lingering_ = true;
  idle_timer_->Cancel();
  write_timer_->Cancel();
  sock_->ShutdownWrite();
  evbuffer_drain(sock_->input(), evbuffer_get_length(sock_->input()));
  sock_->EnableRead();
  linger_timer_->Arm(options_->linger_timeout);
}

void H2ServerConnection::OnDrained() { Send(); }

void H2ServerConnection::OnClosed(int, bool) {
  delete this;  // EOF or a socket error: every stream still open is abandoned
}

void H2ServerConnection::BeginDrain() {
  if (draining_) return;
  draining_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  ScheduleSend();
}

void H2ServerConnection::Calm(const char* why) {
  if (calm_) return;
  calm_ = true;
  LOG_WARN("http2: client %s: %s: GOAWAY ENHANCE_YOUR_CALM", peer_address_.c_str(), why);
  host_->OnBadRequest(400);
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  ScheduleSend();
}

void H2ServerConnection::ArmIdle() {
  if (live_.empty()) {
    idle_timer_->Arm(options_->idle_timeout);
  } else {
    idle_timer_->Cancel();
  }
}

bool H2ServerConnection::Take(Bucket* b, uint32_t burst, uint32_t per_second) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    timers_->clock().Now().time_since_epoch())
                    .count();
  if (b->last_ms != 0) {
    b->tokens = std::min<double>(burst, b->tokens + (now - b->last_ms) * per_second / 1000.0);
  }
  b->last_ms = now;
  if (b->tokens < 1) return false;
  b->tokens -= 1;
  return true;
}

// ---------------------------------------------------------------------------------------
// nghttp2 callbacks

int H2ServerConnection::OnBeginFrame(uint8_t type, uint8_t, int32_t, size_t) {
  if (type == NGHTTP2_HEADERS) {
    continuations_ = 0;
  } else if (type == NGHTTP2_CONTINUATION && ++continuations_ > options_->h2.max_continuations) {
    Calm("too many CONTINUATION frames in one header block");
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int H2ServerConnection::OnBeginHeaders(int32_t stream_id) {
  if (draining_ || calm_) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  auto* st = new H2ServerStream(this, stream_id);
  live_.insert(st);
  nghttp2_session_set_stream_user_data(session_, stream_id, st);
  idle_timer_->Cancel();
  return 0;
}

int H2ServerConnection::OnFrameRecv(uint8_t type, uint8_t flags, int32_t stream_id, size_t length,
                                    bool request) {
  const H2Options& h2 = options_->h2;
  bool end_stream = (flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (type) {
    case NGHTTP2_HEADERS: {
      H2ServerStream* st = StreamOf(session_, stream_id);
      if (st == nullptr) return 0;
      if (request) {
        st->OnHeadersDone(end_stream);
      } else if (end_stream) {
        st->OnEndStream();  // trailers
      }
      return 0;
    }
    case NGHTTP2_DATA:
      if (length == 0 && !end_stream && !Take(&control_, h2.control_burst, h2.control_per_second)) {
        Calm("a flood of empty DATA frames");
        return 0;
      }
      if (end_stream) {
        if (H2ServerStream* st = StreamOf(session_, stream_id)) st->OnEndStream();
      }
      return 0;
    case NGHTTP2_RST_STREAM:
      if (!Take(&resets_, h2.reset_burst, h2.resets_per_second)) {
        Calm("streams reset faster than the limit (rapid reset)");
      }
      return 0;
    case NGHTTP2_PING:
    case NGHTTP2_SETTINGS:
      if ((flags & NGHTTP2_FLAG_ACK) == 0 &&
          !Take(&control_, h2.control_burst, h2.control_per_second)) {
        Calm(type == NGHTTP2_PING ? "a PING flood" : "a SETTINGS flood");
      }
      return 0;
    case NGHTTP2_PRIORITY:
      if (!Take(&control_, h2.control_burst, h2.control_per_second)) Calm("a PRIORITY flood");
      return 0;
    default:
      return 0;
  }
}

int H2ServerConnection::OnStreamClose(int32_t stream_id, uint32_t error_code) {
  H2ServerStream* st = StreamOf(session_, stream_id);
  if (st == nullptr) return 0;
  nghttp2_session_set_stream_user_data(session_, stream_id, nullptr);
  live_.erase(st);
  st->OnClosed(error_code);
  delete st;
  // The server stopped keeping connections (a router's shutdown_grace): as HTTP/1.1 closes
  // after its current response, an h2 connection ends after its first stream.
  if (!draining_ && !calm_ && host_->draining()) BeginDrain();
  if (!calm_) ArmIdle();
  return 0;
}

}  // namespace halo::http
