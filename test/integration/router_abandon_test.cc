// Integration: halo-router in front of real halo-nodes, with clients that go away. Clients
// that park a blocking sys/leader query through the router and close (or half-close) free
// both the router's and the node's sockets at once (counted from /proc/net/tcp); the router
// answers 429 past limits.max_blocking_queries; limits.max_connections_per_client refuses the
// next connection from one address while another address still connects.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "test/node/local_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/http_test_client.h"
#include "test/support/proc_sockets.h"

namespace halo::router::testing {
namespace {

using halo::node::testing::JsonInt;
using halo::node::testing::LocalCluster;
using halo::testing::HttpTestClient;
using halo::testing::kTcpCloseWait;
using halo::testing::kTcpEstablished;
using halo::testing::PollUntil;
using halo::testing::TcpSocketsOnPort;
using Ms = std::chrono::milliseconds;

std::string BlockingLeader(int64_t index) {
  return "GET /v1/sys/leader?index=" + std::to_string(index) +
         "&wait=10m HTTP/1.1\r\nHost: x\r\n\r\n";
}

// Real nodes behind a router that reads from the active (so that every blocking query lands
// on one node), over `protocol` to the nodes ("http1": one node socket per query).
struct Stack {
  explicit Stack(const std::string& limits, const std::string& protocol = "http1") {
    REQUIRE(nodes.Start());
    active = nodes.Active();
    REQUIRE(active >= 0);
    std::vector<std::pair<std::string, std::string>> list;
    for (int i = 0; i < nodes.size(); ++i) {
      list.emplace_back("node" + std::to_string(i + 1),
                        "127.0.0.1:" + std::to_string(nodes.port(i)));
    }
    REQUIRE(router.Start(RouterConfigJson(
        router.port(), list,
        R"("reads":"active","upstream_protocol":")" + protocol +
            R"(","health_check":{"interval":"100ms","timeout":"500ms"},"limits":{)" + limits +
            "}")));
    REQUIRE(router.WaitRoles("node" + std::to_string(active + 1), nodes.size()));
    auto r = HttpCall(router.port(), "GET", "/v1/sys/leader");
    REQUIRE(r);
    index = JsonInt(r->body, {"index"});
    REQUIRE(index > 0);
  }
  int node_port() const { return nodes.port(active); }
  LocalCluster nodes;
  RouterProcess router;
  int active = -1;
  int64_t index = 0;
};

// HTTP/2 streams the router has open to the nodes (its status page).
int OpenStreams(Stack& s) {
  rapidjson::Document d = s.router.Status();
  if (!d.IsObject() || !d.HasMember("nodes")) return -1;
  int n = 0;
  for (const auto& node : d["nodes"].GetArray()) n += node["h2_open_streams"].GetInt();
  return n;
}

// Sockets on the router's and the active node's listening ports.
struct Sockets {
  int router_established, router_close_wait, node_established, node_close_wait;
};
Sockets Count(const Stack& s) {
  return {TcpSocketsOnPort(s.router.port(), kTcpEstablished),
          TcpSocketsOnPort(s.router.port(), kTcpCloseWait),
          TcpSocketsOnPort(s.node_port(), kTcpEstablished),
          TcpSocketsOnPort(s.node_port(), kTcpCloseWait)};
}
bool BackTo(const Stack& s, const Sockets& base) {
  Sockets now = Count(s);
  return now.router_established <= base.router_established &&
         now.router_close_wait <= base.router_close_wait &&
         now.node_established <= base.node_established &&
         now.node_close_wait <= base.node_close_wait;
}
std::string Show(const Sockets& n) {
  return "router " + std::to_string(n.router_established) + " established/" +
         std::to_string(n.router_close_wait) + " close-wait, node " +
         std::to_string(n.node_established) + "/" + std::to_string(n.node_close_wait);
}

// Parks `n` blocking queries through the router and waits until the router refuses one more
// (max_blocking_queries == n); with `h2` false also until the node holds a socket for each.
std::vector<std::unique_ptr<HttpTestClient>> Park(Stack& s, int n, const Sockets& base,
                                                  bool h2 = false) {
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<HttpTestClient>(s.router.port()));
    REQUIRE(clients.back()->SendRaw(BlockingLeader(s.index)).ok());
  }
  bool refused = PollUntil(
      [&] {
        HttpTestClient probe(s.router.port());
        if (!probe.SendRaw(BlockingLeader(s.index)).ok()) return false;
        Result<http::Response> r = probe.ReadResponse(Ms(300));
        return r.ok() && r->status == 429 && r->headers.Get("Retry-After").has_value() &&
               r->body.find("\"errors\"") != std::string::npos;
      },
      std::chrono::seconds(10));
  REQUIRE(refused);
  if (h2) {  // one stream each, on a few connections
    REQUIRE(PollUntil([&] { return OpenStreams(s) >= n; }, std::chrono::seconds(5)));
  } else {  // on the node: one each (the router may have taken its idle pooled one for one)
    REQUIRE(PollUntil([&] { return Count(s).node_established >= base.node_established + n - 1; },
                      std::chrono::seconds(5)));
  }
  MESSAGE("parked " << n << ": " << Show(Count(s)));
  return clients;
}

