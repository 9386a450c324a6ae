#include "common/http/http_client_pool.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "common/http/http_server.h"
#include "test/common/http/loop_thread.h"
#include "test/support/subprocess.h"

namespace halo::http {
namespace {

using std::chrono::milliseconds;
using testing::LoopThread;

// A raw upstream on a thread: accepts connections one by one and runs the next script on
// each (blocking socket calls, no sleeps).
class ScriptedUpstream {
 public:
  using Script = std::function<void(int fd)>;
  explicit ScriptedUpstream(std::vector<Script> scripts) : scripts_(std::move(scripts)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (Script& s : scripts_) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        s(c);
        close(c);
      }
    });
  }
  ~ScriptedUpstream() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

  // Reads one request head (the tests send no bodies).
  static std::string ReadHead(int fd) {
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  static void Write(int fd, std::string_view s) {
    (void)!send(fd, s.data(), s.size(), MSG_NOSIGNAL);
  }
  // Waits for the peer to close (or reset).
  static void WaitPeerClose(int fd) {
    char buf[4096];
    while (recv(fd, buf, sizeof(buf), 0) > 0) {
    }
  }
  static void Reset(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<Script> scripts_;
  std::thread thread_;
};

class PoolFixture {
 public:
  explicit PoolFixture(int port, HttpClientOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = port;
    loop_.RunSync([&] {
      auto p = HttpClientPool::Create(loop_.base(), o);
      REQUIRE(p.ok());
      pool_ = std::move(*p);
    });
  }
  ~PoolFixture() {
    loop_.RunSync([&] { pool_.reset(); });
  }
  LoopThread& loop() { return loop_; }
  HttpClientPool* pool() { return pool_.get(); }
  void Reset() {
    loop_.RunSync([&] { pool_.reset(); });
  }

  std::future<Result<Response>> Start(ClientRequest req) {
    auto p = std::make_shared<std::promise<Result<Response>>>();
    auto f = p->get_future();
    loop_.RunSync([&] {
      pool_->Send(std::move(req), [p](Result<Response> r) { p->set_value(std::move(r)); });
    });
    return f;
  }
  Result<Response> Send(ClientRequest req) {
    auto f = Start(std::move(req));
    if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      return Status::Internal("test: no callback");
    }
    return f.get();
  }
  HttpClientPool::Stats Stats() {
    HttpClientPool::Stats s;
    loop_.RunSync([&] { s = pool_->stats(); });
    return s;
  }

 private:
  LoopThread loop_;
  std::unique_ptr<HttpClientPool> pool_;
};

