#include "router/access_line.h"

#include <time.h>

#include <charconv>

#include "common/hex.h"

namespace halo::router {
namespace {

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// `,"key":` from a literal, its length known at compile time.
template <size_t N>
void AppendKey(const char (&key)[N], std::string* out) {
  char buf[N + 3];
  buf[0] = ',';
  buf[1] = '"';
  for (size_t i = 0; i + 1 < N; ++i) buf[2 + i] = key[i];
  buf[N + 1] = '"';
  buf[N + 2] = ':';
  out->append(buf, N + 3);
}

template <size_t N>
void AppendStringOrNull(const char (&key)[N], std::string_view v, std::string* out) {
  AppendKey(key, out);
  if (v.empty()) {
    out->append("null", 4);
  } else {
    AppendJsonString(v, out);
  }
}

// Milliseconds with microsecond digits: 1234 us -> "1.234".
void AppendMillis(int64_t us, std::string* out) {
  if (us < 0) us = 0;
  AppendInt(us / 1000, out);
  char frac[4] = {static_cast<char>('.'), static_cast<char>('0' + (us % 1000) / 100),
                  static_cast<char>('0' + (us % 100) / 10), static_cast<char>('0' + us % 10)};
  out->append(frac, 4);
}

// "2026-12-04T03:10:00.123Z". The date part is cached per thread: gmtime_r once a second.
void AppendTime(int64_t unix_ms, std::string* out) {
  thread_local int64_t cached_sec = -1;
  thread_local char cached[32];
  thread_local size_t cached_len = 0;
  int64_t sec = unix_ms / 1000;
  if (sec != cached_sec) {
    time_t t = static_cast<time_t>(sec);
    tm parts{};
    gmtime_r(&t, &parts);
    cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &parts);
    cached_sec = sec;
  }
  int ms = static_cast<int>(unix_ms % 1000);
  out->push_back('"');
  out->append(cached, cached_len);
  char frac[6] = {'.',
                  static_cast<char>('0' + ms / 100),
                  static_cast<char>('0' + ms / 10 % 10),
                  static_cast<char>('0' + ms % 10),
                  'Z',
                  '"'};
  out->append(frac, 6);
}

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs, no surrogates).
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool TokenShaped(std::string_view seg) {
  // Every shape below is at least 22 bytes with a '.' at [1] or [3]: most segments stop here.
  if (seg.size() < 22 || (seg[1] != '.' && seg[3] != '.')) return false;
  for (std::string_view p : {"hvs.", "hvb.", "hvr.", "s.", "b.", "r."}) {
    if (StartsWith(seg, p) && seg.size() >= p.size() + 20) return true;
  }
  return false;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

void AppendJsonEscaped(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      size_t j = i + 1;  // a run of plain bytes in one append
      while (j < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x7F || d == '"' || d == '\\') break;
        ++j;
      }
      out->append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x80) {  // control characters and DEL
      const char esc[6] = {'\\', 'u', '0', '0', HexDigit(c >> 4), HexDigit(c)};
      out->append(esc, 6);
      ++i;
    } else if (size_t n = Utf8Length(s, i); n > 0) {
      out->append(s.data() + i, n);
      i += n;
    } else {
      out->append("\\ufffd", 6);
      ++i;
    }
  }
}

namespace {

// Calls fn(segment, redact) for each '/'-separated segment of `path` (the empty one before a
// leading '/' included), in order.
template <typename Fn>
void ForEachPathSegment(std::string_view path, Fn&& fn) {
  std::string_view prev2, prev1;  // the two segments before this one
  bool rest_secret = false;       // after auth/token/{lookup,renew,revoke,revoke-orphan}/
  size_t pos = 0;
  for (;;) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    std::string_view seg = path.substr(pos, end - pos);
    fn(seg, !seg.empty() && (rest_secret || TokenShaped(seg)));
    if (!rest_secret && prev1.size() == 5 && prev2 == "auth" && prev1 == "token" &&
        (seg == "lookup" || seg == "renew" || seg == "revoke" || seg == "revoke-orphan")) {
      rest_secret = true;
    }
    prev2 = prev1;
    prev1 = seg;
    if (slash == std::string_view::npos) return;
    pos = slash + 1;
  }
}

// Calls fn(name) for each non-empty parameter name of `query`.
template <typename Fn>
void ForEachQueryName(std::string_view query, Fn&& fn) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    size_t end = amp == std::string_view::npos ? query.size() : amp;
    std::string_view part = query.substr(pos, end - pos);
    std::string_view name = part.substr(0, part.find('='));
    if (!name.empty()) fn(name);
    if (amp == std::string_view::npos) return;
    pos = amp + 1;
  }
}

constexpr std::string_view kRedacted = "<redacted>";

}  // namespace

std::string RedactedPath(std::string_view path) {
  std::string out;
  bool first = true;
  ForEachPathSegment(path, [&](std::string_view seg, bool redact) {
    if (!first) out.push_back('/');
    first = false;
    out.append(redact ? kRedacted : seg);
  });
  return out;
}

std::string QueryNames(std::string_view query) {
  std::string out;
  ForEachQueryName(query, [&](std::string_view name) {
    if (!out.empty()) out.push_back('&');
    out.append(name);
  });
  return out;
}

void AppendAccessLine(const AccessRecord& r, std::string* out) {
  out->append("{\"time\":", 8);
  AppendTime(r.start_unix_ms, out);
  AppendStringOrNull("client", r.client, out);
  AppendStringOrNull("request_id", r.request_id, out);
  AppendStringOrNull("proto", r.proto, out);
  AppendStringOrNull("method", r.method, out);
  AppendKey("path", out);
  out->push_back('"');
  bool first = true;
  ForEachPathSegment(r.path, [&](std::string_view seg, bool redact) {
    if (!first) out->push_back('/');
    first = false;
    if (redact) {
      out->append(kRedacted);
    } else {
      AppendJsonEscaped(seg, out);
    }
  });
  char sep = '?';
  ForEachQueryName(r.query, [&](std::string_view name) {
    out->push_back(sep);
    sep = '&';
    AppendJsonEscaped(name, out);
  });
  out->push_back('"');
  AppendStringOrNull("class", r.cls, out);
  AppendStringOrNull("rule", r.rule, out);
  AppendStringOrNull("node", r.node, out);
  AppendKey("upstream_status", out);
  if (r.upstream_status > 0) {
    AppendInt(r.upstream_status, out);
  } else {
    out->append("null", 4);
  }
  AppendKey("status", out);
  AppendInt(r.status, out);
  AppendKey("request_bytes", out);
  AppendInt(static_cast<int64_t>(r.request_bytes), out);
  AppendKey("bytes", out);
  AppendInt(static_cast<int64_t>(r.bytes), out);
  AppendKey("duration_ms", out);
  AppendMillis(r.duration_us, out);
  AppendKey("retries", out);
  AppendInt(r.retries, out);
  AppendKey("held_ms", out);
  AppendMillis(r.held_us, out);
  out->append("}\n", 2);
}

}  // namespace halo::router
