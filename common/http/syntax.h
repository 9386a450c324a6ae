// HTTP/1.1 syntax helpers (RFC 9110 / RFC 9112): character classes, token and field checks,
// case-insensitive comparison, list splitting and Content-Length parsing. Pure functions, no
// allocation, safe from any thread. Used by the parser's strictness layer and by the
// serializer to refuse header values that would break framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace halo::http {

namespace detail {
struct CharTables {
  bool token[256];        // tchar
  bool field_value[256];  // field-vchar / SP / HTAB / obs-text
  bool target[256];       // visible ASCII (0x21-0x7E)
};
constexpr CharTables MakeCharTables() {
  CharTables t{};
  for (int c = '0'; c <= '9'; ++c) t.token[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t.token[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t.token[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t.token[static_cast<unsigned char>(c)] = true;
  t.field_value[0x09] = true;  // HTAB
  for (int c = 0x20; c <= 0x7e; ++c) t.field_value[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) t.field_value[c] = true;
  for (int c = 0x21; c <= 0x7e; ++c) t.target[c] = true;
  return t;
}
inline constexpr CharTables kCharTables = MakeCharTables();
}  // namespace detail

// tchar: "!#$%&'*+-.^_`|~" / DIGIT / ALPHA.
inline bool IsTokenChar(unsigned char c) { return detail::kCharTables.token[c]; }
// field-vchar / SP / HTAB, obs-text (0x80-0xFF) included; CTLs (NUL, CR, LF, DEL...) excluded.
inline bool IsFieldValueChar(unsigned char c) { return detail::kCharTables.field_value[c]; }

// A non-empty run of tchar (method names, header names, transfer codings).
bool IsToken(std::string_view s);
// A field value that can be written on the wire as is: IsFieldValueChar throughout and no
// leading or trailing SP/HTAB.
bool IsValidFieldValue(std::string_view s);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
char AsciiLower(char c);

// Removes leading and trailing SP/HTAB (OWS).
std::string_view TrimOws(std::string_view s);

// Calls fn(element) for each non-empty OWS-trimmed element of a comma-separated list.
// Returns false (stopping early) as soon as fn returns false.
template <class Fn>
bool ForEachListElement(std::string_view list, Fn&& fn) {
  while (true) {
    size_t comma = list.find(',');
    std::string_view element = TrimOws(list.substr(0, comma));
    if (!element.empty() && !fn(element)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// True if the comma-separated `list` contains `token` (case-insensitive), e.g. "close" in
// a Connection header value.
bool ListContainsToken(std::string_view list, std::string_view token);

// Content-Length = 1*DIGIT (after OWS trim), at most 18 digits. False on anything else
// (signs, commas, spaces inside, overflow).
bool ParseContentLength(std::string_view s, uint64_t* out);

// The standard reason phrase for `status` ("OK", "Not Found"...), or "" if unknown.
std::string_view ReasonPhrase(int status);

}  // namespace halo::http
