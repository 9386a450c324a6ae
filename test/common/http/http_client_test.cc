#include "common/http/http_client.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http/http_server.h"
#include "test/common/http/loop_thread.h"
#include "test/support/scripted_upstream.h"
#include "test/support/subprocess.h"

namespace halo::http {
namespace {

using halo::testing::ScriptedUpstream;
using std::chrono::milliseconds;
using testing::LoopThread;

constexpr int64_t kTimeoutMs = 10000;

class ClientFixture {
 public:
  explicit ClientFixture(int port, HttpClientOptions o = {}) : port_(port) {
    auto addr = net::ParseNumericAddress("127.0.0.1", static_cast<uint16_t>(port));
    REQUIRE(addr);
    addr_ = *addr;
    loop_.RunSync([&] { client_ = std::make_unique<HttpClient>(loop_.base(), o); });
  }
  ~ClientFixture() { Reset(); }
  LoopThread& loop() { return loop_; }
  HttpClient* client() { return client_.get(); }
  void Reset() {
    loop_.RunSync([&] { client_.reset(); });
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // On the loop thread only.
  void SendNow(ClientRequest req, int64_t timeout_ms,
               std::shared_ptr<std::promise<ClientResult>> p) {
    client_->Send(addr_, host(), std::move(req), timeout_ms,
                  [p](ClientResult r) { p->set_value(std::move(r)); });
  }
  std::future<ClientResult> Start(ClientRequest req, int64_t timeout_ms = kTimeoutMs) {
    auto p = std::make_shared<std::promise<ClientResult>>();
    auto f = p->get_future();
    loop_.RunSync([&] { SendNow(std::move(req), timeout_ms, p); });
    return f;
  }
  static ClientResult Wait(std::future<ClientResult> f) {
    if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      ClientResult r;
      r.status = Status::Internal("test: no callback");
      return r;
    }
    return f.get();
  }
  ClientResult Send(ClientRequest req, int64_t timeout_ms = kTimeoutMs) {
    return Wait(Start(std::move(req), timeout_ms));
  }
  HttpClient::Stats Stats() {
    HttpClient::Stats s;
    loop_.RunSync([&] { s = client_->stats(); });
    return s;
  }
  size_t Idle() {
    size_t n = 0;
    loop_.RunSync([&] { n = client_->idle_connections(); });
    return n;
  }

