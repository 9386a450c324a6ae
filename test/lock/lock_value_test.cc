#include "lock/lock_value.h"

#include <doctest/doctest.h>

#include "lock/lock_backend.h"

namespace halo::lock {
namespace {

TEST_CASE("lock value: encodes one line of JSON and parses back") {
  LockValue v{"http://127.0.0.1:8201", "node1", ""};
  Result<std::string> s = EncodeLockValue(v);
  REQUIRE(s.ok());
  CHECK(*s == R"({"api_addr":"http://127.0.0.1:8201","node_id":"node1"})");
  CHECK(ValidateLockValue(*s).ok());
  Result<LockValue> back = ParseLockValue(*s);
  REQUIRE(back.ok());
  CHECK(*back == v);

  LockValue odd{"http://h:1/\n\"x\"", "", "https://h:8201"};
  s = EncodeLockValue(odd);
  REQUIRE(s.ok());
  CHECK(s->find('\n') == std::string::npos);  // escaped by JSON
  back = ParseLockValue(*s);
  REQUIRE(back.ok());
  CHECK(*back == odd);
}

TEST_CASE("lock value: errors") {
  CHECK_FALSE(EncodeLockValue(LockValue{}).ok());
  CHECK_FALSE(EncodeLockValue(LockValue{std::string(kMaxLockValueSize, 'a'), "", ""}).ok());
  CHECK_FALSE(ParseLockValue("").ok());
  CHECK_FALSE(ParseLockValue("[]").ok());
  CHECK_FALSE(ParseLockValue(R"({"node_id":"n"})").ok());
  CHECK_FALSE(ParseLockValue(R"({"api_addr":5})").ok());
  Result<LockValue> extra = ParseLockValue(R"({"api_addr":"http://a:1","future":true})");
  REQUIRE(extra.ok());
  CHECK(extra->api_addr == "http://a:1");
}

TEST_CASE("lock value: ValidateLockValue and NewLockToken") {
  CHECK(ValidateLockValue("").ok());
  CHECK_FALSE(ValidateLockValue("a\nb").ok());
  CHECK_FALSE(ValidateLockValue("a\rb").ok());
  CHECK_FALSE(ValidateLockValue(std::string("a\0b", 3)).ok());
  std::string t1 = NewLockToken(), t2 = NewLockToken();
  CHECK(t1.size() == 32);
  CHECK(t1.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(t1 != t2);
}

}  // namespace
}  // namespace halo::lock
