// RedisReply: one reply from a Redis server, copied out of hiredis so that callers never
// hold hiredis objects. An error reply ("-ERR ...", "-STALE 7") is a value of type kError,
// not a failed Status: the server answered.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace halo::redis {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
  // An error reply whose code (first word) is `code`, e.g. "READONLY" or "STALE".
  bool IsErrorCode(std::string_view code) const {
    return is_error() && str.compare(0, code.size(), code) == 0 &&
           (str.size() == code.size() || str[code.size()] == ' ');
  }
};

}  // namespace halo::redis
