#include "common/net/stream_socket.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "common/net/tls_context.h"
#include "common/net/tls_session.h"

namespace halo::net {
namespace {

constexpr size_t kReadChunk = 16384;
constexpr unsigned char kTlsHandshakeRecord = 0x16;
constexpr int kMaxWriteVecs = 16;

// send()/recv() for one buffer and sendmsg()/recvmsg() for several: the socket calls skip
// the VFS layer (fd position lock, rw_verify_area) that readv()/writev() go through.
ssize_t ReadInto(evutil_socket_t fd, iovec* iov, int n) {
  if (n == 1) return recv(fd, iov[0].iov_base, iov[0].iov_len, 0);
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(n);
  return recvmsg(fd, &msg, 0);
}

ssize_t WriteFrom(evutil_socket_t fd, iovec* iov, int n) {
  if (n == 1) return send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(n);
  return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

}  // namespace

StreamSocket::StreamSocket(event_base* base, Handler* handler)
    : base_(base), handler_(handler), input_(evbuffer_new()), output_(evbuffer_new()) {}

StreamSocket::~StreamSocket() {
  if (wire_out_) evbuffer_free(wire_out_);
  if (rev_) event_free(rev_);
  if (wev_) event_free(wev_);
  if (fd_ >= 0) evutil_closesocket(fd_);
  evbuffer_free(input_);
  evbuffer_free(output_);
}

void StreamSocket::Setup(evutil_socket_t fd) {
  fd_ = fd;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  rev_ = event_new(base_, fd_, EV_READ | EV_PERSIST, &StreamSocket::OnReadEvent, this);
  wev_ = event_new(base_, fd_, EV_WRITE | EV_PERSIST, &StreamSocket::OnWriteEvent, this);
}

void StreamSocket::Adopt(evutil_socket_t fd) {
  evutil_make_socket_nonblocking(fd);
  Setup(fd);
  connected_ = true;
  EnableRead();
}

void StreamSocket::AdoptTls(evutil_socket_t fd, std::shared_ptr<const TlsContext> tls,
                            const std::string* plaintext_reply) {
  tls_ = TlsSession::Server(tls->ctx());
  tls_ctx_ = std::move(tls);
  wire_out_ = evbuffer_new();
  plaintext_reply_ = plaintext_reply;
  Adopt(fd);
  if (tls_ == nullptr) ScheduleClose(ENOMEM);
}

size_t StreamSocket::pending_output() const {
  return evbuffer_get_length(output_) + (wire_out_ ? evbuffer_get_length(wire_out_) : 0);
}

bool StreamSocket::ConnectTls(const NetAddress& addr, std::shared_ptr<const TlsContext> tls,
                              const std::string& server_name, bool offer_h2) {
  tls_ = TlsSession::Client(tls->ctx(), server_name, tls->verify_peer(), offer_h2);
  if (tls_ == nullptr) return false;
  tls_ctx_ = std::move(tls);
  tls_client_ = true;
  tls_first_byte_seen_ = true;  // no plaintext check on the client side
  wire_out_ = evbuffer_new();
  return Connect(addr);
}

std::string StreamSocket::alpn() const { return tls_ ? tls_->alpn() : std::string(); }

bool StreamSocket::Connect(const NetAddress& addr) {
  evutil_socket_t fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  Setup(fd);
  connecting_ = true;
  if (connect(fd_, addr.sa(), addr.len) != 0 && errno != EINPROGRESS) {
    ScheduleClose(errno);  // e.g. ECONNREFUSED at once: still reported from the loop
    return true;
  }
  event_add(wev_, nullptr);  // completion (or failure) shows as writable
  writing_ = true;
  return true;
}

void StreamSocket::EnableRead() {
  if (reading_ || closed_ || read_eof_ || fd_ < 0) return;
  reading_ = true;
  event_add(rev_, nullptr);
}

void StreamSocket::DisableRead() {
  if (!reading_) return;
  reading_ = false;
  event_del(rev_);
}

bool StreamSocket::PeerClosedOrTalking() {
  if (closed_ || read_eof_ || fd_ < 0 || pending_error_ >= 0) return true;
  char c;
  ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  return true;  // 0: EOF; >0: unexpected bytes
}

void StreamSocket::ShutdownWrite() {
  if (fd_ < 0 || closed_) return;
  if (tls_) {
    tls_->Shutdown();  // close_notify first, so the peer sees a clean end
    Flush();
  }
  shutdown(fd_, SHUT_WR);
}

void StreamSocket::Flush() {
  if (!connected_ || closed_ || pending_error_ >= 0) return;
  size_t left = 0;
  if (tls_) {
    Status st = tls_->Send(output_);
    tls_->TakeWire(wire_out_);
    if (!st.ok()) {
      tls_error_ = st.message();
      ScheduleClose(EPROTO);
      return;
    }
    if (!SendBuffer(wire_out_, &left)) return;
  } else if (!SendBuffer(output_, &left)) {
    return;
  }
  if (left > 0 && !writing_) {
    writing_ = true;
    event_add(wev_, nullptr);
  }
}

bool StreamSocket::SendBuffer(evbuffer* buf, size_t* left) {
  *left = evbuffer_get_length(buf);
  while (*left > 0) {
    evbuffer_iovec vec[kMaxWriteVecs];
    int nvec = evbuffer_peek(buf, -1, nullptr, vec, kMaxWriteVecs);
    if (nvec > kMaxWriteVecs) nvec = kMaxWriteVecs;
    iovec iov[kMaxWriteVecs];
    size_t offered = 0;
    for (int i = 0; i < nvec; ++i) {
      iov[i].iov_base = vec[i].iov_base;
      iov[i].iov_len = vec[i].iov_len;
      offered += vec[i].iov_len;
    }
    ssize_t n = WriteFrom(fd_, iov, nvec);
    if (n > 0) {
      evbuffer_drain(buf, static_cast<size_t>(n));
      *left -= static_cast<size_t>(n);
      if (static_cast<size_t>(n) < offered) break;  // the send buffer is full: wait for EPOLLOUT
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    ScheduleClose(n < 0 ? errno : EPIPE);
    return false;
  }
  return true;
}

void StreamSocket::ScheduleClose(int err) {
  if (pending_error_ >= 0) return;
  pending_error_ = err;
  event_active(rev_, EV_READ, 0);  // reported from the loop
}

void StreamSocket::OnReadEvent(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<StreamSocket*>(arg);
  if (s->closed_ || (!s->reading_ && s->pending_error_ < 0)) return;
  if (s->pending_error_ >= 0) {
    s->ReportClosed(s->pending_error_);
    return;
  }
  if (s->tls_) {
    s->OnTlsReadable();
    return;
  }
  evbuffer_iovec vec[2];
  int nvec = evbuffer_reserve_space(s->input_, kReadChunk, vec, 2);
  iovec iov[2];
  for (int i = 0; i < nvec; ++i) {
    iov[i].iov_base = vec[i].iov_base;
    iov[i].iov_len = vec[i].iov_len;
  }
  ssize_t n = ReadInto(s->fd_, iov, nvec);
  if (n > 0) {
    size_t left = static_cast<size_t>(n);
    for (int i = 0; i < nvec; ++i) {
      size_t take = left < vec[i].iov_len ? left : vec[i].iov_len;
      vec[i].iov_len = take;
      left -= take;
    }
    evbuffer_commit_space(s->input_, vec, nvec);
    s->handler_->OnReadable();  // may delete *s
    return;
  }
  evbuffer_commit_space(s->input_, vec, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  s->ReportClosed(n == 0 ? 0 : errno);
}

void StreamSocket::OnWriteEvent(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<StreamSocket*>(arg);
  if (s->closed_) return;
  if (s->connecting_) {
    s->connecting_ = false;
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(s->fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      s->ReportClosed(err);
      return;
    }
    s->connected_ = true;
    s->writing_ = false;
    event_del(s->wev_);
    if (s->tls_client_) {
      // TCP is up: the ClientHello goes out, OnConnected waits for the handshake.
      s->handshaking_ = true;
      Status st = s->tls_->StartHandshake();
      s->tls_->TakeWire(s->wire_out_);
      if (!st.ok()) {
        s->tls_error_ = st.message();
        s->ReportClosed(EPROTO);  // may delete *s
        return;
      }
      size_t left = 0;
      if (!s->SendBuffer(s->wire_out_, &left)) return;
      if (left > 0) {
        s->writing_ = true;
        event_add(s->wev_, nullptr);
      }
      if (!s->reading_) {
        s->reading_ = true;
        event_add(s->rev_, nullptr);
      }
      return;
    }
    s->Flush();
    s->handler_->OnConnected();  // may delete *s
    return;
  }
  s->Flush();
  if (s->pending_error_ >= 0 || s->pending_output() > 0) return;
  s->writing_ = false;
  event_del(s->wev_);
  s->handler_->OnDrained();  // may delete *s
}

void StreamSocket::OnTlsReadable() {
  char buf[kReadChunk];
  ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    ReportClosed(n == 0 ? 0 : errno);
    return;
  }
  if (!tls_first_byte_seen_) {
    tls_first_byte_seen_ = true;
    if (static_cast<unsigned char>(buf[0]) != kTlsHandshakeRecord) {
      // Plaintext (most likely HTTP) on a TLS port: say so in the clear, then close.
      tls_error_ = "the client did not start a TLS handshake (plaintext on a TLS port)";
      if (plaintext_reply_ != nullptr) {
        (void)send(fd_, plaintext_reply_->data(), plaintext_reply_->size(), MSG_NOSIGNAL);
      }
      ReportClosed(EPROTO);
      return;
    }
  }
  size_t before = evbuffer_get_length(input_);
  bool eof = false;
  Status st = tls_->Receive(buf, static_cast<size_t>(n), input_, &eof);
  // Handshake replies, alerts and tickets go out now; so does plaintext queued before the
  // handshake finished.
  Flush();
  if (!st.ok()) {
    tls_error_ = st.message();
    size_t left = 0;
    SendBuffer(wire_out_, &left);  // the alert, if the kernel takes it
    ReportClosed(EPROTO);
    return;
  }
  if (closed_) return;
  if (handshaking_ && tls_->handshake_done()) {
    handshaking_ = false;
    Flush();                  // anything queued before the handshake finished
    handler_->OnConnected();  // may delete *this
    return;                   // plaintext that came with the last flight: the next read
  }
  if (evbuffer_get_length(input_) > before) {
    if (eof) read_eof_ = true;  // reported after this data, on the next read event
    handler_->OnReadable();     // may delete *this
    return;
  }
  if (eof) ReportClosed(0);
}

void StreamSocket::ReportClosed(int err) {
  // EOF only ends the read side: a half-closed client can still be answered. A client TLS
  // handshake that did not finish is a failed connect.
  bool was_connected = connected_ && !handshaking_;
  if (err != 0 || !was_connected) closed_ = true;
  if (err == 0) read_eof_ = true;
  if (reading_) event_del(rev_);
  if (writing_) event_del(wev_);
  reading_ = writing_ = false;
  handler_->OnClosed(err, was_connected);  // may delete *this
}

}  // namespace halo::net
