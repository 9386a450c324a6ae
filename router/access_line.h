// AccessRecord and AppendAccessLine: one request as the router's access log writes it, a
// JSON object on one line (router/access_log.h carries the lines to the file).
//
// {"time":"2026-12-04T03:10:00.123Z","client":"10.0.0.7:51234","request_id":"...",
//  "proto":"HTTP/1.1","method":"GET","path":"/v1/secret/data/app?version","class":"read",
//  "rule":"secret/*"|null,"node":"node2"|null,"upstream_status":200|null,"status":200,
//  "request_bytes":0,"bytes":312,"duration_ms":1.234,"retries":0,"held_ms":0}
//
// What never reaches the line: header values (X-Vault-Token, Authorization, cookies), the
// query's values (only its parameter names stay), and path segments that hold a token (see
// RedactedPath). Every string is escaped: control bytes and invalid UTF-8 cannot break the
// line or the JSON. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace halo::router {

struct AccessRecord {
  int64_t start_unix_ms = 0;    // wall clock at the request's start
  std::string_view client;      // "ip:port"
  std::string_view request_id;  // the client's X-Request-Id, or one the router made
  std::string_view proto;       // "HTTP/1.1", "HTTP/1.0", "HTTP/2"
  std::string_view method;
  std::string_view path;    // normalised path, no query
  std::string_view query;   // raw query (without '?'): only names are written
  std::string_view cls;     // "read" | "write"
  std::string_view rule;    // the deciding rule's path glob; empty: method default
  std::string_view node;    // empty: answered by the router itself
  int upstream_status = 0;  // 0: no node answered
  int status = 0;
  uint64_t request_bytes = 0;  // request body bytes received
  uint64_t bytes = 0;          // response body bytes sent
  int64_t duration_us = 0;
  int retries = 0;
  int64_t held_us = 0;
};

// Appends the record's JSON object and a '\n' to `out`.
void AppendAccessLine(const AccessRecord& r, std::string* out);

// `path` with every segment that carries a token replaced by "<redacted>": the rest of the
// path after auth/token/{lookup,renew,revoke,revoke-orphan}/, and any segment shaped like an
// OpenBao/Vault token (hvs./hvb./hvr./s./b./r. followed by at least 20 characters).
std::string RedactedPath(std::string_view path);

// "a=1&b=&c" -> "a&b&c": parameter names only, in order.
std::string QueryNames(std::string_view query);

// JSON string escaping of arbitrary bytes (quotes included): valid UTF-8 passes through,
// control characters become \u00XX, invalid bytes U+FFFD.
void AppendJsonString(std::string_view s, std::string* out);
// The same without the quotes.
void AppendJsonEscaped(std::string_view s, std::string* out);

}  // namespace halo::router
