// Request-target and query-string helpers: percent-decoding, splitting a request-target into
// a decoded path and a raw query, and the one query-string parser (QueryParams) with the typed
// getters OpenBao's parameters need (?list=true, ?version=3, ?index=N&wait=30s). Booleans
// follow Go's strconv.ParseBool, as OpenBao does. Pure functions and a plain value type;
// errors are Status/Result values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace halo::http {

// Decodes %XX escapes (and '+' as SP when `plus_is_space`, for query strings). Returns
// nullopt on a malformed escape ("%", "%4", "%zz").
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space = false);

// Splits a request-target into the percent-decoded path and the raw query (without '?').
// Accepts origin-form ("/a/b?x=1"), absolute-form ("http://h:1/a?x=1", path defaults to
// "/"), and "*" (asterisk-form, OPTIONS only). InvalidArgument on: another form, a fragment
// ('#'), a malformed escape, or an escape that decodes to NUL.
Status SplitTarget(std::string_view method, std::string_view target, std::string* path,
                   std::string* query);

// The origin-form part ("/v1/x?q") of a request-target in origin or absolute form: an
// absolute-form target loses its scheme and authority; one without a path gets "/" (its query
// kept). The one
// helper for every place that re-targets a request (307 Location, forwarding).
std::string OriginForm(std::string_view target);

// The decoded parameters of one query string ("a=1&b=x%20y"), parsed once per request and
// passed down as they are. A name given twice keeps both pairs, in order.
class QueryParams {
 public:
  QueryParams() = default;
  explicit QueryParams(std::vector<std::pair<std::string, std::string>> pairs)
      : pairs_(std::move(pairs)) {}

  // Every name=value pair, decoded ('+' is SP), in order; empty pairs ("a&&b") are skipped and
  // a pair without '=' has an empty value. kInvalidArgument on a malformed percent-escape.
  static Result<QueryParams> Parse(std::string_view query);
  // As Parse, but a name or value with a malformed escape is kept undecoded.
  static QueryParams ParseLenient(std::string_view query);

  bool Has(std::string_view key) const;
  // The first value of `key`, or nullopt.
  std::optional<std::string> Get(std::string_view key) const;
  // `fallback` when absent; a key without a value is true; kInvalidArgument naming the key
  // when not a Go boolean.
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  // `fallback` when absent; kInvalidArgument naming the key when not a decimal integer.
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  // A copy without any pair named one of `keys`.
  QueryParams Without(std::initializer_list<std::string_view> keys) const;

  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  static Result<QueryParams> ParseImpl(std::string_view query, bool strict);

  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Go's strconv.ParseBool: 1, t, T, TRUE, true, True / 0, f, F, FALSE, false, False; anything
// else is nullopt.
std::optional<bool> ParseGoBool(std::string_view text);

// The decoded value of the first parameter named `name` (lenient parsing), or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

// OpenBao's reading of flags such as ?list=true: true when the first value of `name` is a
// Go "true" (ParseGoBool). Absent, empty or anything else is false.
bool QueryFlag(std::string_view query, std::string_view name);

}  // namespace halo::http
