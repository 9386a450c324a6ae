// Request-target and query-string helpers: percent-decoding, splitting a request-target into
// a decoded path and a raw query, and reading query parameters (OpenBao's ?list=true,
// ?version=3, ?cas=...). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// All name=value pairs of a query string, decoded ('+' is SP), in order. A pair without '='
// has an empty value; pairs with malformed escapes are kept undecoded.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// The decoded value of the first parameter named `name`, or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

// Go strconv.ParseBool semantics as OpenBao uses them for flags such as ?list=true:
// "1", "t", "T", "TRUE", "true", "True" are true. Absent or anything else is false.
bool QueryFlag(std::string_view query, std::string_view name);

}  // namespace halo::http
