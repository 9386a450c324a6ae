#include "test/router/router_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/http/request_parser.h"
#include "common/http/response_parser.h"
#include "common/http/syntax.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;

std::string Json(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Reply(int status, const std::string& body, const std::string& node,
                  const std::string& extra = "") {
  std::string r =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::ReasonPhrase(status)) + "\r\n";
  r += "Content-Type: application/json\r\nX-Fake-Node: " + node + "\r\n" + extra;
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

bool IsRead(const std::string& m) {
  return m == "GET" || m == "HEAD" || m == "LIST" || m == "OPTIONS";
}

int ListenLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// FakeNode

FakeNode::FakeNode(std::string name) : name_(std::move(name)) {
  listen_fd_ = ListenLoopback(0);
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeNode::~FakeNode() { Stop(); }

void FakeNode::SetRole(Role r) {
  std::lock_guard<std::mutex> l(mu_);
  if (role_ != r) ++index_;
  role_ = r;
  cv_.notify_all();
}

void FakeNode::SetLeader(const std::string& api_addr) {
  std::lock_guard<std::mutex> l(mu_);
  if (leader_ != api_addr) ++index_;
  leader_ = api_addr;
  cv_.notify_all();
}

void FakeNode::ResetCounts() {
  reads_ = 0;
  writes_ = 0;
  std::lock_guard<std::mutex> l(mu_);
  arrivals_.clear();
}

std::vector<std::string> FakeNode::targets() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (const Arrival& a : arrivals_) out.push_back(a.target);
  return out;
}

std::vector<FakeNode::Arrival> FakeNode::arrivals() const {
  std::lock_guard<std::mutex> l(mu_);
  return arrivals_;
}

void FakeNode::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    cv_.notify_all();
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    threads.swap(conn_threads_);
  }
  for (std::thread& t : threads) t.join();
  std::lock_guard<std::mutex> l(mu_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

bool FakeNode::Start() {
  Stop();
  int fd = -1;
  if (!PollUntil([&] { return (fd = ListenLoopback(port_)) >= 0; }, std::chrono::seconds(5))) {
    return false;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    listen_fd_ = fd;
    stopping_ = false;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void FakeNode::AcceptLoop() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    conn_fds_.push_back(fd);
    const int conn = ++accepted_;
    conn_threads_.emplace_back([this, fd, conn] { Serve(fd, conn); });
  }
}

void FakeNode::Serve(int fd, int conn) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  http::ParserOptions opts;
  opts.require_host = false;
  http::RequestParser parser(opts);
  std::string buf;
  char tmp[16384];
  bool close_conn = false;
  while (!close_conn) {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
    while (!buf.empty() && !close_conn) {
      http::ParseProgress p = parser.Feed(buf);
      buf.erase(0, p.consumed);
      if (p.state == http::ParseState::kError) {
        close_conn = true;
        break;
      }
      if (p.state != http::ParseState::kMessageComplete) break;
      http::Request req = parser.TakeRequest();
      std::string out = Handle(req, conn, &close_conn);
      if (!out.empty() && ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) close_conn = true;
      if (!req.keep_alive) close_conn = true;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = conn_fds_.begin(); it != conn_fds_.end(); ++it) {
    if (*it == fd) {
      conn_fds_.erase(it);
      break;
    }
  }
  ::close(fd);
}

std::string FakeNode::LeaderBody(int64_t wait_index, int64_t wait_ms) {
  std::unique_lock<std::mutex> l(mu_);
  if (wait_index >= 0) {
    cv_.wait_for(l, std::chrono::milliseconds(wait_ms),
                 [&] { return stopping_ || index_ != wait_index; });
  }
  bool self = role_ == Role::kActive;
  std::string leader = self ? "http://127.0.0.1:" + std::to_string(port_) : leader_;
  return "{\"ha_enabled\":true,\"is_self\":" + std::string(self ? "true" : "false") +
         ",\"leader_address\":" + Json(leader) +
         ",\"leader_cluster_address\":\"\",\"index\":" + std::to_string(index_) + "}";
}

std::string FakeNode::Handle(const http::Request& req, int conn, bool* close) {
  if (req.path == "/v1/sys/health") {
    ++health_;
    Role r;
    {
      std::lock_guard<std::mutex> l(mu_);
      r = role_;
    }
    int code = r == Role::kActive ? 200 : r == Role::kStandby ? 429 : 503;
    std::string body = std::string("{\"initialized\":true,\"sealed\":") +
                       (r == Role::kSealed ? "true" : "false") +
                       ",\"standby\":" + (r == Role::kActive ? "false" : "true") + "}";
    return Reply(code, body, name_);
  }
  if (req.path == "/v1/sys/leader") {
    int64_t index = -1, wait_ms = 0;
    if (auto i = req.QueryParam("index")) index = std::stoll(*i);
    if (auto w = req.QueryParam("wait")) {
      std::string s = *w;
      wait_ms =
          s.size() > 2 && s.substr(s.size() - 2) == "ms" ? std::stoll(s) : std::stoll(s) * 1000;
    }
    if (wait_ms > 5000) wait_ms = 5000;  // keep test threads short-lived
    return Reply(200, LeaderBody(index, wait_ms), name_);
  }
  bool read = IsRead(req.method);
  {
    std::lock_guard<std::mutex> l(mu_);
    arrivals_.push_back(Arrival{conn, req.method + " " + req.target});
  }
  if (delay_ms.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
  if (read && drop_reads.load()) {
    ++reads_;
    *close = true;
    return "";
  }
  if (!read) {
    if (drop_writes.load()) {
      ++writes_;
      *close = true;
      return "";
    }
    if (int st = write_status.load(); st != 0) {
      ++writes_;
      return Reply(st, "{\"errors\":[\"scripted\"]}", name_,
                   not_executed.load() ? "X-Halo-Not-Executed: 1\r\n" : "");
    }
  }
  (read ? reads_ : writes_)++;
  auto hdr = [&](const char* n) {
    std::optional<std::string_view> v = req.headers.Get(n);
    return v ? std::string(*v) : std::string();
  };
  std::string body =
      "{\"node\":" + Json(name_) + ",\"method\":" + Json(req.method) +
      ",\"target\":" + Json(req.target) + ",\"body\":" + Json(req.body) +
      ",\"xff\":" + Json(hdr("x-forwarded-for")) + ",\"xfp\":" + Json(hdr("x-forwarded-proto")) +
      ",\"no_forward\":" + Json(hdr("x-vault-no-request-forwarding")) +
      ",\"connection\":" + Json(hdr("connection")) + ",\"te\":" + Json(hdr("transfer-encoding")) +
      ",\"halo_forwarded\":" + Json(hdr("x-halo-forwarded")) +
      ",\"request_id\":" + Json(hdr("x-request-id")) + "}";
  return Reply(200, body, name_);
}

// ------------------------------------------------------------------------------------------
// RawClient

RawClient::~RawClient() { Close(); }

void RawClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

bool RawClient::Connect(int port) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    Close();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

bool RawClient::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<http::Response> RawClient::Read(std::chrono::milliseconds timeout,
                                              bool head_request) {
  if (fd_ < 0) return std::nullopt;
  http::ResponseParser parser;
  if (head_request) parser.SetRequestMethod("HEAD");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!pending_.empty()) {
      http::ParseProgress p = parser.Feed(pending_);
      pending_.erase(0, p.consumed);
      if (p.state == http::ParseState::kMessageComplete) return parser.TakeResponse();
      if (p.state == http::ParseState::kError) return std::nullopt;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      http::ParseProgress p = parser.FeedEof();
      if (p.state == http::ParseState::kMessageComplete) return parser.TakeResponse();
      return std::nullopt;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

bool RawClient::ReadPrefix(std::string_view prefix, std::chrono::milliseconds timeout) {
  if (fd_ < 0) return false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_.size() < prefix.size()) {
    if (pending_ != prefix.substr(0, pending_.size())) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
  }
  if (pending_.compare(0, prefix.size(), prefix) != 0) return false;
  pending_.erase(0, prefix.size());
  return true;
}

std::optional<http::Response> RawClient::Request(const std::string& method,
                                                 const std::string& target, const std::string& body,
                                                 const std::vector<std::string>& extra_headers,
                                                 std::chrono::milliseconds timeout) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: router\r\n";
  for (const std::string& h : extra_headers) req += h + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (!Send(req)) return std::nullopt;
  return Read(timeout, method == "HEAD");
}

bool RawClient::WaitClosed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  if (!pending_.empty()) return false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n > 0) return false;  // more bytes: not closed
  }
}

