#include "test/support/http_test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/http/response_parser.h"
#include "common/http/serializer.h"

namespace halo::testing {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

HttpTestClient::HttpTestClient(int port, std::string host) : port_(port), host_(std::move(host)) {}

HttpTestClient::~HttpTestClient() { Close(); }

void HttpTestClient::Close() {
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
  return Status::Ok();
}

Status HttpTestClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) RETURN_IF_ERROR(Connect());
  auto deadline = Clock::now() + std::chrono::seconds(10);
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
