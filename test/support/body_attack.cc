#include "test/support/body_attack.h"

#include <doctest/doctest.h>

#include <memory>
#include <thread>
#include <vector>

#include "test/support/http_test_client.h"

namespace halo::testing {

std::string BodyHead(const std::string& method, const std::string& target, int64_t length,
                     const std::string& token, const std::string& extra) {
  std::string h = method + " " + target + " HTTP/1.1\r\nHost: halo\r\n" +
                  "Content-Type: application/json\r\nContent-Length: " + std::to_string(length) +
                  "\r\n";
  if (!token.empty()) h += "X-Vault-Token: " + token + "\r\n";
  return h + extra + "\r\n";
}

std::string KvBodyOfSize(size_t size) {
  std::string frame = R"({"data":{"v":""}})";
  return R"({"data":{"v":")" + std::string(size - frame.size(), 'x') + "\"}}";
}

void PushRefusedBodies(int port, int conns) {
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  for (int i = 0; i < conns; ++i) {
    clients.push_back(std::make_unique<HttpTestClient>(port));
    REQUIRE(clients.back()->Connect().ok());
    REQUIRE(clients.back()->SendRaw(BodyHead("PUT", "/v1/secret/data/big", 32 * kMiB)).ok());
  }
  // Every one is answered before it sent a byte of its body.
  for (auto& client : clients) {
    Result<http::Response> r = client->ReadResponse(kAnsweredAtOnce, "PUT");
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->status == 403);
    CHECK(r->body == "{\"errors\":[\"permission denied\"]}\n");
    CHECK(r->headers.Get("Connection").value_or("") == "close");
  }
  // Then each pushes 16 MiB anyway, all at once. The server drops it while it lingers (and
  // resets the connection after that: a failed send is expected).
  const std::string chunk(16 * kMiB, 'a');
  std::vector<std::thread> senders;
  for (auto& client : clients) {
    senders.emplace_back([&chunk, cl = client.get()] { (void)cl->SendRaw(chunk); });
  }
  for (std::thread& t : senders) t.join();
  // Closed after the lingering close, not kept for the rest of the body.
  for (auto& client : clients) CHECK(client->WaitForClose(std::chrono::milliseconds(5000)));
}

}  // namespace halo::testing
