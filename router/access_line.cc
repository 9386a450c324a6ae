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

void AppendKey(const char* key, std::string* out) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":", 2);
}

void AppendStringOrNull(const char* key, std::string_view v, std::string* out) {
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
  for (std::string_view p : {"hvs.", "hvb.", "hvr.", "s.", "b.", "r."}) {
    if (StartsWith(seg, p) && seg.size() >= p.size() + 20) return true;
  }
  return false;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
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
  out->push_back('"');
}

std::string RedactedPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  size_t pos = 0;
  bool rest_secret = false;
  std::string_view so_far;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    std::string_view seg = path.substr(pos, end - pos);
    if (pos > 0) out.push_back('/');
    if (!seg.empty() && (rest_secret || TokenShaped(seg))) {
      out.append("<redacted>");
    } else {
      out.append(seg);
    }
    so_far = path.substr(0, end);
    for (std::string_view p : {"/auth/token/lookup", "/auth/token/renew", "/auth/token/revoke",
                               "/auth/token/revoke-orphan"}) {
      if (so_far.size() >= p.size() && so_far.substr(so_far.size() - p.size()) == p) {
        rest_secret = true;
      }
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

std::string QueryNames(std::string_view query) {
  std::string out;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    size_t end = amp == std::string_view::npos ? query.size() : amp;
    std::string_view part = query.substr(pos, end - pos);
    std::string_view name = part.substr(0, part.find('='));
    if (!name.empty()) {
      if (!out.empty()) out.push_back('&');
      out.append(name);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
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
  std::string path = RedactedPath(r.path);
  if (!r.query.empty()) {
    std::string names = QueryNames(r.query);
    if (!names.empty()) path.append("?").append(names);
  }
  AppendJsonString(path, out);
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
