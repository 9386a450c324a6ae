// Fuzz target: the router's parsers of what nodes answer on sys/health and sys/leader
// (router/health_info.h), and AuthorityOf on the leader address a node advertises. A node
// (or whatever listens at a configured address) is not trusted to send sane bodies: up to
// the probe client's 1 MiB. Never crash; fail only with Status; a role is always one of
// the known roles and follows the flags; an advertised authority has no scheme or path.
// Input: bytes 0-1 the HTTP status (big-endian, mod 600), byte 2 chooses the parser (bit
// 0: health or leader), the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/check.h"
#include "router/health_info.h"
#include "test/fuzz/fuzz_support.h"

namespace {

using halo::router::NodeRole;

void CheckAuthority(std::string_view url) {
  std::string a = halo::router::AuthorityOf(url);
  HALO_CHECK(a.find('/') == std::string::npos, "an authority has no '/'");
  HALO_CHECK(a.find("://") == std::string::npos, "an authority has no scheme");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The deepest body a node can send (the probe reads up to 1 MiB) parses without
  // exhausting the stack.
  halo::fuzz::CheckDeepNestingOnce([](const std::string& deep) {
    HALO_CHECK(!halo::router::ParseHealthResponse(404, deep).ok(), "deep health body refused");
    HALO_CHECK(!halo::router::ParseLeaderResponse(200, deep).ok(), "deep leader body refused");
  });
  if (size < 3) return 0;
  int status = ((data[0] << 8) | data[1]) % 600;
  std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);
  if (data[2] & 1) {
    halo::Result<halo::router::LeaderInfo> l = halo::router::ParseLeaderResponse(status, body);
    if (!l.ok()) {
      HALO_CHECK(status != 200 || l.status().code() == halo::Status::Code::kInvalidArgument,
                 "a bad 200 body is kInvalidArgument");
      return 0;
    }
    HALO_CHECK(status == 200, "only a 200 gives leader info");
    HALO_CHECK(l->index >= -1, "index is -1 or a count");
    CheckAuthority(l->leader_address);
  } else {
    halo::Result<halo::router::HealthInfo> h = halo::router::ParseHealthResponse(status, body);
    if (!h.ok()) {
      HALO_CHECK(h.status().code() == halo::Status::Code::kInvalidArgument, "kInvalidArgument");
      return 0;
    }
    NodeRole want = !h->initialized ? NodeRole::kUninitialized
                    : h->sealed     ? NodeRole::kSealed
                    : h->standby    ? NodeRole::kStandby
                                    : NodeRole::kActive;
    HALO_CHECK(h->role == want, "the role follows the flags");
    HALO_CHECK(h->status == status, "the status is kept");
    HALO_CHECK(halo::router::NodeRoleName(h->role) != nullptr, "a role has a name");
  }
  CheckAuthority(body);
  return 0;
}
