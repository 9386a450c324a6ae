#include "test/support/client_load.h"

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
#include "test/router/node_cluster.h"

namespace halo::router::testing {
namespace {

using Clock = std::chrono::steady_clock;

int LeftMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

ClientConn::ClientConn(std::string ip, int port, std::chrono::milliseconds timeout)
    : ip_(std::move(ip)), port_(port), timeout_(timeout) {}

ClientConn::~ClientConn() { Close(); }

void ClientConn::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  used_ = false;
  pending_.clear();
}

bool ClientConn::Open(std::string* error) {
  Close();
  ++connects_;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port_));
  ::inet_pton(AF_INET, ip_.c_str(), &a.sin_addr);
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd pfd{fd_, POLLOUT, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout_.count())) <= 0) {
      *error = "connect: no answer in " + std::to_string(timeout_.count()) + " ms";
      Close();
      return false;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

// A pooled connection is only reused while nothing is waiting on it: an idle connection
// the server closed shows as readable (EOF or RST), and stray bytes mean it is out of step.
bool ClientConn::Usable() {
  if (fd_ < 0) return false;
  if (!pending_.empty()) return false;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, 0) == 0) return true;
  ++stale_dropped_;
  return false;
}

ClientConn::Sent ClientConn::Exchange(const std::string& request, bool head,
                                      std::optional<http::Response>* out, std::string* error) {
  std::string_view rest = request;
  auto deadline = Clock::now() + timeout_;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n > 0) {
      rest.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, LeftMs(deadline)) > 0) continue;
      *error = "send: timed out";
      return Sent::kFailed;
    }
    *error = std::string("send: ") + std::strerror(errno);
    return Sent::kNothingBack;
  }
  http::ResponseParser parser;
  if (head) parser.SetRequestMethod("HEAD");
  bool got_bytes = false;
  while (true) {
    if (!pending_.empty()) {
      http::ParseProgress p = parser.Feed(pending_);
      pending_.erase(0, p.consumed);
      if (p.state == http::ParseState::kMessageComplete) {
        *out = parser.TakeResponse();
        return Sent::kAnswered;
      }
      if (p.state == http::ParseState::kError) {
        *error = "unparsable response";
        return Sent::kFailed;
      }
    }
    pollfd pfd{fd_, POLLIN, 0};
    int left = LeftMs(deadline);
    if (left == 0 || ::poll(&pfd, 1, left) <= 0) {
      *error = "no answer in " + std::to_string(timeout_.count()) + " ms";
      return Sent::kFailed;
    }
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      got_bytes = true;
      pending_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n == 0 && got_bytes) {
      http::ParseProgress p = parser.FeedEof();
      if (p.state == http::ParseState::kMessageComplete) {
        *out = parser.TakeResponse();
        return Sent::kAnswered;
      }
    }
    *error = n == 0 ? std::string("closed before the answer")
                    : std::string("recv: ") + std::strerror(errno);
    return got_bytes ? Sent::kFailed : Sent::kNothingBack;
  }
}

ClientConn::Outcome ClientConn::Call(const std::string& method, const std::string& target,
                                     const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + ip_ + ":" +
                    std::to_string(port_) + "\r\nX-Vault-Token: " + kRootToken + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  Outcome out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!Usable() && !Open(&out.error)) return out;
    bool reused = used_;
    out.reused = reused;
    used_ = true;
    Sent sent = Exchange(req, method == "HEAD", &out.response, &out.error);
    if (sent == Sent::kAnswered) {
      if (!out.response->keep_alive) Close();
      out.error.clear();
      return out;
    }
    Close();
    // Only a reused connection that gave nothing back is worth a second try: the server
    // closed it as the request went out. A fresh connection failing is a real failure.
    if (sent != Sent::kNothingBack || !reused) return out;
    out.retried = true;
  }
  return out;
}

ClientLoad::ClientLoad(std::string ip, int port, int connections,
                       std::chrono::milliseconds op_timeout, std::chrono::milliseconds backoff)
    : ip_(std::move(ip)), port_(port), op_timeout_(op_timeout), backoff_(backoff) {
  for (int i = 0; i < connections; ++i) threads_.emplace_back([this, i] { Run(i); });
}

ClientLoad::~ClientLoad() { Stop(); }

void ClientLoad::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<LoadOp> ClientLoad::ops() {
  std::lock_guard<std::mutex> l(mu_);
  return ops_;
}

std::vector<AckedWrite> ClientLoad::acked() {
  std::lock_guard<std::mutex> l(mu_);
  return acked_;
}

std::vector<std::pair<std::string, int>> ClientLoad::failure_reasons() {
  std::lock_guard<std::mutex> l(mu_);
  return reasons_;
}

std::vector<ClientLoad::Failure> ClientLoad::failures() {
  std::lock_guard<std::mutex> l(mu_);
  return failures_;
}

void ClientLoad::RecordFailure(const Failure& f) {
  std::lock_guard<std::mutex> l(mu_);
  failures_.push_back(f);
  for (auto& [reason, n] : reasons_) {
    if (reason == f.why) {
      ++n;
      return;
    }
  }
  reasons_.push_back({f.why, 1});
}

void ClientLoad::Run(int id) {
  ClientConn conn(ip_, port_, op_timeout_);
  int seq = 0;
  for (int i = 0; !stop_; ++i) {
    bool write = i % 10 == 0;
    std::string key, value;
    LoadOp op{write, Clock::now(), {}, 0};
    ClientConn::Outcome r;
    if (write) {
      key = "vip/c" + std::to_string(id) + "-" + std::to_string(seq++);
      value = "v" + std::to_string(i);
      r = conn.Call("PUT", "/v1/secret/data/" + key, R"({"data":{"v":")" + value + "\"}}");
    } else {
      r = conn.Call("GET", "/v1/secret/data/seed/" + std::to_string((i + id) % 20));
    }
    op.end = Clock::now();
    op.status = r.response ? r.response->status : 0;
    if (r.retried) ++retries_;
    {
      std::lock_guard<std::mutex> l(mu_);
      ops_.push_back(op);
      if (write && op.status == 200) acked_.push_back({key, value});
    }
    if (write && op.status == 200) ++writes_acked_;
    ++ops_done_;
    if (op.status != 200) {
      RecordFailure(
          {op.end, r.response ? "status " + std::to_string(op.status) : r.error, !r.reused});
      auto until = Clock::now() + backoff_;
      while (!stop_ && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  connects_ += conn.connects();
  stale_dropped_ += conn.stale_dropped();
}

}  // namespace halo::router::testing