std::optional<http::Response> HttpCall(int port, const std::string& method,
                                       const std::string& target, const std::string& body,
                                       const std::vector<std::string>& extra_headers) {
  RawClient c;
  if (!c.Connect(port)) return std::nullopt;
  return c.Request(method, target, body, extra_headers);
}

std::string RouterConfigJson(int port,
                             const std::vector<std::pair<std::string, std::string>>& nodes,
                             const std::string& extra) {
  std::string j = "{\"listener\":{\"tcp\":{\"address\":\"127.0.0.1:" + std::to_string(port) +
                  "\"}},\"log_level\":\"warn\",\"nodes\":[";
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i) j += ",";
    j += "{\"name\":" + Json(nodes[i].first) + ",\"address\":" + Json(nodes[i].second) + "}";
  }
  j += "]";
  if (!extra.empty()) j += "," + extra;
  return j + "}";
}

// ------------------------------------------------------------------------------------------
// RouterProcess

RouterProcess::RouterProcess(std::string tag)
    : dir_(tag), port_(halo::testing::PickFreePort()), admin_port_(halo::testing::PickFreePort()) {
  config_path_ = dir_.Join("router.json");
  log_path_ = dir_.Join("router.log");
}

RouterProcess::~RouterProcess() {
  if (proc_.started()) proc_.Stop(SIGKILL, std::chrono::seconds(5));
}

