#include "common/http/http_server.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/time_util.h"
#include "test/common/http/loop_thread.h"
#include "test/support/http_test_client.h"
#include "test/support/subprocess.h"

namespace halo::http {
namespace {

using halo::testing::HttpTestClient;
using std::chrono::milliseconds;
using testing::LoopThread;

// A server on a loop thread whose handler the test chooses.
class ServerFixture {
 public:
  explicit ServerFixture(HttpServerOptions options = {}, FunctionHandler::Fn fn = nullptr,
                         FunctionHandler::HeadFn head = nullptr)
      : handler_(fn ? std::move(fn) : Echo(), std::move(head)) {
    loop_.RunSync([&] {
      auto s = HttpServer::Create(loop_.base(), options, &handler_);
      REQUIRE(s.ok());
      server_ = std::move(*s);
    });
  }
  ~ServerFixture() {
    loop_.RunSync([&] { server_.reset(); });
  }
  int port() const { return server_->port(); }
  LoopThread& loop() { return loop_; }
  HttpServer& server() { return *server_; }
  HttpServer::Stats Stats() {
    HttpServer::Stats s;
    loop_.RunSync([&] { s = server_->stats(); });
    return s;
  }
  // Polls `cond`, evaluated on the loop thread (where handlers run), for up to 5 s.
  bool PollOnLoop(const std::function<bool()>& cond) {
    return halo::testing::PollUntil(
        [&] {
          bool met = false;
          loop_.RunSync([&] { met = cond(); });
          return met;
        },
        milliseconds(5000));
  }
  size_t Connections() {
    size_t n = 0;
    loop_.RunSync([&] { n = server_->connection_count(); });
    return n;
  }

  // Answers "<method> <path> q=<query> body=<body> from=<addr>".
  static FunctionHandler::Fn Echo() {
    return [](Request r, HttpResponder responder) {
      Response resp;
      resp.headers.Add("Content-Type", "text/plain");
      resp.body = r.method + " " + r.path + " q=" + r.query + " body=" + r.body;
      responder.Send(std::move(resp));
    };
  }

