// Integration: a real standby halo-node forwarding to an "active" that is a raw socket
// (test/support/scripted_upstream.h): the active's api_addr in the lock names the scripted
// peer, so the standby's forwarder meets exactly the failures a crashing active causes.
// Also: a real active stopped and killed with a forwarded write unread in its socket (cas
// shows it ran at most once), the not-executed marker on the node's own 503s, and the hop
// marker.
#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "test/node/local_cluster.h"
#include "test/support/scripted_upstream.h"

namespace halo::node::testing {
namespace {

using halo::testing::PollUntil;
using halo::testing::ScriptedUpstream;

const char kSecret[] = R"({"data":{"password":"hunter2"}})";

// Every request the scripted active read, as "METHOD target".
class Received {
 public:
  // Reads one whole request (head and Content-Length body, so the close is a FIN) and
  // records it; "" if the connection ended first.
  std::string Read(int fd) {
    std::string got = ScriptedUpstream::ReadHead(fd);
    size_t end = got.find("\r\n\r\n");
    if (end == std::string::npos) return "";
    size_t want = 0;
    size_t cl = got.find("Content-Length: ");
    if (cl != std::string::npos && cl < end) want = std::stoul(got.substr(cl + 16));
    char buf[4096];
    while (got.size() < end + 4 + want) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    std::string line = got.substr(0, got.find(" HTTP/1.1"));
    std::lock_guard<std::mutex> l(mu_);
    seen_.push_back(line);
    return line;
  }
  int Count(const std::string& line) {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const std::string& s : seen_) n += s == line;
    return n;
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

// Node 0 holds the lock and advertises `fake_port` as its api_addr; node 1 is the standby
// that forwards there. Returns false if the cluster did not settle.
bool StartWithFakeActive(LocalCluster& c, int fake_port) {
  if (!c.StartNode(0)) return false;
  if (!PollUntil([&] { return c.Health(0) == 200; }, std::chrono::seconds(10))) return false;
  if (!c.StartNode(1)) return false;
  std::string fake = "http://127.0.0.1:" + std::to_string(fake_port);
  return PollUntil(
      [&] {
        auto r = c.Call(1, "GET", "/v1/sys/leader");
        return r.ok() && JsonString(r->body, {"leader_address"}) == fake;
      },
      std::chrono::seconds(10));
}

ClusterOptions FakeActiveOptions(int fake_port) {
  ClusterOptions o;
  o.nodes = 2;
  o.node_extra_json = {"\"api_addr\": \"http://127.0.0.1:" + std::to_string(fake_port) + "\""};
  return o;
}

TEST_CASE(
    "node forwarder: a write the active read and then dropped is 502, sent once, never "
    "503-then-replayed") {
  Received rx;
  ScriptedUpstream up(
      {
          [&](int fd) {  // a kept-alive connection: answers one write, reads the next, closes
            rx.Read(fd);
            ScriptedUpstream::Write(fd, "HTTP/1.1 204 No Content\r\n\r\n");
            rx.Read(fd);
          },
          [&](int fd) { rx.Read(fd); },  // a fresh connection: reads the write, closes
          [&](int fd) {                  // a resend would land here
            rx.Read(fd);
            ScriptedUpstream::Write(fd, "HTTP/1.1 204 No Content\r\n\r\n");
            ScriptedUpstream::WaitPeerClose(fd);
          },
      },
      /*refuse_h2=*/true);
  LocalCluster c(FakeActiveOptions(up.port()));
  REQUIRE(StartWithFakeActive(c, up.port()));

  auto first = c.Call(1, "PUT", "/v1/secret/data/a1", kSecret);
  REQUIRE(first.ok());
  CHECK(first->status == 204);  // the active's answer, relayed
  // The same kept-alive connection: read, then closed without a byte of answer.
  auto second = c.Call(1, "PUT", "/v1/secret/data/a2", kSecret);
  REQUIRE(second.ok());
  CHECK_MESSAGE(second->status == 502, second->body);
  CHECK_FALSE(second->headers.Has("X-Halo-Not-Executed"));
  // A fresh connection: the same.
  auto third = c.Call(1, "PUT", "/v1/secret/data/a3", kSecret);
  REQUIRE(third.ok());
  CHECK_MESSAGE(third->status == 502, third->body);
  CHECK(third->body.find("outcome unknown") != std::string::npos);
  // Each write reached the active exactly once; nothing was resent.
  CHECK(rx.Count("PUT /v1/secret/data/a1") == 1);
  CHECK(rx.Count("PUT /v1/secret/data/a2") == 1);
  CHECK(rx.Count("PUT /v1/secret/data/a3") == 1);
  CHECK(rx.size() == 3);
  CHECK(up.accepted() == 2);
  CHECK(up.h2_refused() == 1);  // h2 was tried once; HTTP/1.1 to this active from then on
}

TEST_CASE("node forwarder: nothing written (active unreachable) is 503 marked not executed") {
  std::optional<ScriptedUpstream> up;
  up.emplace(std::vector<ScriptedUpstream::Script>{});
  int port = up->port();
  LocalCluster c(FakeActiveOptions(port));
  REQUIRE(StartWithFakeActive(c, port));
  up.reset();  // the active's port now refuses connections
  auto w = c.Call(1, "PUT", "/v1/secret/data/b", kSecret);
  REQUIRE(w.ok());
  CHECK_MESSAGE(w->status == 503, w->body);
  CHECK(w->body.find("active node unreachable") != std::string::npos);
  CHECK(w->headers.Get("X-Halo-Not-Executed").value_or("") == "1");
}

// True when a TCP socket on loopback port `port` holds unread bytes (rx_queue > 0) in
// /proc/net/tcp: a request written to a process that has not read it.
bool UnreadBytesOnPort(int port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want[8];
  std::snprintf(want, sizeof(want), ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, st, queues;
    f >> sl >> local >> remote >> st >> queues;
    if (local.size() < 5 || local.substr(local.size() - 5) != want || st != "01") continue;
    size_t colon = queues.find(':');
    if (colon != std::string::npos && std::stoul(queues.substr(colon + 1), nullptr, 16) > 0) {
      return true;
    }
  }
  return false;
}

TEST_CASE(
    "node forwarder: a write handed to an active that then dies unread is 502, not 503, and "
    "never replayed (cas)") {
  LocalCluster c;
  REQUIRE(c.Start());
  int active = c.Active();
  REQUIRE(active >= 0);
  int standby = active == 0 ? 1 : 0;
  auto v1 =
      c.Call(standby, "PUT", "/v1/secret/data/once", R"({"options":{"cas":0},"data":{"v":"1"}})");
  REQUIRE(v1.ok());
  REQUIRE(JsonInt(v1->body, {"data", "version"}) == 1);
  // A stopped active: the kernel still takes the forwarded request into its socket.
  c.process(active).Signal(SIGSTOP);
  auto pending = std::async(std::launch::async, [&] {
    return c.Call(standby, "PUT", "/v1/secret/data/once",
                  R"({"options":{"cas":1},"data":{"v":"2"}})", {}, std::chrono::seconds(30));
  });
  bool written =
      PollUntil([&] { return UnreadBytesOnPort(c.port(active)); }, std::chrono::seconds(10));
  c.Kill(active);  // dies without reading it: the standby sees a reset after writing
  REQUIRE(written);
  Result<http::Response> w = pending.get();
  REQUIRE_MESSAGE(w.ok(), w.status().ToString());
  CHECK_MESSAGE(w->status == 502, w->body);  // outcome unknown, never "not executed"
  CHECK_FALSE(w->headers.Has("X-Halo-Not-Executed"));
  // The standby takes over; the write ran at most once: here not at all (never read).
  int next = c.WaitActive(active);
  REQUIRE(next >= 0);
  auto r = c.Call(next, "GET", "/v1/secret/data/once");
  REQUIRE(r.ok());
  CHECK(JsonInt(r->body, {"data", "metadata", "version"}) == 1);
  auto again =
      c.Call(next, "PUT", "/v1/secret/data/once", R"({"options":{"cas":1},"data":{"v":"2"}})");
  REQUIRE(again.ok());
  CHECK_MESSAGE(again->status == 200, again->body);
  CHECK(JsonInt(again->body, {"data", "version"}) == 2);
}

TEST_CASE("node hop marker: a client's X-Halo-Forwarded is ignored, a node's is honoured") {
  Received rx;
  std::string marker;
  ScriptedUpstream up({[&](int fd) {
                        std::string head = ScriptedUpstream::ReadHead(fd);
                        size_t at = head.find("X-Halo-Forwarded: ");
                        if (at != std::string::npos)
                          marker = head.substr(at + 18, head.find("\r\n", at) - at - 18);
                        ScriptedUpstream::Write(fd, "HTTP/1.1 204 No Content\r\n\r\n");
                        ScriptedUpstream::WaitPeerClose(fd);
                      }},
                      /*refuse_h2=*/true);
  ClusterOptions o = FakeActiveOptions(up.port());
  o.extra_json = R"("cluster_secret": "hop-marker-test-secret-0123")";
  LocalCluster c(o);
  REQUIRE(StartWithFakeActive(c, up.port()));
  // A client's forged marker: forwarded like any write (not answered 503).
  auto forged = c.Call(1, "PUT", "/v1/secret/data/c", kSecret, {{"X-Halo-Forwarded", "1"}});
  REQUIRE(forged.ok());
  CHECK_MESSAGE(forged->status == 204, forged->body);
  // What the standby sent: the keyed marker, not the client's value nor the secret.
  CHECK(marker.size() == 64);
  CHECK(marker != "1");
  CHECK(marker.find("hop-marker-test-secret") == std::string::npos);
  // The node's own marker is honoured: a request forwarded once is not forwarded again.
  auto again = c.Call(1, "PUT", "/v1/secret/data/c", kSecret, {{"X-Halo-Forwarded", marker}});
  REQUIRE(again.ok());
  CHECK(again->status == 503);
  CHECK(again->headers.Get("X-Halo-Not-Executed").value_or("") == "1");
  CHECK(up.accepted() == 1);
}

TEST_CASE("node hop marker: through real nodes, a client's marker on a standby is forwarded") {
  LocalCluster c;
  REQUIRE(c.Start());
  int active = c.Active();
  REQUIRE(active >= 0);
  int standby = active == 0 ? 1 : 0;
  auto w = c.Call(standby, "PUT", "/v1/secret/data/forged", kSecret, {{"X-Halo-Forwarded", "1"}});
  REQUIRE(w.ok());
  CHECK_MESSAGE(w->status == 200, w->body);
  auto r = c.Call(active, "GET", "/v1/secret/data/forged");
  REQUIRE(r.ok());
  CHECK(JsonString(r->body, {"data", "data", "password"}) == "hunter2");
}

}  // namespace
}  // namespace halo::node::testing
