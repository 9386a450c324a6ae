// Request bodies for the "bodies before the token" tests (node and router): request heads
// with a declared length, KV v2 bodies of an exact size, and the attack itself: many
// unauthenticated 32 MiB PUTs that must be refused at the head and then push their body
// anyway. Uses doctest assertions; for test files only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace halo::testing {

inline constexpr int64_t kMiB = 1 << 20;
// A head-time answer comes with the body not sent: well within this (a server that waits
// for the body never answers).
inline constexpr std::chrono::milliseconds kAnsweredAtOnce(3000);

// "METHOD target HTTP/1.1" with Content-Type: application/json, Content-Length: `length`,
// X-Vault-Token when `token` is set, and `extra` header lines ("K: V\r\n").
std::string BodyHead(const std::string& method, const std::string& target, int64_t length,
                     const std::string& token = "", const std::string& extra = "");
// A KV v2 write body of exactly `size` bytes.
std::string KvBodyOfSize(size_t size);

// `conns` connections to `port` each send the head of an unauthenticated 32 MiB PUT: each
// must get 403 {"errors":["permission denied"]} with Connection: close before sending a body
// byte. Then each pushes 16 MiB anyway, all at once, and must be closed within 5 s.
void PushRefusedBodies(int port, int conns);

}  // namespace halo::testing
