// Http1ServerConnection's timeouts on a fake clock: a socketpair carries the bytes, the
// libevent loop runs non-blocking, and time moves only through FakeTimerSource::Advance, so
// each deadline is checked to the millisecond without waiting for it.
#include "common/http/http1_server_connection.h"

#include <doctest/doctest.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>

#include "test/fakes/fake_timer_source.h"

namespace halo::http {
namespace {

using std::chrono::milliseconds;

// Answers 200 "ok" once the whole request is in.
class OkExchange final : public ServerExchange {
 public:
  explicit OkExchange(Downstream* d) : d_(d) {}
  bool Begin(Request&) override { return true; }
  void RequestBody(std::string_view) override {}
  void RequestComplete(const Headers&) override {
    d_->LocalResponse(200, "text/plain", "ok", {}, {}, false);
  }
  void DownstreamDrained() override {}
  void Abandon() override {}
  void Reset() override {}
  void CodecAnswered(int status) override { last_codec_status = status; }
  int last_codec_status = 0;

 private:
  Downstream* d_;
};

class Host final : public ServerConnectionHost {
 public:
  std::unique_ptr<ServerExchange> NewExchange(Downstream* d) override {
    return std::make_unique<OkExchange>(d);
  }
  bool draining() const override { return false; }
  void OnBadRequest(int) override { ++bad; }
  void OnTimeout() override { ++timeouts; }
  void OnConnectionClosed(ServerConnection*) override { ++closed; }
  void OnConnectionReplaced(ServerConnection*, ServerConnection*) override {}
  int bad = 0, timeouts = 0, closed = 0;
};

struct Fixture {
  Fixture() {
    base = event_base_new();
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    client = sv[1];
    options->header_timeout = milliseconds(1000);
    options->first_request_timeout = milliseconds(2000);
    options->body_timeout = milliseconds(3000);
    options->idle_timeout = milliseconds(4000);
    options->linger_timeout = milliseconds(500);
    sockaddr_storage peer{};
    peer.ss_family = AF_UNIX;
    conn = new Http1ServerConnection(base, &timers, &host, options, sv[0],
                                     reinterpret_cast<sockaddr*>(&peer));
  }
  ~Fixture() {
    if (host.closed == 0) delete conn;
    close(client);
    event_base_free(base);
  }
  void Send(const std::string& s) {
    REQUIRE(write(client, s.data(), s.size()) == ssize_t(s.size()));
  }
  // Runs the loop until `done` holds (a real-time bound only against hanging).
  bool Spin(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(base, EVLOOP_NONBLOCK);
    }
    return true;
  }
  void Run() {
    for (int i = 0; i < 20; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
  }
  // What the server sent so far (non-blocking).
  std::string Received() {
    char buf[4096];
    ssize_t n;
    while ((n = recv(client, buf, sizeof(buf), MSG_DONTWAIT)) > 0) got.append(buf, size_t(n));
    return got;
  }
  bool PeerClosed() {
    char c;
    return recv(client, &c, 1, MSG_DONTWAIT) == 0;
  }

  event_base* base;
  FakeTimerSource timers;
  Host host;
  std::shared_ptr<ServerConnectionOptions> options = std::make_shared<ServerConnectionOptions>();
  ServerConnection* conn = nullptr;
  int client = -1;
  std::string got;
};

TEST_CASE("Http1ServerConnection: a head must be whole within header_timeout (408)") {
  Fixture f;
  f.Send("GET /a HTTP/1.1\r\nHo");
  f.Run();
  f.timers.Advance(milliseconds(999));
  f.Run();
  CHECK(f.Received().empty());
  CHECK(f.host.timeouts == 0);
  f.timers.Advance(milliseconds(1));
  REQUIRE(f.Spin([&] { return !f.Received().empty(); }));
  CHECK(f.got.rfind("HTTP/1.1 408 ", 0) == 0);
  CHECK(f.got.find("Connection: close") != std::string::npos);
  CHECK(f.host.timeouts == 1);
}

TEST_CASE("Http1ServerConnection: a new connection that says nothing is closed") {
  Fixture f;
  f.timers.Advance(milliseconds(1999));
  f.Run();
  CHECK(f.host.closed == 0);
  f.timers.Advance(milliseconds(1));
  CHECK(f.host.closed == 1);
  CHECK(f.host.timeouts == 1);
  CHECK(f.PeerClosed());
}

TEST_CASE("Http1ServerConnection: keep-alive idle timeout, and a silent body (408)") {
  Fixture f;
  f.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(f.Spin([&] { return f.Received().find("\r\n\r\nok") != std::string::npos; }));
  SUBCASE("idle") {
    f.timers.Advance(milliseconds(3999));
    f.Run();
    CHECK(f.host.closed == 0);
    f.timers.Advance(milliseconds(1));
    CHECK(f.host.closed == 1);
    CHECK(f.PeerClosed());
  }
  SUBCASE("body") {
    f.got.clear();
    f.Send("PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n123");
    f.Run();
    f.timers.Advance(milliseconds(2999));
    f.Run();
    CHECK(f.Received().empty());
    f.timers.Advance(milliseconds(1));
    REQUIRE(f.Spin([&] { return !f.Received().empty(); }));
    CHECK(f.got.rfind("HTTP/1.1 408 ", 0) == 0);
    // The client may still be sending: the close lingers, then ends at linger_timeout.
    CHECK(f.host.closed == 0);
    f.timers.Advance(milliseconds(500));
    CHECK(f.host.closed == 1);
  }
}

TEST_CASE("Http1ServerConnection: every new request restarts the header deadline") {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    f.timers.Advance(milliseconds(900));  // under the idle timeout between requests
    f.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(f.Spin([&] { return f.host.closed == 0 && f.Received().size() > 0; }));
    f.got.clear();
  }
  CHECK(f.host.timeouts == 0);
}

}  // namespace
}  // namespace halo::http
