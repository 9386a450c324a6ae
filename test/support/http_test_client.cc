#include "test/support/http_test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "common/http/response_parser.h"
#include "common/http/serializer.h"
#include "common/net/tls_context.h"

namespace halo::testing {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Runs `op` (an SSL_* call on a non-blocking socket) until it returns > 0 or fails for
// good: >0 done, 0 clean close (close_notify), -1 timeout, -2 failure.
template <typename Op>
int SslLoop(SSL* ssl, int fd, Op op, Clock::time_point deadline) {
  while (true) {
    ERR_clear_error();
    int r = op();
    if (r > 0) return r;
    int err = SSL_get_error(ssl, r);
    short events = 0;
    if (err == SSL_ERROR_WANT_READ) events = POLLIN;
    if (err == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (events == 0) return -2;
    pollfd p = {fd, events, 0};
    if (poll(&p, 1, RemainingMs(deadline)) <= 0) return -1;
  }
}

}  // namespace

HttpTestClient::HttpTestClient(int port, std::string host) : port_(port), host_(std::move(host)) {}

HttpTestClient::~HttpTestClient() {
  Close();
  if (session_) SSL_SESSION_free(session_);
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
}

Status HttpTestClient::UseTls(const TlsClientConfig& config) {
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
  tls_ctx_ = SSL_CTX_new(TLS_client_method());
  server_name_ = config.server_name;
  if (config.tls12_only) SSL_CTX_set_max_proto_version(tls_ctx_, TLS1_2_VERSION);
  if (!config.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(tls_ctx_, config.ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("ca_file " + config.ca_file + ": " + net::OpenSslErrors());
    }
    SSL_CTX_set_verify(tls_ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!config.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(tls_ctx_, config.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx_, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Status::InvalidArgument("client certificate: " + net::OpenSslErrors());
    }
  }
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(tls_ctx_, kAlpn, sizeof(kAlpn));
  return Status::Ok();
}

Status HttpTestClient::Handshake(Ms timeout) {
  ssl_ = SSL_new(tls_ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, server_name_.c_str());
  SSL_set1_host(ssl_, server_name_.c_str());
  if (session_) SSL_set_session(ssl_, session_);
  SSL* ssl = ssl_;
  int r = SslLoop(
      ssl_, fd_, [ssl] { return SSL_connect(ssl); }, Clock::now() + timeout);
  if (r > 0) return Status::Ok();
  std::string why = r == -1 ? "timed out" : net::OpenSslErrors();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK)
    why += " (verify: " + std::string(X509_verify_cert_error_string(verify)) + ")";
  Close();
  return Status::Unavailable("TLS handshake: " + why);
}

std::string HttpTestClient::PeerCertificate() const {
  if (ssl_ == nullptr) return "";
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (peer == nullptr) return "";
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = std::string(subject) + "|" + hex;
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(peer);
  return out;
}

Status HttpTestClient::Renegotiate(Ms timeout) {
  if (ssl_ == nullptr) return Status::InvalidArgument("not a TLS connection");
  if (SSL_renegotiate(ssl_) != 1)
    return Status::Unavailable("SSL_renegotiate: " + net::OpenSslErrors());
  SSL* ssl = ssl_;
  int r = SslLoop(
      ssl_, fd_, [ssl] { return SSL_do_handshake(ssl); }, Clock::now() + timeout);
  if (r == -1) return Status::Timeout("renegotiation: no answer");
  if (r > 0 && SSL_renegotiate_pending(ssl_) == 0) return Status::Ok();
  // Read what the server answered (its no_renegotiation alert, or a close).
  char c;
  int rr = SslLoop(
      ssl_, fd_, [ssl, &c] { return SSL_read(ssl, &c, 1); }, Clock::now() + timeout);
  return Status::Unavailable("renegotiation refused (" + std::to_string(rr) +
                             "): " + net::OpenSslErrors());
}

bool HttpTestClient::SessionReused() const { return ssl_ && SSL_session_reused(ssl_) == 1; }

void HttpTestClient::Close() {
  if (ssl_) {
    // TLS 1.3 tickets come after the handshake: the session is taken at the close.
    if (SSL_SESSION* s = SSL_get1_session(ssl_)) {
      if (session_) SSL_SESSION_free(session_);
      session_ = s;
    }
    SSL_free(ssl_);
  }
  ssl_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  closed_ = false;
  reusable_ = true;
  buffer_.clear();
  parser_.reset();
}

void HttpTestClient::ShutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

Status HttpTestClient::Connect(Ms timeout) {
  Close();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  if (inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    close(fd);
    return Status::InvalidArgument("not an IPv4 address: " + host_);
  }
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p = {fd, POLLOUT, 0};
    rc = poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc == 0) {
      close(fd);
      return Status::Unavailable("connect timed out");
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return Status::Unavailable(std::string("connect: ") + strerror(err));
    }
  } else if (rc != 0) {
    int err = errno;
    close(fd);
    return Status::Unavailable(std::string("connect: ") + strerror(err));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
  ++connections_opened_;
  parser_ = std::make_unique<http::ResponseParser>();
  if (tls_ctx_) return Handshake(timeout);
  return Status::Ok();
}

