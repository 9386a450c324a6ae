#include "common/http/syntax.h"

#include <http_parser.h>

namespace halo::http {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsValidFieldValue(std::string_view s) {
  if (!s.empty() && (IsOws(s.front()) || IsOws(s.back()))) return false;
  for (char c : s) {
    if (!IsFieldValueChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool ListContainsToken(std::string_view list, std::string_view token) {
  bool found = false;
  ForEachListElement(list, [&](std::string_view e) {
    found = EqualsIgnoreCase(e, token);
    return !found;
  });
  return found;
}

bool ParseContentLength(std::string_view s, uint64_t* out) {
  s = TrimOws(s);
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
#define HALO_HTTP_REASON(num, name, string) \
  case num:                                 \
    return #string;
    HTTP_STATUS_MAP(HALO_HTTP_REASON)
#undef HALO_HTTP_REASON
    default:
      return "";
  }
}

}  // namespace halo::http
