#include "common/net/tls_ticket_keys.h"

#include <openssl/rand.h>

#include <cstring>

namespace halo::net {

TlsTicketKeys::TlsTicketKeys(Clock* clock, Duration rotate_every, size_t keep)
    : clock_(clock), rotate_every_(rotate_every), keep_(keep < 1 ? 1 : keep) {}

bool TlsTicketKeys::RotateLocked(TimePoint now) {
  Key k;
  if (RAND_bytes(k.name.data(), k.name.size()) != 1 ||
      RAND_bytes(k.aes.data(), k.aes.size()) != 1 ||
      RAND_bytes(k.hmac.data(), k.hmac.size()) != 1) {
    return false;
  }
  k.created = now;
  keys_.push_front(k);
  while (keys_.size() > keep_) keys_.pop_back();
  return true;
}

bool TlsTicketKeys::Current(Key* out) {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_->Now();
  if ((keys_.empty() || now - keys_.front().created >= rotate_every_) && !RotateLocked(now)) {
    if (keys_.empty()) return false;  // keep sealing with the last key rather than none
  }
  *out = keys_.front();
  return true;
}

TlsTicketKeys::Match TlsTicketKeys::Find(const unsigned char* name, Key* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
      *out = keys_[i];
      bool due = clock_->Now() - keys_[i].created >= rotate_every_;
      return i == 0 && !due ? Match::kCurrent : Match::kOld;
    }
  }
  return Match::kNone;
}

size_t TlsTicketKeys::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.size();
}

}  // namespace halo::net