ClientRequest Req(std::string method, std::string target, std::string body = "") {
  ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

// An HttpServer upstream on its own loop thread, echoing "<method> <target> <body>".
class EchoUpstream {
 public:
  explicit EchoUpstream(HttpServerOptions o = {})
      : handler_([this](Request r, HttpResponder resp) {
          ++requests_;
          Response out;
          out.body = r.method + " " + r.target + " " + r.body;
          if (r.headers.Get("X-Close")) out.headers.Add("Connection", "close");
          out.headers.Add("X-Host", r.headers.Get("Host").value_or(""));
          resp.Send(std::move(out));
        }) {
    loop_.RunSync([&] { server_ = std::move(*HttpServer::Create(loop_.base(), o, &handler_)); });
  }
  ~EchoUpstream() {
    loop_.RunSync([&] { server_.reset(); });
  }
  int port() const { return server_->port(); }
  int requests() const { return requests_; }

 private:
  LoopThread loop_;
  std::atomic<int> requests_{0};
  FunctionHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_CASE("HttpClientPool: keep-alive reuse, methods, HEAD, Host") {
  EchoUpstream up;
  PoolFixture f(up.port());
  for (int i = 0; i < 5; ++i) {
    auto r = f.Send(Req(i % 2 ? "LIST" : "PUT", "/v1/x?i=" + std::to_string(i), "b"));
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body == std::string(i % 2 ? "LIST" : "PUT") + " /v1/x?i=" + std::to_string(i) + " b");
    CHECK(r->headers.Get("X-Host") ==
          std::optional<std::string_view>("127.0.0.1:" + std::to_string(up.port())));
  }
  auto head = f.Send(Req("HEAD", "/h"));
  REQUIRE(head.ok());
  CHECK(head->body.empty());
  CHECK(head->content_length > 0);
  auto after = f.Send(Req("GET", "/after-head"));
  REQUIRE(after.ok());
  CHECK(after->body == "GET /after-head ");
  CHECK(f.Stats().connections_opened == 1);
  CHECK(f.Stats().reused == 6);
}

TEST_CASE("HttpClientPool: concurrency is bounded by max_connections") {
  EchoUpstream up;
  HttpClientOptions o;
  o.max_connections = 3;
  PoolFixture f(up.port(), o);
  std::vector<std::future<Result<Response>>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(f.Start(Req("GET", "/" + std::to_string(i))));
  for (int i = 0; i < 20; ++i) {
    REQUIRE(futures[i].wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto r = futures[i].get();
    REQUIRE(r.ok());
    CHECK(r->body == "GET /" + std::to_string(i) + " ");
  }
  CHECK(f.Stats().connections_opened <= 3);
  CHECK(up.requests() == 20);
}

TEST_CASE("HttpClientPool: Connection: close is honoured") {
  EchoUpstream up;
  PoolFixture f(up.port());
  ClientRequest r = Req("GET", "/a");
  r.headers.Add("X-Close", "1");
  r.headers.Add("Connection", "keep-alive");  // the pool's business: replaced
  REQUIRE(f.Send(r).ok());
  REQUIRE(f.Send(Req("GET", "/b")).ok());
  CHECK(f.Stats().connections_opened == 2);
}

TEST_CASE("HttpClientPool: never sent -> kUnavailable") {
  int port = halo::testing::PickFreePort();  // nothing listens there
  PoolFixture f(port);
  auto r = f.Send(Req("PUT", "/v1/kv/a", "x"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(HttpClientPool::NeverSent(r.status()));
  MESSAGE(r.status().ToString());
  // A header that would split the request is refused before anything is sent.
  ClientRequest bad = Req("GET", "/");
  bad.headers.Add("X", "a\r\nEvil: 1");
  auto b = f.Send(bad);
  CHECK(b.status().code() == Status::Code::kInvalidArgument);
  CHECK(HttpClientPool::NeverSent(b.status()));
}

TEST_CASE("HttpClientPool: sent, then no answer -> kTimeout (outcome unknown)") {
  SUBCASE("no response within request_timeout") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::WaitPeerClose(fd);
    }});
    HttpClientOptions o;
    o.request_timeout = milliseconds(200);
    PoolFixture f(up.port(), o);
    auto r = f.Send(Req("PUT", "/v1/kv/a", "x"));
    CHECK(r.status().code() == Status::Code::kTimeout);
    CHECK_FALSE(HttpClientPool::NeverSent(r.status()));
    f.Reset();
  }
  SUBCASE("fresh connection closed before the response") {
    ScriptedUpstream up({[](int fd) { ScriptedUpstream::ReadHead(fd); }});
    PoolFixture f(up.port());
    auto r = f.Send(Req("PUT", "/v1/kv/a", "x"));
    CHECK(r.status().code() == Status::Code::kTimeout);
    CHECK(f.Stats().retried == 0);
  }
  SUBCASE("half a response, then close") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    }});
    PoolFixture f(up.port());
    auto r = f.Send(Req("GET", "/"));
    CHECK(r.status().code() == Status::Code::kTimeout);
  }
  SUBCASE("malformed response") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Write(
          fd, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
      ScriptedUpstream::WaitPeerClose(fd);
    }});
    PoolFixture f(up.port());
    auto r = f.Send(Req("GET", "/"));
    CHECK(r.status().code() == Status::Code::kTimeout);
    CHECK(r.status().message().find("malformed") != std::string::npos);
  }
  SUBCASE("reset on a reused connection is not retried") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Reset(fd);
    }});
    PoolFixture f(up.port());
    REQUIRE(f.Send(Req("GET", "/1")).ok());
    auto r = f.Send(Req("PUT", "/2", "x"));
    CHECK(r.status().code() == Status::Code::kTimeout);
    CHECK(f.Stats().retried == 0);
  }
}

