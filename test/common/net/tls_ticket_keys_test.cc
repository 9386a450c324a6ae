#include "common/net/tls_ticket_keys.h"

#include <doctest/doctest.h>

#include "test/fakes/fake_clock.h"

namespace halo::net {
namespace {

TEST_CASE(
    "TlsTicketKeys: a new key every interval; older keys decrypt (and ask for a new "
    "ticket) until `keep` newer ones exist") {
  halo::FakeClock clock;
  TlsTicketKeys keys(&clock, std::chrono::hours(1), 3);
  TlsTicketKeys::Key k1, k2, k, found;
  REQUIRE(keys.Current(&k1));
  REQUIRE(keys.Current(&k));
  CHECK(k.name == k1.name);  // same interval: same key
  CHECK(keys.Find(k1.name.data(), &found) == TlsTicketKeys::Match::kCurrent);
  CHECK(found.aes == k1.aes);
  clock.Advance(std::chrono::hours(1));
  // Due but not rotated yet: still accepted, but a new ticket is asked for.
  CHECK(keys.Find(k1.name.data(), &found) == TlsTicketKeys::Match::kOld);
  REQUIRE(keys.Current(&k2));
  CHECK(k2.name != k1.name);
  CHECK(k2.aes != k1.aes);
  CHECK(keys.Find(k2.name.data(), &found) == TlsTicketKeys::Match::kCurrent);
  CHECK(keys.Find(k1.name.data(), &found) == TlsTicketKeys::Match::kOld);
  for (int i = 0; i < 2; ++i) {
    clock.Advance(std::chrono::hours(1));
    REQUIRE(keys.Current(&k));
  }
  CHECK(keys.size() == 3);
  CHECK(keys.Find(k1.name.data(), &found) == TlsTicketKeys::Match::kNone);  // rotated out
  CHECK(keys.Find(k2.name.data(), &found) == TlsTicketKeys::Match::kOld);
  unsigned char unknown[16] = {0};
  CHECK(keys.Find(unknown, &found) == TlsTicketKeys::Match::kNone);
}

}  // namespace
}  // namespace halo::net
