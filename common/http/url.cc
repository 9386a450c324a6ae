#include "common/http/url.h"

#include <http_parser.h>

#include <charconv>
#include "common/hex.h"

namespace halo::http {
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexDigitValue(in[i + 1]);
      int lo = HexDigitValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status SplitTarget(std::string_view method, std::string_view target, std::string* path,
                   std::string* query) {
  path->clear();
  query->clear();
  if (target == "*") {
    if (method != "OPTIONS") return Status::InvalidArgument("'*' target is only for OPTIONS");
    path->assign("*");
    return Status::Ok();
  }
  if (target.find('#') != std::string_view::npos) {
    return Status::InvalidArgument("fragment in request-target");
  }
  std::string_view raw_path;
  if (!target.empty() && target.front() == '/') {
    size_t q = target.find('?');
    raw_path = target.substr(0, q);
    if (q != std::string_view::npos) query->assign(target.substr(q + 1));
  } else {
    http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(target.data(), target.size(), 0, &u) != 0 ||
        !(u.field_set & (1 << UF_SCHEMA)) || !(u.field_set & (1 << UF_HOST))) {
      return Status::InvalidArgument("invalid request-target");
    }
    raw_path = "/";
    if (u.field_set & (1 << UF_PATH)) {
      raw_path = target.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
    }
    if (u.field_set & (1 << UF_QUERY)) {
      query->assign(target.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len));
    }
  }
  if (raw_path.find('%') == std::string_view::npos) {
    path->assign(raw_path);  // the common case: nothing to decode, no allocation
    return Status::Ok();
  }
  std::optional<std::string> decoded = PercentDecode(raw_path);
  if (!decoded) return Status::InvalidArgument("malformed percent-escape in path");
  if (decoded->find('\0') != std::string::npos) {
    return Status::InvalidArgument("NUL in decoded path");
  }
  *path = std::move(*decoded);
  return Status::Ok();
}

Result<QueryParams> QueryParams::ParseImpl(std::string_view query, bool strict) {
  QueryParams params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::optional<std::string> n = PercentDecode(name, true);
    std::optional<std::string> v = PercentDecode(value, true);
    if (strict && (!n || !v)) {
      return Status::InvalidArgument("bad percent-escape in \"" + std::string(!n ? name : value) +
                                     "\"");
    }
    params.pairs_.emplace_back(n ? std::move(*n) : std::string(name),
                               v ? std::move(*v) : std::string(value));
  }
  return params;
}

Result<QueryParams> QueryParams::Parse(std::string_view query) { return ParseImpl(query, true); }

QueryParams QueryParams::ParseLenient(std::string_view query) {
  return std::move(ParseImpl(query, false)).value();
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

QueryParams QueryParams::Without(std::initializer_list<std::string_view> keys) const {
  QueryParams out;
  for (const auto& pair : pairs_) {
    bool drop = false;
    for (std::string_view k : keys) drop = drop || pair.first == k;
    if (!drop) out.pairs_.push_back(pair);
  }
  return out;
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

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  return QueryParams::ParseLenient(query).Get(name);
}

bool QueryFlag(std::string_view query, std::string_view name) {
  std::optional<std::string> v = QueryParam(query, name);
  return v && ParseGoBool(*v) == true;
}

std::string OriginForm(std::string_view target) {
  if (!target.empty() && target[0] == '/') return std::string(target);
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return "/";
  size_t end = target.find_first_of("/?", scheme + 3);
  if (end == std::string_view::npos) return "/";
  if (target[end] == '?') return "/" + std::string(target.substr(end));
  return std::string(target.substr(end));
}

}  // namespace halo::http