 private:
  LoopThread loop_;
  FunctionHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

std::string Body(const Result<Response>& r) { return r.ok() ? r->body : r.status().ToString(); }

TEST_CASE("HttpServer: port 0, keep-alive, methods, bodies") {
  ServerFixture f;
  CHECK(f.port() > 0);
  HttpTestClient c(f.port());
  CHECK(Body(c.Get("/v1/sys/health?standbyok=true")) ==
        "GET /v1/sys/health q=standbyok=true body=");
  CHECK(Body(c.Request("LIST", "/v1/secret/metadata/")) == "LIST /v1/secret/metadata/ q= body=");
  CHECK(Body(c.Put("/v1/secret/data/a", "{\"data\":{}}")) ==
        "PUT /v1/secret/data/a q= body={\"data\":{}}");
  CHECK(Body(c.Request("SCAN", "/v1/secret/")) == "SCAN /v1/secret/ q= body=");
  auto head = c.Request("HEAD", "/h");
  REQUIRE(head.ok());
  CHECK(head->body.empty());
  CHECK(head->content_length == static_cast<int64_t>(std::string("HEAD /h q= body=").size()));
  // Still open: one more request is answered on the same connection.
  CHECK(Body(c.Get("/again")) == "GET /again q= body=");
  CHECK(c.connections_opened() == 1);  // all on one kept-alive connection
  CHECK_FALSE(c.server_closed());
  CHECK(f.Stats().requests == 6);
}

TEST_CASE("HttpServer: remote address, chunked request body") {
  std::string seen_addr;
  ServerFixture f({}, [&](Request r, HttpResponder resp) {
    seen_addr = r.remote_addr;
    Response out;
    out.body = r.body;
    resp.Send(std::move(out));
  });
  HttpTestClient c(f.port());
  REQUIRE(c.SendRaw("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2;e=1\r\nde\r\n0\r\nT: v\r\n\r\n")
              .ok());
  auto r = c.ReadResponse();
  REQUIRE(r.ok());
  CHECK(r->body == "abcde");
  CHECK(seen_addr.rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("HttpServer: 100-continue is sent before the body arrives; other expectations 417") {
  ServerFixture f;
  HttpTestClient c(f.port());
  REQUIRE(c.SendRaw("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                    "Content-Length: 4\r\n\r\n")
              .ok());
  // The interim response arrives while the body is still unsent.
  CHECK(c.WaitForBytes("HTTP/1.1 100 Continue\r\n\r\n"));
  REQUIRE(c.SendRaw("abcd").ok());
  auto r = c.ReadResponse();
  REQUIRE(r.ok());
  CHECK(r->body == "PUT /x q= body=abcd");
  REQUIRE(c.SendRaw("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx")
              .ok());
  auto e = c.ReadResponse();
  REQUIRE(e.ok());
  CHECK(e->status == 417);
  CHECK(c.WaitForClose());
}

struct RejectCase {
  std::string request;
  int status;
};

TEST_CASE("HttpServer: CheckHead answers before the body is read, then closes") {
  std::atomic<int> handled{0};
  ServerFixture f(
      {},
      [&](Request r, HttpResponder responder) {
        ++handled;
        ServerFixture::Echo()(std::move(r), std::move(responder));
      },
      [](const Request& head) -> std::optional<Response> {
        if (head.path == "/refuse") return ErrorResponse(403, "refused at the head");
        return std::nullopt;
      });
  HttpTestClient c(f.port());
  REQUIRE(c.SendRaw("PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n").ok());
  Result<Response> r = c.ReadResponse(milliseconds(3000), "PUT");
  REQUIRE(r.ok());
  CHECK(r->status == 403);
  CHECK(r->body == "{\"errors\":[\"refused at the head\"]}");
  CHECK(r->headers.Get("Connection").value_or("") == "close");
  (void)c.SendRaw(std::string(64 * 1024, 'a'));  // dropped while the server lingers
  CHECK(c.WaitForClose(milliseconds(5000)));
  CHECK(handled.load() == 0);
  CHECK(f.Stats().answered_at_head == 1);
  // Without a body the head check is not asked: the handler answers, keep-alive.
  HttpTestClient k(f.port());
  CHECK(Body(k.Get("/refuse")) == "GET /refuse q= body=");
  CHECK(Body(k.Put("/other", "abc")) == "PUT /other q= body=abc");
  CHECK(k.connections_opened() == 1);
  CHECK(handled.load() == 2);
}

TEST_CASE("HttpServer: max_body_bytes_in_flight refuses a body that does not fit, 503 unread") {
  HttpServerOptions options;
  options.max_body_bytes_in_flight = 1000;
  ServerFixture f(options);
  HttpTestClient first(f.port());
  REQUIRE(
      first.SendRaw("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n0123456789").ok());
  HttpTestClient second(f.port());
  // The first's head may still be on its way to the loop: poll until it holds its 800.
  bool refused = halo::testing::PollUntil(
      [&] {
        if (!second.SendRaw("PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n").ok()) {
          return false;
        }
        Result<Response> r = second.ReadResponse(milliseconds(3000), "PUT");
        if (r.ok() && r->status == 503) {
          CHECK(r->headers.Get("Retry-After").value_or("") == "1");
          CHECK(r->body.find("{\"errors\":[") == 0);
          CHECK(second.WaitForClose(milliseconds(5000)));
          return true;
        }
        second.Close();
        return false;
      },
      milliseconds(5000));
  REQUIRE(refused);
  REQUIRE(first.SendRaw(std::string(790, 'x')).ok());
  Result<Response> done = first.ReadResponse(milliseconds(3000), "PUT");
  REQUIRE(done.ok());
  CHECK(done->status == 200);
  CHECK(Body(second.Put("/b", std::string(800, 'y'))).size() > 800);  // fits now
}

TEST_CASE("HttpServer: parse errors get status, JSON errors body, Connection: close") {
  HttpServerOptions o;
  o.parser.max_body_bytes = 1024;
  ServerFixture f(o);
  std::vector<RejectCase> cases = {
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n",
       400},
      {"GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20000, 'x') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      // The body is sent anyway: the lingering close lets the client read the 413.
      {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n" + std::string(65536, 'b'), 413},
  };
  for (const RejectCase& rc : cases) {
    CAPTURE(rc.request.substr(0, 80));
    HttpTestClient c(f.port());
    REQUIRE(c.SendRaw(rc.request).ok());
    auto r = c.ReadResponse();
    REQUIRE(r.ok());
    CHECK(r->status == rc.status);
    CHECK(r->headers.Get("Connection") == std::optional<std::string_view>("close"));
    CHECK(r->headers.Get("Content-Type") == std::optional<std::string_view>("application/json"));
    CHECK(r->body.rfind("{\"errors\":[\"", 0) == 0);
    CHECK(c.WaitForClose());
  }
  CHECK(f.Stats().parse_errors == cases.size());
  CHECK(f.Stats().requests == 0);
}

TEST_CASE("HttpServer: pipelined requests are answered in order, one at a time") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> in_handler{0};
  std::atomic<int> max_in_handler{0};
  std::vector<std::thread> workers;
  ServerFixture f({}, [&](Request r, HttpResponder responder) {
    int now = ++in_handler;
    max_in_handler = std::max(max_in_handler.load(), now);
    auto finish = [&in_handler, responder, path = r.path, body = r.body]() {
      --in_handler;
      Response out;
      out.body = path + ":" + body;
      responder.Send(std::move(out));  // from a worker thread
    };
    if (r.path == "/slow") {
      workers.emplace_back([&, finish] {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return release; });
        lock.unlock();
        finish();
      });
    } else {
      finish();
    }
  });
  HttpTestClient c(f.port());
  REQUIRE(c.SendRaw("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"
                    "LIST /b HTTP/1.1\r\nHost: h\r\n\r\n"
                    "PUT /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
                    "HEAD /d HTTP/1.1\r\nHost: h\r\n\r\n"
                    "GET /e HTTP/1.1\r\nHost: h\r\n\r\n")
              .ok());
  // Nothing may come back ahead of /slow: the responses below must arrive in request order,
  // so an answer sent while /slow is still in its handler would be read first and fail.
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  CHECK(Body(c.ReadResponse()) == "/slow:");
  CHECK(Body(c.ReadResponse()) == "/b:");
  CHECK(Body(c.ReadResponse()) == "/c:hi");
  auto d = c.ReadResponse(milliseconds(5000), "HEAD");
  REQUIRE(d.ok());
  CHECK(d->body.empty());
  CHECK(Body(c.ReadResponse()) == "/e:");
  CHECK(max_in_handler == 1);
  f.loop().RunSync([] {});
  for (auto& w : workers) w.join();
}

TEST_CASE("HttpServer: HTTP/1.0 and Connection: close") {
  ServerFixture f;
  {
    HttpTestClient c(f.port());
    REQUIRE(c.SendRaw("GET /a HTTP/1.0\r\n\r\n").ok());
    auto r = c.ReadResponse();
    REQUIRE(r.ok());
    CHECK(r->headers.Get("Connection") == std::optional<std::string_view>("close"));
    CHECK(c.WaitForClose());
  }
  {
    HttpTestClient c(f.port());
    REQUIRE(c.SendRaw("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
    auto r = c.ReadResponse();
    REQUIRE(r.ok());
    CHECK(r->headers.Get("Connection") == std::optional<std::string_view>("keep-alive"));
    // Kept open: the next request is answered on the same connection.
    REQUIRE(c.SendRaw("GET /b HTTP/1.0\r\n\r\n").ok());
    CHECK(Body(c.ReadResponse()) == "GET /b q= body=");
    CHECK(c.connections_opened() == 1);
    CHECK(c.WaitForClose());
  }
  {
    HttpTestClient c(f.port());
    auto r = c.Get("/x", Headers{{"Connection", "close"}});
    REQUIRE(r.ok());
    CHECK(r->headers.Get("Connection") == std::optional<std::string_view>("close"));
    CHECK(c.WaitForClose());
  }
  {
    // A request followed by a half-close still gets its answer.
    HttpTestClient c(f.port());
    REQUIRE(c.SendRaw("GET /half HTTP/1.1\r\nHost: h\r\n\r\n").ok());
    c.ShutdownWrite();
    CHECK(Body(c.ReadResponse()) == "GET /half q= body=");
    CHECK(c.WaitForClose());
  }
}

TEST_CASE("HttpServer: timeouts (slowloris, idle, body)") {
  HttpServerOptions o;
  o.header_timeout = milliseconds(300);
  o.idle_timeout = milliseconds(300);
  o.body_timeout = milliseconds(300);
  ServerFixture f(o);
  auto start = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] { return MillisSince(start); };
  SUBCASE("a head trickling in byte by byte is cut off at header_timeout") {
    HttpTestClient c(f.port());
    std::string head = "GET /slow HTTP/1.1\r\nHost: h\r\nX-Padding: " + std::string(200, 'p');
    REQUIRE(c.Connect().ok());
    size_t sent = 0;
    // One byte per 20 ms keeps the connection busy, but the head never completes in time.
    while (sent < head.size() && !c.WaitForClose(milliseconds(20))) {
      REQUIRE(c.SendRaw(head.substr(sent++, 1)).ok());
    }
    auto r = c.ReadResponse();
    REQUIRE_MESSAGE(r.ok(), r.status().ToString() << " buffered=" << c.buffered());
    CHECK(r->status == 408);
    CHECK(c.WaitForClose());
    MESSAGE("slowloris cut after " << elapsed_ms() << " ms, " << sent << " bytes");
    CHECK(elapsed_ms() < 3000);
  }
  SUBCASE("a silent new connection is closed") {
    HttpTestClient c(f.port());
    REQUIRE(c.Connect().ok());
    CHECK(c.WaitForClose(milliseconds(3000)));
    CHECK(c.ReadResponse(milliseconds(100)).status().code() == Status::Code::kUnavailable);
  }
  SUBCASE("an idle keep-alive connection is closed") {
    HttpTestClient c(f.port());
    REQUIRE(c.Get("/a").ok());
    CHECK(c.WaitForClose(milliseconds(3000)));
    MESSAGE("idle close after " << elapsed_ms() << " ms");
  }
  SUBCASE("a stalled body gets 408") {
    HttpTestClient c(f.port());
    REQUIRE(c.SendRaw("PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc").ok());
    auto r = c.ReadResponse(milliseconds(3000));
    REQUIRE(r.ok());
    CHECK(r->status == 408);
    CHECK(c.WaitForClose());
  }
  CHECK(f.Stats().timeouts == 1);
}

TEST_CASE("HttpServer: max connections") {
  HttpServerOptions o;
  o.max_connections = 2;
  ServerFixture f(o);
  HttpTestClient a(f.port()), b(f.port()), c(f.port());
  REQUIRE(a.Get("/a").ok());
  REQUIRE(b.Get("/b").ok());
  auto r = c.Get("/c");
  REQUIRE(r.ok());
  CHECK(r->status == 503);
  CHECK(c.WaitForClose());
  a.Close();
  // Once a slot frees up, new connections are served again.
  CHECK(halo::testing::HttpTestClient(f.port()).Get("/d").ok());
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    HttpTestClient d(f.port());
    auto rd = d.Get("/d");
    served = rd.ok() && rd->status == 200;
  }
  CHECK(served);
  CHECK(f.Stats().rejected >= 1);
}

TEST_CASE("HttpServer: responders: abandoned -> 500, invalid header -> 500, client gone") {
  std::vector<HttpResponder> parked;
  ServerFixture f({}, [&](Request r, HttpResponder responder) {
    if (r.path == "/drop") return;  // responder destroyed unanswered
    if (r.path == "/bad") {
      Response out;
      out.headers.Add("X-Injected", "a\r\nSet-Cookie: evil");
      responder.Send(std::move(out));
      return;
    }
    if (r.path == "/park") {
      parked.push_back(responder);
      return;
    }
    if (r.path == "/twice") {
      responder.SendError(409, "first");
      responder.SendError(500, "second is ignored");
      return;
    }
    responder.Send(Response{});
  });
  HttpTestClient c(f.port());
  auto r = c.Get("/drop");
  REQUIRE(r.ok());
  CHECK(r->status == 500);
  auto bad = c.Get("/bad");
  REQUIRE(bad.ok());
  CHECK(bad->status == 500);
  CHECK_FALSE(bad->headers.Has("X-Injected"));
  CHECK(c.WaitForClose());
  HttpTestClient t(f.port());
  auto twice = t.Get("/twice");
  REQUIRE(twice.ok());
  CHECK(twice->status == 409);
  CHECK(twice->body == "{\"errors\":[\"first\"]}");
  CHECK(Body(t.Get("/after")).empty());
  // The client leaves while its request is parked; answering later is harmless.
  {
    HttpTestClient p(f.port());
    REQUIRE(p.SendRaw("GET /park HTTP/1.1\r\nHost: h\r\n\r\n").ok());
    REQUIRE(f.PollOnLoop([&] { return !parked.empty(); }));
  }
  // The server keeps reading while the request is in the handler: it sees the close at once,
  // before any answer.
  CHECK(halo::testing::PollUntil([&] { return f.Connections() == 1; }, milliseconds(5000)));
  f.loop().RunSync([&] {
    parked[0].Send(Response{});
    parked.clear();
  });
  CHECK(Body(t.Get("/still-fine")).empty());
}

TEST_CASE("HttpServer: a client gone while its request is parked cancels it (close, half-close)") {
  std::vector<HttpResponder> parked;
  int cancelled = 0;
  ServerFixture f({}, [&](Request r, HttpResponder responder) {
    if (r.path != "/park") {
      responder.Send(Response{});
      return;
    }
    responder.OnAbandoned([&cancelled] { ++cancelled; });
    parked.push_back(responder);
  });
  {
    HttpTestClient p(f.port());
    REQUIRE(p.SendRaw("GET /park HTTP/1.1\r\nHost: h\r\n\r\n").ok());
    REQUIRE(f.PollOnLoop([&] { return parked.size() == 1; }));
  }  // closed
  CHECK(f.PollOnLoop([&] { return cancelled == 1 && f.server().connection_count() == 0; }));
  // A half-close after the request is taken as the client gone too (nginx's default).
  HttpTestClient h(f.port());
  REQUIRE(h.SendRaw("GET /park HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  REQUIRE(f.PollOnLoop([&] { return parked.size() == 2; }));
  h.ShutdownWrite();
  CHECK(f.PollOnLoop([&] { return cancelled == 2 && f.server().connection_count() == 0; }));
  CHECK(h.WaitForClose());
  // Bytes pipelined behind a parked request are not a departure: both are answered in order.
  HttpTestClient q(f.port());
  REQUIRE(
      q.SendRaw("GET /park HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  REQUIRE(f.PollOnLoop([&] { return parked.size() == 3; }));
  CHECK(f.PollOnLoop([&] { return f.server().connection_count() == 1; }));
  f.loop().RunSync([&] {
    Response out;
    out.body = "parked";
    parked[2].Send(std::move(out));
  });
  CHECK(Body(q.ReadResponse()) == "parked");
  CHECK(q.ReadResponse().ok());
  f.loop().RunSync([&] {
    CHECK(cancelled == 2);
    parked.clear();
  });
}

TEST_CASE("HttpServer: graceful shutdown") {
  std::vector<HttpResponder> parked;
  ServerFixture f({}, [&](Request r, HttpResponder responder) {
    if (r.path == "/park") {
      parked.push_back(responder);
      return;
    }
    responder.Send(Response{});
  });
  int port = f.port();
  HttpTestClient idle(port), busy(port);
  REQUIRE(idle.Get("/a").ok());
  REQUIRE(busy.SendRaw("GET /park HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  REQUIRE(f.PollOnLoop([&] { return !parked.empty(); }));
  std::atomic<bool> done{false};
  f.loop().RunSync([&] { f.server().Shutdown(std::chrono::seconds(10), [&] { done = true; }); });
  CHECK(idle.WaitForClose());  // idle keep-alive: closed at once
  CHECK_FALSE(HttpTestClient(port).Connect(milliseconds(500)).ok());  // not accepting
  CHECK_FALSE(done.load());  // the parked request is still in flight
  f.loop().RunSync([&] {
    parked[0].Send(Response{});
    parked.clear();
  });
  auto r = busy.ReadResponse();
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->headers.Get("Connection") == std::optional<std::string_view>("close"));
  CHECK(busy.WaitForClose());
  busy.Close();  // ends the server's lingering close
  CHECK(halo::testing::PollUntil([&] { return done.load(); }, milliseconds(5000)));
}

TEST_CASE("HttpServer: a response queued just before Shutdown is still delivered") {
  std::vector<HttpResponder> parked;
  ServerFixture f({}, [&](Request, HttpResponder responder) { parked.push_back(responder); });
  HttpTestClient c(f.port());
  REQUIRE(c.SendRaw("GET /x HTTP/1.1\r\nHost: h\r\n\r\n").ok());
  REQUIRE(f.PollOnLoop([&] { return !parked.empty(); }));
  std::atomic<bool> done{false};
  f.loop().RunSync([&] {
    // Answer and shut down in one loop turn: the answer sits in the output buffer of a
    // connection that now looks idle.
    Response resp;
    resp.body = "last words";
    parked[0].Send(std::move(resp));
    parked.clear();
    f.server().Shutdown(std::chrono::seconds(10), [&] { done = true; });
  });
  auto r = c.ReadResponse();
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "last words");
  CHECK(c.WaitForClose());
  c.Close();
  CHECK(halo::testing::PollUntil([&] { return done.load(); }, milliseconds(5000)));
}

TEST_CASE("HttpServer: address in use") {
  ServerFixture f;
  LoopThread loop;
  FunctionHandler h(ServerFixture::Echo());
  loop.RunSync([&] {
    HttpServerOptions o;
    o.port = f.port();
    auto s = HttpServer::Create(loop.base(), o, &h);
    CHECK_FALSE(s.ok());
    CHECK(s.status().message().find("in use") != std::string::npos);
  });
}

}  // namespace
}  // namespace halo::http
