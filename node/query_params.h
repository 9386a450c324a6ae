// QueryParams: the decoded query string of a request URL ("a=1&b=x%20y"), with the typed
// getters the API needs. Booleans follow Go's strconv.ParseBool (as OpenBao does): 1, t, T,
// TRUE, true, True / 0, f, F, FALSE, false, False; a key given without a value is true.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace halo::node {

class QueryParams {
 public:
  QueryParams() = default;

  // kInvalidArgument on a malformed percent-escape.
  static Result<QueryParams> Parse(std::string_view query);

  bool Has(std::string_view key) const;
  // The first value of `key`, or nullopt.
  std::optional<std::string> Get(std::string_view key) const;
  // `fallback` when absent; kInvalidArgument naming the key when not a boolean.
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  // `fallback` when absent; kInvalidArgument naming the key when not a decimal integer.
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;

  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). kInvalidArgument on a bad
// escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Go's strconv.ParseBool.
std::optional<bool> ParseGoBool(std::string_view text);

}  // namespace halo::node
