#include "router/proxy_headers.h"

#include <charconv>

#include "common/http/error_body.h"
#include "common/http/syntax.h"

namespace halo::router {
namespace {

using http::EqualsIgnoreCase;

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out->append(buf, end);
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ", 2);
  out->append(value);
  out->append("\r\n", 2);
}

bool IsFixedHopByHop(std::string_view n) {
  switch (n.size()) {
    case 2:
      return EqualsIgnoreCase(n, "te");
    case 7:
      return EqualsIgnoreCase(n, "trailer") || EqualsIgnoreCase(n, "upgrade");
    case 10:
      return EqualsIgnoreCase(n, "connection") || EqualsIgnoreCase(n, "keep-alive");
    case 14:
      return EqualsIgnoreCase(n, "content-length");
    case 16:
      return EqualsIgnoreCase(n, "proxy-connection");
    case 17:
      return EqualsIgnoreCase(n, "transfer-encoding");
    default:
      return false;
  }
}

std::string_view ConnectionValue(const http::Headers& h, std::string* joined) {
  size_t n = h.Count("connection");
  if (n == 0) return {};
  if (n == 1) return *h.Get("connection");
  joined->clear();
  for (std::string_view v : h.GetAll("connection")) {
    if (!joined->empty()) joined->push_back(',');
    joined->append(v);
  }
  return *joined;
}

void AppendFraming(std::string* out, BodyFraming framing, int64_t length) {
  if (framing == BodyFraming::kLength) {
    out->append("Content-Length: ", 16);
    AppendUint(out, static_cast<uint64_t>(length < 0 ? 0 : length));
    out->append("\r\n", 2);
  } else if (framing == BodyFraming::kChunked) {
    out->append("Transfer-Encoding: chunked\r\n", 28);
  }
}

}  // namespace

bool IsHopByHop(std::string_view name, std::string_view connection_value) {
  if (IsFixedHopByHop(name)) return true;
  if (connection_value.empty()) return false;
  return http::ListContainsToken(connection_value, name);
}

void AppendUpstreamRequestHead(const http::Request& req, std::string_view client_ip,
                               std::string_view default_host, std::string* out) {
  out->append(req.method);
  out->push_back(' ');
  out->append(req.target);
  out->append(" HTTP/1.1\r\n", 11);
  std::string joined;
  std::string_view conn = ConnectionValue(req.headers, &joined);
  bool has_host = false;
  bool wrote_xff = false;
  for (http::Headers::Field f : req.headers) {
    if (IsHopByHop(f.name, conn)) continue;
    if (f.name.size() == 17 && EqualsIgnoreCase(f.name, "x-forwarded-proto")) continue;
    if (f.name.size() == 15 && EqualsIgnoreCase(f.name, "x-forwarded-for")) {
      if (wrote_xff) continue;
      // Merge every X-Forwarded-For line into one list, then append the client.
      out->append("X-Forwarded-For: ", 17);
      bool first = true;
      for (std::string_view v : req.headers.GetAll("x-forwarded-for")) {
        if (v.empty()) continue;
        if (!first) out->append(", ", 2);
        out->append(v);
        first = false;
      }
      if (!first) out->append(", ", 2);
      out->append(client_ip);
      out->append("\r\n", 2);
      wrote_xff = true;
      continue;
    }
    if (f.name.size() == 4 && EqualsIgnoreCase(f.name, "host")) has_host = true;
    AppendField(out, f.name, f.value);
  }
  if (!has_host && !default_host.empty()) AppendField(out, "Host", default_host);
  if (!wrote_xff) AppendField(out, "X-Forwarded-For", client_ip);
  out->append("X-Forwarded-Proto: http\r\n", 25);
  if (req.chunked) {
    AppendFraming(out, BodyFraming::kChunked, 0);
  } else if (req.content_length >= 0) {
    AppendFraming(out, BodyFraming::kLength, req.content_length);
  }
  out->append("\r\n", 2);
}

BodyFraming ClientFraming(const http::Response& resp, std::string_view request_method,
                          int client_minor) {
  if (request_method == "HEAD" || resp.status == 204 || resp.status == 304 || resp.status < 200) {
    return BodyFraming::kNone;
  }
  if (resp.chunked) return client_minor >= 1 ? BodyFraming::kChunked : BodyFraming::kCloseDelimited;
  if (resp.content_length >= 0) return BodyFraming::kLength;
  return client_minor >= 1 ? BodyFraming::kChunked : BodyFraming::kCloseDelimited;
}

void AppendClientResponseHead(const http::Response& resp, BodyFraming framing, bool keep_alive,
                              std::string* out) {
  out->append("HTTP/1.1 ", 9);
  AppendUint(out, static_cast<uint64_t>(resp.status));
  out->push_back(' ');
  if (!resp.reason.empty()) {
    out->append(resp.reason);
  } else {
    out->append(http::ReasonPhrase(resp.status));
  }
  out->append("\r\n", 2);
  std::string joined;
  std::string_view conn = ConnectionValue(resp.headers, &joined);
  for (http::Headers::Field f : resp.headers) {
    if (framing == BodyFraming::kNone && f.name.size() == 14 &&
        EqualsIgnoreCase(f.name, "content-length")) {
      AppendField(out, f.name, f.value);  // HEAD / 304 keep the length they announce
      continue;
    }
    if (IsHopByHop(f.name, conn)) continue;
    AppendField(out, f.name, f.value);
  }
  AppendFraming(out, framing, resp.content_length);
  if (!keep_alive || framing == BodyFraming::kCloseDelimited) {
    out->append("Connection: close\r\n", 19);
  }
  out->append("\r\n", 2);
}

void AppendLocalResponse(int status, std::string_view content_type, std::string_view body,
                         bool keep_alive, std::string_view extra_name, std::string_view extra_value,
                         std::string* out, bool head_only) {
  out->append("HTTP/1.1 ", 9);
  AppendUint(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(http::ReasonPhrase(status));
  out->append("\r\n", 2);
  if (!extra_name.empty()) AppendField(out, extra_name, extra_value);
  if (!content_type.empty()) AppendField(out, "Content-Type", content_type);
  out->append("Cache-Control: no-store\r\n", 25);
  out->append("Content-Length: ", 16);
  AppendUint(out, body.size());
  out->append("\r\n", 2);
  if (!keep_alive) out->append("Connection: close\r\n", 19);
  out->append("\r\n", 2);
  if (!head_only) out->append(body);
}

std::string ErrorsJson(std::string_view message) { return http::ErrorBody(message); }

}  // namespace halo::router
