#include "node/query_params.h"

#include <charconv>

#include "common/http/url.h"

namespace halo::node {

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::optional<std::string> out = http::PercentDecode(text, plus_is_space);
  if (!out) return Status::InvalidArgument("bad percent-escape in \"" + std::string(text) + "\"");
  return std::move(*out);
}

std::optional<bool> ParseGoBool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

Result<QueryParams> QueryParams::Parse(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    ASSIGN_OR_RETURN(std::string k, PercentDecode(key, true));
    ASSIGN_OR_RETURN(std::string v, PercentDecode(value, true));
    params.pairs_.emplace_back(std::move(k), std::move(v));
  }
  return params;
}

bool QueryParams::Has(std::string_view key) const { return Get(key).has_value(); }

std::optional<std::string> QueryParams::Get(std::string_view key) const {
  for (const auto& [k, v] : pairs_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Result<bool> QueryParams::GetBool(std::string_view key, bool fallback) const {
  std::optional<std::string> value = Get(key);
  if (!value) return fallback;
  if (value->empty()) return true;
  std::optional<bool> parsed = ParseGoBool(*value);
  if (!parsed) {
    return Status::InvalidArgument("bad value for " + std::string(key) + " parameter: \"" + *value +
                                   "\"");
  }
  return *parsed;
}

Result<int64_t> QueryParams::GetInt(std::string_view key, int64_t fallback) const {
  std::optional<std::string> value = Get(key);
  if (!value) return fallback;
  int64_t n = 0;
  const char* begin = value->data();
  const char* end = begin + value->size();
  auto [ptr, ec] = std::from_chars(begin, end, n);
  if (value->empty() || ec != std::errc() || ptr != end) {
    return Status::InvalidArgument("unable to parse " + std::string(key) + " parameter: \"" +
                                   *value + "\"");
  }
  return n;
}

}  // namespace halo::node
