#include "router/request_target.h"

#include <cstring>

#include "common/hex.h"

namespace halo::router {
namespace {

bool IsControlOrSpace(unsigned char c) { return c <= 0x20 || c == 0x7f; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

// Percent-decodes `raw` into `out`; false on a bad escape or a control character.
bool Decode(std::string_view raw, std::string* out) {
  out->clear();
  out->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      int hi = HexDigitValue(raw[i + 1]);
      int lo = HexDigitValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<unsigned char>(hi * 16 + lo);
      if (c < 0x20 || c == 0x7f) return false;  // %00, %0a, %0d, %7f...
      i += 2;
    } else if (IsControlOrSpace(c)) {
      return false;
    }
    out->push_back(static_cast<char>(c));
  }
  return true;
}

// Resolves "//", "." and ".." in place. `p` starts with '/'. False on ".." above the root.
bool RemoveDotSegments(std::string* p) {
  char* s = p->data();
  const size_t n = p->size();
  size_t r = 0, w = 0;
  bool trailing = false;
  while (r < n) {
    while (r < n && s[r] == '/') ++r;
    const size_t start = r;
    while (r < n && s[r] != '/') ++r;
    const size_t len = r - start;
    const bool last = r == n;
    if (len == 0) {  // the path ended in one or more slashes
      trailing = true;
      break;
    }
    trailing = false;
    if (len == 1 && s[start] == '.') {
      trailing = last;
      continue;
    }
    if (len == 2 && s[start] == '.' && s[start + 1] == '.') {
      if (w == 0) return false;
      while (w > 0 && s[w - 1] != '/') --w;
      --w;
      trailing = last;
      continue;
    }
    s[w++] = '/';
    std::memmove(s + w, s + start, len);
    w += len;
  }
  if (w == 0) {
    s[0] = '/';  // n >= 1: the path starts with '/'
    w = 1;
    trailing = false;
  }
  p->resize(w);
  if (trailing) p->push_back('/');
  return true;
}

}  // namespace

bool QueryBoolTrue(std::string_view v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

bool NormalizeTarget(std::string_view target, NormalizedTarget* out) {
  out->list = false;
  out->query = {};
  if (target.empty()) return false;
  if (target[0] != '/') {
    // absolute-form: scheme "://" authority path
    size_t skip;
    if (StartsWithNoCase(target, "http://")) {
      skip = 7;
    } else if (StartsWithNoCase(target, "https://")) {
      skip = 8;
    } else {
      return false;  // authority-form, asterisk-form, garbage
    }
    size_t slash = target.find_first_of("/?#", skip);
    if (slash == skip) return false;  // empty authority
    if (slash == std::string_view::npos) {
      target = "/";
    } else if (target[slash] != '/') {
      return false;  // "http://host?x" has no path; refuse rather than guess
    } else {
      target = target.substr(slash);
    }
  }
  if (target.find('#') != std::string_view::npos) return false;
  std::string_view raw_path = target;
  size_t q = target.find('?');
  if (q != std::string_view::npos) {
    raw_path = target.substr(0, q);
    out->query = target.substr(q + 1);
    for (char c : out->query) {
      if (IsControlOrSpace(static_cast<unsigned char>(c))) return false;
    }
  }
  if (!Decode(raw_path, &out->path)) return false;
  if (!RemoveDotSegments(&out->path)) return false;
  // list=true anywhere in the query.
  std::string_view rest = out->query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view param = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (param.size() > 5 && param.substr(0, 5) == "list=" && QueryBoolTrue(param.substr(5))) {
      out->list = true;
    }
  }
  return true;
}

std::string_view ApiPath(std::string_view p) {
  if (p.size() >= 4 && p.substr(0, 4) == "/v1/") return p.substr(4);
  if (p == "/v1") return {};
  if (!p.empty() && p[0] == '/') return p.substr(1);
  return p;
}

}  // namespace halo::router
