#include "router/access_line.h"

#include <time.h>

#include <array>
#include <charconv>
#include <cstring>

#include "common/hex.h"

namespace halo::router {
namespace {

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

// Bytes that stand for themselves in a JSON string: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> kPlainJson = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7F; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// Writes into room the caller reserved (Room() bounds what each call may write): one pass,
// no per-piece length checks.
class Cursor {
 public:
  explicit Cursor(char* p) : p_(p) {}
  char* end() const { return p_; }
  // At most 6 bytes per input byte (\u00XX, or U+FFFD as "\ufffd").
  static constexpr size_t Room(std::string_view s) { return 6 * s.size(); }

  template <size_t N>
  void Lit(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void Raw(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void Char(char c) { *p_++ = c; }
  void Int(int64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }
  // Milliseconds with microsecond digits: 1234 us -> "1.234".
  void Millis(int64_t us) {
    if (us < 0) us = 0;
    Int(us / 1000);
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + (us % 1000) / 100);
    p_[2] = static_cast<char>('0' + (us % 100) / 10);
    p_[3] = static_cast<char>('0' + us % 10);
    p_ += 4;
  }
  void Escaped(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (kPlainJson[c]) {
        *p_++ = static_cast<char>(c);
        ++i;
      } else if (c == '"' || c == '\\') {
        *p_++ = '\\';
        *p_++ = static_cast<char>(c);
        ++i;
      } else if (c < 0x80) {  // control characters and DEL
        Lit("\\u00");
        *p_++ = HexDigit(c >> 4);
        *p_++ = HexDigit(c);
        ++i;
      } else if (size_t n = Utf8Length(s, i); n > 0) {
        Raw(s.substr(i, n));
        i += n;
      } else {
        Lit("\\ufffd");
        ++i;
      }
    }
  }
  void StringOrNull(std::string_view v) {
    if (v.empty()) {
      Lit("null");
      return;
    }
    Char('"');
    Escaped(v);
    Char('"');
  }
  // "2026-12-04T03:10:00.123Z". The date part is cached per thread: gmtime_r once a second.
  void Time(int64_t unix_ms) {
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
    Char('"');
    Raw(std::string_view(cached, cached_len));
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + ms / 100);
    p_[2] = static_cast<char>('0' + ms / 10 % 10);
    p_[3] = static_cast<char>('0' + ms % 10);
    p_[4] = 'Z';
    p_[5] = '"';
    p_ += 6;
  }

 private:
  char* p_;
};

// Runs `write` on a Cursor over `room` bytes appended to `out`, then trims what it left.
template <typename Fn>
void AppendWith(std::string* out, size_t room, Fn&& write) {
  size_t old = out->size();
  out->resize(old + room);
  Cursor c(out->data() + old);
  write(c);
  out->resize(static_cast<size_t>(c.end() - out->data()));
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  AppendWith(out, Cursor::Room(s) + 2, [&](Cursor& c) {
    c.Char('"');
    c.Escaped(s);
    c.Char('"');
  });
}

void AppendJsonEscaped(std::string_view s, std::string* out) {
  AppendWith(out, Cursor::Room(s), [&](Cursor& c) { c.Escaped(s); });
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
  // Fixed text and numbers: well under 512 bytes; every string at most 6x its length.
  size_t room = 512 + Cursor::Room(r.client) + Cursor::Room(r.request_id) + Cursor::Room(r.proto) +
                Cursor::Room(r.method) + Cursor::Room(r.path) +
                kRedacted.size() * (r.path.size() / 2 + 1) + Cursor::Room(r.query) +
                Cursor::Room(r.cls) + Cursor::Room(r.rule) + Cursor::Room(r.node);
  AppendWith(out, room, [&](Cursor& c) {
    c.Lit("{\"time\":");
    c.Time(r.start_unix_ms);
    c.Lit(",\"client\":");
    c.StringOrNull(r.client);
    c.Lit(",\"request_id\":");
    c.StringOrNull(r.request_id);
    c.Lit(",\"proto\":");
    c.StringOrNull(r.proto);
    c.Lit(",\"method\":");
    c.StringOrNull(r.method);
    c.Lit(",\"path\":\"");
    bool first = true;
    ForEachPathSegment(r.path, [&](std::string_view seg, bool redact) {
      if (!first) c.Char('/');
      first = false;
      if (redact) {
        c.Raw(kRedacted);
      } else {
        c.Escaped(seg);
      }
    });
    char sep = '?';
    ForEachQueryName(r.query, [&](std::string_view name) {
      c.Char(sep);
      sep = '&';
      c.Escaped(name);
    });
    c.Lit("\",\"class\":");
    c.StringOrNull(r.cls);
    c.Lit(",\"rule\":");
    c.StringOrNull(r.rule);
    c.Lit(",\"node\":");
    c.StringOrNull(r.node);
    c.Lit(",\"upstream_status\":");
    if (r.upstream_status > 0) {
      c.Int(r.upstream_status);
    } else {
      c.Lit("null");
    }
    c.Lit(",\"status\":");
    c.Int(r.status);
    c.Lit(",\"request_bytes\":");
    c.Int(static_cast<int64_t>(r.request_bytes));
    c.Lit(",\"bytes\":");
    c.Int(static_cast<int64_t>(r.bytes));
    c.Lit(",\"duration_ms\":");
    c.Millis(r.duration_us);
    c.Lit(",\"retries\":");
    c.Int(r.retries);
    c.Lit(",\"held_ms\":");
    c.Millis(r.held_us);
    c.Lit("}\n");
  });
}

}  // namespace halo::router