Status HttpTestClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) RETURN_IF_ERROR(Connect());
  auto deadline = Clock::now() + std::chrono::seconds(10);
  if (ssl_) {
    SSL* ssl = ssl_;
    while (!bytes.empty()) {
      int n = SslLoop(
          ssl_, fd_,
          [ssl, bytes] { return SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())); },
          deadline);
      if (n == -1) return Status::Timeout("send timed out");
      if (n <= 0) return Status::Unavailable("TLS send: " + net::OpenSslErrors());
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p = {fd_, POLLOUT, 0};
      if (poll(&p, 1, RemainingMs(deadline)) <= 0) return Status::Timeout("send timed out");
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return Status::Unavailable(std::string("send: ") + strerror(errno));
  }
  return Status::Ok();
}

int HttpTestClient::ReadSome(Clock::time_point deadline) {
  if (closed_) return 0;
  if (ssl_) {
    char buf[16384];
    SSL* ssl = ssl_;
    int n = SslLoop(
        ssl_, fd_, [ssl, &buf] { return SSL_read(ssl, buf, sizeof(buf)); }, deadline);
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
      return n;
    }
    if (n == -1) return -1;
    closed_ = true;  // close_notify, EOF or a TLS error
    return 0;
  }
  while (true) {
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
      return static_cast<int>(n);
    }
    if (n == 0) {
      closed_ = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      closed_ = true;  // reset
      return 0;
    }
    pollfd p = {fd_, POLLIN, 0};
    int rc = poll(&p, 1, RemainingMs(deadline));
    if (rc == 0) return -1;
  }
}

Result<http::Response> HttpTestClient::ReadResponse(Ms timeout, std::string_view request_method) {
  if (fd_ < 0) return Status::Unavailable("not connected");
  auto deadline = Clock::now() + timeout;
  parser_->SetRequestMethod(request_method);
  while (true) {
    if (!buffer_.empty()) {
      http::ParseProgress p = parser_->Feed(buffer_);
      buffer_.erase(0, p.consumed);
      if (p.state == http::ParseState::kMessageComplete) {
        if (!parser_->response().keep_alive) reusable_ = false;
        return parser_->TakeResponse();
      }
      if (p.state == http::ParseState::kError) {
        return Status::InvalidArgument("bad response: " + parser_->error().status.message());
      }
    }
    int n = ReadSome(deadline);
    if (n < 0) return Status::Timeout("no complete response in time");
    if (n == 0) {
      http::ParseProgress p = parser_->FeedEof();
      reusable_ = false;
      if (p.state == http::ParseState::kMessageComplete) return parser_->TakeResponse();
      return Status::Unavailable("connection closed before a complete response");
    }
  }
}

bool HttpTestClient::WaitForClose(Ms timeout) {
  if (fd_ < 0) return true;
  auto deadline = Clock::now() + timeout;
  while (!closed_) {
    if (ReadSome(deadline) < 0) return false;
  }
  return true;
}

bool HttpTestClient::WaitForBytes(std::string_view needle, Ms timeout) {
  if (fd_ < 0) return false;
  auto deadline = Clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    if (ReadSome(deadline) <= 0) return buffer_.find(needle) != std::string::npos;
  }
  return true;
}

Result<http::Response> HttpTestClient::Request(std::string_view method, std::string_view path,
                                               const http::Headers& headers, std::string_view body,
                                               Ms timeout) {
  if (fd_ >= 0 && buffer_.empty()) {
    // Notice a server-side close of the idle connection before reusing it.
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) ReadSome(Clock::now());
  }
  if (fd_ < 0 || closed_ || !reusable_) RETURN_IF_ERROR(Connect());
  http::Request req;
  req.method = std::string(method);
  req.target = std::string(path);
  req.headers = headers;
  if (!req.headers.Has("Host")) req.headers.Add("Host", host_ + ":" + std::to_string(port_));
  req.body = std::string(body);
  std::string wire;
  RETURN_IF_ERROR(http::AppendRequest(&wire, req));
  RETURN_IF_ERROR(SendRaw(wire));
  return ReadResponse(timeout, method);
}

Result<http::Response> HttpTestClient::Get(std::string_view path, const http::Headers& headers) {
  return Request("GET", path, headers);
}

Result<http::Response> HttpTestClient::Put(std::string_view path, std::string_view body,
                                           const http::Headers& headers) {
  return Request("PUT", path, headers, body);
}

Result<http::Response> HttpTestClient::Post(std::string_view path, std::string_view body,
                                            const http::Headers& headers) {
  return Request("POST", path, headers, body);
}

Result<http::Response> HttpTestClient::Delete(std::string_view path, const http::Headers& headers) {
  return Request("DELETE", path, headers);
}

}  // namespace halo::testing
