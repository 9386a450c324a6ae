#include "common/http/url.h"

#include <http_parser.h>

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

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
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
    out.emplace_back(n ? std::move(*n) : std::string(name), v ? std::move(*v) : std::string(value));
  }
  return out;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  for (auto& [n, v] : ParseQuery(query)) {
    if (n == name) return std::move(v);
  }
  return std::nullopt;
}

bool QueryFlag(std::string_view query, std::string_view name) {
  std::optional<std::string> v = QueryParam(query, name);
  if (!v) return false;
  return *v == "1" || *v == "t" || *v == "T" || *v == "TRUE" || *v == "true" || *v == "True";
}

}  // namespace halo::http