 private:
  int port_;
  net::NetAddress addr_;
  LoopThread loop_;
  std::unique_ptr<HttpClient> client_;
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

TEST_CASE("HttpClient: keep-alive reuse, methods, HEAD, Host") {
  EchoUpstream up;
  ClientFixture f(up.port());
  for (int i = 0; i < 5; ++i) {
    auto r = f.Send(Req(i % 2 ? "LIST" : "PUT", "/v1/x?i=" + std::to_string(i), "b"));
    REQUIRE(r.ok());
    CHECK(r.response.status == 200);
    CHECK(r.response.body ==
          std::string(i % 2 ? "LIST" : "PUT") + " /v1/x?i=" + std::to_string(i) + " b");
    CHECK(r.response.headers.Get("X-Host") == std::optional<std::string_view>(f.host()));
  }
  auto head = f.Send(Req("HEAD", "/h"));
  REQUIRE(head.ok());
  CHECK(head.response.body.empty());
  CHECK(head.response.content_length > 0);
  auto after = f.Send(Req("GET", "/after-head"));
  REQUIRE(after.ok());
  CHECK(after.response.body == "GET /after-head ");
  CHECK(f.Stats().connections_opened == 1);
  CHECK(f.Stats().reused == 6);
  CHECK(f.Idle() == 1);
}

TEST_CASE("HttpClient: concurrent requests each get their own answer") {
  EchoUpstream up;
  ClientFixture f(up.port());
  std::vector<std::future<ClientResult>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(f.Start(Req("GET", "/" + std::to_string(i))));
  for (int i = 0; i < 20; ++i) {
    auto r = ClientFixture::Wait(std::move(futures[i]));
    REQUIRE(r.ok());
    CHECK(r.response.body == "GET /" + std::to_string(i) + " ");
  }
  CHECK(up.requests() == 20);
  CHECK(f.Stats().connections_opened <= 20);
}

// The router's blocking leader query waits on one connection; health probes to the same
// node must not queue behind it.
TEST_CASE("HttpClient: a request the peer holds does not delay another to the same peer") {
  LoopThread server_loop;
  std::mutex mu;
  HttpResponder held;
  std::atomic<bool> have_held{false};
  FunctionHandler handler([&](Request r, HttpResponder resp) {
    if (r.target == "/wait") {
      std::lock_guard<std::mutex> lock(mu);
      held = std::move(resp);
      have_held = true;
      return;
    }
    Response out;
    out.body = "now";
    resp.Send(std::move(out));
  });
  std::unique_ptr<HttpServer> server;
  server_loop.RunSync(
      [&] { server = std::move(*HttpServer::Create(server_loop.base(), {}, &handler)); });
  {
    ClientFixture f(server->port());
    REQUIRE(f.Send(Req("GET", "/warm")).ok());  // one idle connection, taken by /wait
    auto slow = f.Start(Req("GET", "/wait"));
    REQUIRE(halo::testing::PollUntil([&] { return have_held.load(); }, milliseconds(5000)));
    auto fast = f.Send(Req("GET", "/now"));
    REQUIRE(fast.ok());
    CHECK(fast.response.body == "now");
    CHECK(slow.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    {
      std::lock_guard<std::mutex> lock(mu);
      Response out;
      out.body = "waited";
      held.Send(std::move(out));
    }
    auto s = ClientFixture::Wait(std::move(slow));
    REQUIRE(s.ok());
    CHECK(s.response.body == "waited");
    CHECK(f.Stats().connections_opened == 2);
  }
  server_loop.RunSync([&] {
    held = HttpResponder();
    server.reset();
  });
}

TEST_CASE("HttpClient: Connection: close is honoured") {
  EchoUpstream up;
  ClientFixture f(up.port());
  ClientRequest r = Req("GET", "/a");
  r.headers.Add("X-Close", "1");
  r.headers.Add("Connection", "keep-alive");  // the client's business: replaced
  REQUIRE(f.Send(r).ok());
  REQUIRE(f.Send(Req("GET", "/b")).ok());
  CHECK(f.Stats().connections_opened == 2);
}

TEST_CASE("HttpClient: never sent -> kUnavailable, Reach::kNeverWritten") {
  int port = halo::testing::PickFreePort();  // nothing listens there
  ClientFixture f(port);
  auto r = f.Send(Req("PUT", "/v1/kv/a", "x"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.code() == Status::Code::kUnavailable);
  CHECK(r.never_sent());
  CHECK(r.failure == UpstreamFailure::kConnect);
  CHECK(r.error_status == 503);
  MESSAGE(r.status.ToString());
  // A header that would split the request is refused before anything is sent.
  ClientRequest bad = Req("GET", "/");
  bad.headers.Add("X", "a\r\nEvil: 1");
  auto b = f.Send(bad);
  CHECK(b.status.code() == Status::Code::kInvalidArgument);
  CHECK(b.never_sent());
  CHECK(b.failure == UpstreamFailure::kInvalidRequest);
}

TEST_CASE("HttpClient: sent, then no answer -> kTimeout (outcome unknown)") {
  SUBCASE("no response within the timeout") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::WaitPeerClose(fd);
    }});
    ClientFixture f(up.port());
    auto r = f.Send(Req("PUT", "/v1/kv/a", "x"), 200);
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.reach == Reach::kWrittenNoResponse);
    CHECK(r.failure == UpstreamFailure::kTimeout);
    CHECK(r.error_status == 502);
    CHECK_FALSE(r.never_sent());
    f.Reset();
  }
  SUBCASE("fresh connection closed before the response") {
    ScriptedUpstream up({[](int fd) { ScriptedUpstream::ReadHead(fd); }});
    ClientFixture f(up.port());
    auto r = f.Send(Req("PUT", "/v1/kv/a", "x"));
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.reach == Reach::kWrittenNoResponse);
    CHECK(f.Stats().retried == 0);
  }
  SUBCASE("half a response, then close") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    }});
    ClientFixture f(up.port());
    auto r = f.Send(Req("GET", "/"));
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.reach == Reach::kResponseStarted);
  }
  SUBCASE("malformed response") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Write(
          fd, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
      ScriptedUpstream::WaitPeerClose(fd);
    }});
    ClientFixture f(up.port());
    auto r = f.Send(Req("GET", "/"));
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.failure == UpstreamFailure::kBadResponse);
    CHECK(r.reach == Reach::kResponseStarted);
  }
  SUBCASE("reset on a reused connection is not retried") {
    ScriptedUpstream up({[](int fd) {
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      ScriptedUpstream::ReadHead(fd);
      ScriptedUpstream::Reset(fd);
    }});
    ClientFixture f(up.port());
    REQUIRE(f.Send(Req("GET", "/1")).ok());
    auto r = f.Send(Req("PUT", "/2", "x"));
    CHECK(r.status.code() == Status::Code::kTimeout);
    CHECK(r.reach == Reach::kWrittenNoResponse);
    CHECK(f.Stats().retried == 0);
  }
}

