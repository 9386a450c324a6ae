// TlsTicketKeys: the keys that seal TLS session tickets (resumption without server state),
// rotated: a new key every `rotate_every`, the previous ones kept for decrypting (tickets
// they sealed are accepted and re-issued under the current key) until `keep` keys exist.
// Made by OpenSSL's RAND_bytes; never written anywhere. One set per listener, shared by
// every TlsContext built for it (a certificate reload keeps resumption working).
//
// Threading: Current() and Find() are called from OpenSSL's ticket callback on any worker
// thread; a mutex guards the set.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>

#include "common/clock.h"

namespace halo::net {

class TlsTicketKeys {
 public:
  struct Key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> aes;   // AES-256-CBC
    std::array<unsigned char, 32> hmac;  // HMAC-SHA256
    TimePoint created;
  };
  enum class Match { kNone, kCurrent, kOld };

  explicit TlsTicketKeys(Clock* clock = RealClock(), Duration rotate_every = std::chrono::hours(1),
                         size_t keep = 3);

  // The key to seal a new ticket with (a fresh one first if the newest is due). False only
  // if the random generator failed.
  bool Current(Key* out);
  // The key named `name`, if still kept; kOld means: accept, and issue a new ticket.
  Match Find(const unsigned char* name, Key* out);
  size_t size();

 private:
  bool RotateLocked(TimePoint now);

  Clock* clock_;
  const Duration rotate_every_;
  const size_t keep_;
  std::mutex mu_;
  std::deque<Key> keys_;  // newest first
};

}  // namespace halo::net