TEST_CASE("HttpClientPool: stale keep-alive closed cleanly is retried once on a new connection") {
  ScriptedUpstream up({
      [](int fd) {
        ScriptedUpstream::ReadHead(fd);
        ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1");
        ScriptedUpstream::ReadHead(fd);  // then close without a byte of response
      },
      [](int fd) {
        ScriptedUpstream::ReadHead(fd);
        ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr2");
        ScriptedUpstream::WaitPeerClose(fd);
      },
  });
  PoolFixture f(up.port());
  auto a = f.Send(Req("GET", "/1"));
  REQUIRE(a.ok());
  CHECK(a->body == "r1");
  auto b = f.Send(Req("PUT", "/2", "x"));
  REQUIRE(b.ok());
  CHECK(b->body == "r2");
  CHECK(f.Stats().retried == 1);
  CHECK(f.Stats().connections_opened == 2);
  f.Reset();
}

TEST_CASE("HttpClientPool: close-delimited response, idle connection closed by the server") {
  ScriptedUpstream up({[](int fd) {
    ScriptedUpstream::ReadHead(fd);
    ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
  }});
  PoolFixture f(up.port());
  auto r = f.Send(Req("GET", "/"));
  REQUIRE(r.ok());
  CHECK(r->body == "until close");

  HttpServerOptions so;
  so.idle_timeout = milliseconds(100);
  EchoUpstream echo(so);
  PoolFixture g(echo.port());
  REQUIRE(g.Send(Req("GET", "/1")).ok());
  // The server drops the idle connection; the pool notices and opens a new one.
  CHECK(halo::testing::PollUntil(
      [&] {
        size_t idle = 1;
        g.loop().RunSync([&] { idle = g.pool()->idle_connections(); });
        return idle == 0;
      },
      milliseconds(5000)));
  REQUIRE(g.Send(Req("GET", "/2")).ok());
  CHECK(g.Stats().connections_opened == 2);
  CHECK(g.Stats().retried == 0);
}

TEST_CASE("HttpClientPool: queue wait, destruction with requests in flight") {
  ScriptedUpstream up({[&](int fd) {
    ScriptedUpstream::ReadHead(fd);
    ScriptedUpstream::WaitPeerClose(fd);
  }});
  HttpClientOptions o;
  o.max_connections = 1;
  o.queue_timeout = milliseconds(100);
  o.request_timeout = milliseconds(500);
  PoolFixture f(up.port(), o);
  auto first = f.Start(Req("GET", "/hang"));
  auto second = f.Start(Req("GET", "/queued"));
  auto s = second.get();
  CHECK(s.status().code() == Status::Code::kUnavailable);  // never left the queue
  auto r = first.get();
  CHECK(r.status().code() == Status::Code::kTimeout);

  // Destroying the pool drops callbacks without calling them.
  std::atomic<int> called{0};
  ScriptedUpstream up2({[&](int fd) {
    ScriptedUpstream::ReadHead(fd);
    ScriptedUpstream::WaitPeerClose(fd);
  }});
  PoolFixture g(up2.port());
  g.loop().RunSync([&] { g.pool()->Send(Req("GET", "/x"), [&](Result<Response>) { ++called; }); });
  g.Reset();
  CHECK(called == 0);
}

TEST_CASE("HttpClientPool: a callback may destroy the pool") {
  EchoUpstream up;
  LoopThread loop;
  std::promise<bool> done;
  loop.RunSync([&] {
    HttpClientOptions o;
    o.port = up.port();
    auto* pool = HttpClientPool::Create(loop.base(), o)->release();
    pool->Send(Req("GET", "/"), [&, pool](Result<Response> r) {
      delete pool;
      done.set_value(r.ok());
    });
  });
  CHECK(done.get_future().get());
}

}  // namespace
}  // namespace halo::http