TEST_CASE(
    "HttpClient: a PUT on a pooled connection closed after the request, unanswered, is "
    "not resent") {
  ScriptedUpstream up({
      [](int fd) {
        ScriptedUpstream::ReadHead(fd);
        ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1");
        ScriptedUpstream::ReadHead(fd);  // the PUT arrives; close without a byte of answer
      },
      [](int fd) {  // a resend would land here
        ScriptedUpstream::ReadHead(fd);
        ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr2");
        ScriptedUpstream::WaitPeerClose(fd);
      },
  });
  ClientFixture f(up.port());
  auto a = f.Send(Req("GET", "/1"));
  REQUIRE(a.ok());
  CHECK(a.response.body == "r1");
  auto b = f.Send(Req("PUT", "/v1/kv/a", "x"));
  REQUIRE_FALSE(b.ok());
  CHECK(b.status.code() == Status::Code::kTimeout);
  CHECK(b.reach == Reach::kWrittenNoResponse);
  CHECK(b.failure == UpstreamFailure::kClosed);
  CHECK(b.error_status == 502);
  CHECK(f.Stats().retried == 0);
  CHECK(f.Stats().connections_opened == 1);
  CHECK(up.accepted() == 1);
  f.Reset();
}

TEST_CASE("HttpClient: stale keep-alive before writing") {
  SUBCASE("a close already seen: the request goes on a new connection") {
    ScriptedUpstream up({
        [](int fd) {
          ScriptedUpstream::ReadHead(fd);
          ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1");
        },  // then closed: an idle timeout on the server
        [](int fd) {
          ScriptedUpstream::ReadHead(fd);
          ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr2");
          ScriptedUpstream::WaitPeerClose(fd);
        },
    });
    ClientFixture f(up.port());
    REQUIRE(f.Send(Req("GET", "/1")).ok());
    CHECK(halo::testing::PollUntil([&] { return up.closed() == 1 && f.Idle() == 0; },
                                   milliseconds(5000)));
    auto b = f.Send(Req("PUT", "/2", "x"));
    REQUIRE(b.ok());
    CHECK(b.response.body == "r2");
    CHECK(f.Stats().connections_opened == 2);
    CHECK(f.Stats().retried == 0);
    f.Reset();
  }
  SUBCASE("dead when the write failed: resent once on a fresh connection") {
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    ScriptedUpstream up({
        [opened](int fd) {
          ScriptedUpstream::ReadHead(fd);
          ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1");
          opened.wait();
          ScriptedUpstream::Reset(fd);  // closed with a reset while idle
        },
        [](int fd) {
          std::string head = ScriptedUpstream::ReadHead(fd);
          ScriptedUpstream::Write(fd, head.rfind("PUT /2 ", 0) == 0
                                          ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr2"
                                          : "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n");
          ScriptedUpstream::WaitPeerClose(fd);
        },
    });
    HttpClientOptions o;
    o.verify_pooled = false;  // reach the write itself on the dead connection
    ClientFixture f(up.port(), o);
    REQUIRE(f.Send(Req("GET", "/1")).ok());
    auto p = std::make_shared<std::promise<ClientResult>>();
    auto fut = p->get_future();
    // The loop is held while the server resets the idle connection, so the client cannot
    // notice it before writing (loopback delivers the reset within the server's close()).
    f.loop().RunSync([&] {
      gate.set_value();
      CHECK(halo::testing::PollUntil([&] { return up.closed() == 1; }, milliseconds(5000)));
      f.SendNow(Req("PUT", "/2", "x"), kTimeoutMs, p);
    });
    auto b = ClientFixture::Wait(std::move(fut));
    REQUIRE(b.ok());
    CHECK(b.response.body == "r2");
    CHECK(f.Stats().retried == 1);
    CHECK(f.Stats().connections_opened == 2);
    f.Reset();
  }
}