bool RouterProcess::Start(const std::string& config_json) {
  halo::testing::WriteFile(config_path_, WithAdmin(config_json));
  proc_ = halo::testing::Subprocess::Start(
      {halo::testing::BinPath("halo-router"), "--config", config_path_}, {}, log_path_);
  if (!proc_.started()) return false;
  return PollUntil(
             [&] {
               rapidjson::Document d = Status();
               return d.IsObject() || !proc_.Running();
             },
             std::chrono::seconds(10)) &&
         proc_.Running();
}

bool RouterProcess::Reload(const std::string& config_json, bool wait) {
  rapidjson::Document before = Status();
  if (!before.IsObject()) return false;
  uint64_t gen = before["config_generation"].GetUint64();
  halo::testing::WriteFile(config_path_, WithAdmin(config_json));
  proc_.Signal(SIGHUP);
  if (!wait) return true;
  return WaitStatus(
      [&](const rapidjson::Document& d) { return d["config_generation"].GetUint64() > gen; });
}

std::string RouterProcess::WithAdmin(const std::string& config_json) const {
  if (config_json.find("\"admin\"") != std::string::npos) return config_json;
  std::string out = config_json;
  out.insert(out.find('{') + 1,
             "\"admin\":{\"address\":\"127.0.0.1:" + std::to_string(admin_port_) + "\"},");
  return out;
}

rapidjson::Document RouterProcess::Status() {
  rapidjson::Document d;
  std::vector<std::string> headers;
  if (!admin_token_.empty()) headers.push_back("X-Halo-Admin-Token: " + admin_token_);
  std::optional<http::Response> r = HttpCall(admin_port_, "GET", "/_halo/status", "", headers);
  if (r && r->status == 200) d.Parse(r->body.c_str());
  if (d.HasParseError()) d.SetNull();
  return d;
}

bool RouterProcess::WaitStatus(const std::function<bool(const rapidjson::Document&)>& pred,
                               std::chrono::milliseconds timeout) {
  return PollUntil(
      [&] {
        rapidjson::Document d = Status();
        return d.IsObject() && pred(d);
      },
      timeout, std::chrono::milliseconds(10));
}

bool RouterProcess::WaitRoles(const std::string& active, int routable,
                              std::chrono::milliseconds timeout) {
  return WaitStatus(
      [&](const rapidjson::Document& d) {
        bool active_ok = active.empty()
                             ? d["active"].IsNull()
                             : d["active"].IsString() && d["active"].GetString() == active;
        int n = 0;
        for (const auto& node : d["nodes"].GetArray()) n += node["routable"].GetBool() ? 1 : 0;
        return active_ok && n == routable;
      },
      timeout);
}

std::string RouterProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t StatusCounter(const rapidjson::Document& d, const char* name) {
  if (!d.IsObject() || !d.HasMember("counters")) return -1;
  const auto& c = d["counters"];
  if (!c.HasMember(name)) return -1;
  return c[name].GetInt64();
}

int64_t NodeRequests(const rapidjson::Document& d, const std::string& node, const char* cls) {
  if (!d.IsObject()) return -1;
  for (const auto& n : d["nodes"].GetArray()) {
    if (n["name"].GetString() == node) return n["requests"][cls].GetInt64();
  }
  return -1;
}

}  // namespace halo::router::testing