TEST_CASE("router: clients that park blocking queries and close free router and node sockets") {
  Stack s(R"("max_blocking_queries": 50)");
  Sockets base = Count(s);
  MESSAGE("baseline: " << Show(base));
  { auto clients = Park(s, 50, base); }  // all close
  bool freed = PollUntil([&] { return BackTo(s, base); }, std::chrono::seconds(5));
  MESSAGE("after the close: " << Show(Count(s)));
  CHECK(freed);
  CHECK(StatusCounter(s.router.Status(), "blocking_queries_refused") >= 1);
  // The slots are free again: a query goes through to the node.
  auto r = HttpCall(s.router.port(), "GET", "/v1/sys/leader?index=0&wait=10m");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE(
    "router: clients that park blocking queries over HTTP/2 upstreams and close reset "
    "their streams") {
  Stack s(R"("max_blocking_queries": 50)", "h2");
  Sockets base = Count(s);
  { auto clients = Park(s, 50, base, true); }  // all close
  MESSAGE("parked 50 on " << Count(s).node_established - base.node_established
                          << " more node sockets; closed");
  bool freed = PollUntil(
      [&] {
        Sockets now = Count(s);
        return OpenStreams(s) == 0 && now.router_established <= base.router_established &&
               now.router_close_wait <= base.router_close_wait &&
               now.node_close_wait <= base.node_close_wait;
      },
      std::chrono::seconds(5));
  MESSAGE("after the close: " << OpenStreams(s) << " open streams, " << Show(Count(s)));
  CHECK(freed);
  // The few multiplexed connections stay for the next requests; none was opened per query.
  CHECK(Count(s).node_established <= base.node_established + 8);
  auto r = HttpCall(s.router.port(), "GET", "/v1/sys/leader?index=0&wait=10m");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("router: half-closed clients with a request pending free router and node sockets") {
  Stack s(R"("max_blocking_queries": 20)");
  Sockets base = Count(s);
  auto clients = Park(s, 20, base);
  for (auto& c : clients) c->ShutdownWrite();  // FIN after a complete request
  bool freed = PollUntil([&] { return BackTo(s, base); }, std::chrono::seconds(5));
  MESSAGE("after the half-close: " << Show(Count(s)));
  CHECK(freed);
  for (auto& c : clients) CHECK(c->WaitForClose(Ms(2000)));  // the router closed them
  CHECK(s.nodes.process(s.active).Running());
}

// A connection from `source` (e.g. 127.0.0.2) to 127.0.0.1:port; -1 on failure.
int ConnectFrom(const char* source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends a sys/health request on `fd` and reads until the status line: true if answered.
bool Answered(int fd) {
  std::string req = "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return false;
  }
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < 12 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return got.rfind("HTTP/1.1 ", 0) == 0;
}

TEST_CASE("router: limits.max_connections_per_client refuses one address, not another") {
  Stack s(R"("max_connections_per_client": 3)");
  // 127.0.0.3 takes its three; the harness's own status calls come from 127.0.0.1.
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(ConnectFrom("127.0.0.3", s.router.port()));
    REQUIRE(fds.back() >= 0);
    CHECK(Answered(fds.back()));
  }
  int fourth = ConnectFrom("127.0.0.3", s.router.port());
  REQUIRE(fourth >= 0);
  CHECK_FALSE(Answered(fourth));  // closed at once, like max_connections
  close(fourth);
  int other = ConnectFrom("127.0.0.2", s.router.port());
  REQUIRE(other >= 0);
  CHECK(Answered(other));
  CHECK(StatusCounter(s.router.Status(), "connections_refused_per_client") >= 1);
  // One closes: the address may connect again.
  close(fds.back());
  fds.pop_back();
  CHECK(PollUntil(
      [&] {
        int fd = ConnectFrom("127.0.0.3", s.router.port());
        bool ok = fd >= 0 && Answered(fd);
        if (fd >= 0) close(fd);
        return ok;
      },
      std::chrono::seconds(5)));
  for (int fd : fds) close(fd);
  close(other);
}

}  // namespace
}  // namespace halo::router::testing