TEST_CASE("HttpClient: close-delimited response, idle connection closed by the server") {
  ScriptedUpstream up({[](int fd) {
    ScriptedUpstream::ReadHead(fd);
    ScriptedUpstream::Write(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
  }});
  ClientFixture f(up.port());
  auto r = f.Send(Req("GET", "/"));
  REQUIRE(r.ok());
  CHECK(r.response.body == "until close");
  CHECK(f.Idle() == 0);

  HttpServerOptions so;
  so.idle_timeout = milliseconds(100);
  EchoUpstream echo(so);
  ClientFixture g(echo.port());
  REQUIRE(g.Send(Req("GET", "/1")).ok());
  // The server drops the idle connection; the client notices and opens a new one.
  CHECK(halo::testing::PollUntil([&] { return g.Idle() == 0; }, milliseconds(5000)));
  REQUIRE(g.Send(Req("GET", "/2")).ok());
  CHECK(g.Stats().connections_opened == 2);
  CHECK(g.Stats().retried == 0);
}

TEST_CASE("HttpClient: destruction with requests in flight drops their callbacks") {
  std::atomic<int> called{0};
  ScriptedUpstream up({[&](int fd) {
    ScriptedUpstream::ReadHead(fd);
    ScriptedUpstream::WaitPeerClose(fd);
  }});
  ClientFixture g(up.port());
  auto p = std::make_shared<std::promise<ClientResult>>();
  g.loop().RunSync([&] {
    g.client()->Send(*net::ParseNumericAddress("127.0.0.1", static_cast<uint16_t>(up.port())),
                     g.host(), Req("GET", "/x"), kTimeoutMs, [&](ClientResult) { ++called; });
    CHECK(g.client()->in_flight() == 1);
  });
  CHECK(halo::testing::PollUntil([&] { return up.accepted() == 1; }, milliseconds(5000)));
  g.Reset();
  CHECK(called == 0);
}

TEST_CASE("HttpClient: a callback may destroy the client") {
  EchoUpstream up;
  LoopThread loop;
  std::promise<bool> done;
  auto addr = net::ParseNumericAddress("127.0.0.1", static_cast<uint16_t>(up.port()));
  REQUIRE(addr);
  loop.RunSync([&] {
    auto* client = new HttpClient(loop.base());
    client->Send(*addr, "127.0.0.1", Req("GET", "/"), kTimeoutMs, [&, client](ClientResult r) {
      delete client;
      done.set_value(r.ok());
    });
  });
  CHECK(done.get_future().get());
}

}  // namespace
}  // namespace halo::http
