#include "common/http/framing.h"

#include <charconv>

#include "common/http/syntax.h"

namespace halo::http {
namespace {

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out->append(buf, end);
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

}  // namespace

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ", 2);
  out->append(value);
  out->append("\r\n", 2);
}

std::string_view ConnectionValue(const Headers& h, std::string* joined) {
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

bool IsHopByHop(std::string_view name, std::string_view connection_value) {
  if (IsFixedHopByHop(name)) return true;
  if (connection_value.empty()) return false;
  return ListContainsToken(connection_value, name);
}

Headers EndToEndHeaders(const Headers& in) {
  std::string joined;
  std::string_view conn = ConnectionValue(in, &joined);
  Headers out;
  for (Headers::Field f : in) {
    if (!IsHopByHop(f.name, conn)) out.Add(f.name, f.value);
  }
  return out;
}

BodyFraming ClientFraming(const Response& resp, std::string_view request_method, int client_minor) {
  if (request_method == "HEAD" || resp.status == 204 || resp.status == 304 || resp.status < 200) {
    return BodyFraming::kNone;
  }
  if (resp.chunked) return client_minor >= 1 ? BodyFraming::kChunked : BodyFraming::kCloseDelimited;
  if (resp.content_length >= 0) return BodyFraming::kLength;
  return client_minor >= 1 ? BodyFraming::kChunked : BodyFraming::kCloseDelimited;
}

void AppendClientResponseHead(const Response& resp, BodyFraming framing, bool keep_alive,
                              std::string* out, int client_minor) {
  out->append("HTTP/1.1 ", 9);
  AppendUint(out, static_cast<uint64_t>(resp.status));
  out->push_back(' ');
  if (!resp.reason.empty()) {
    out->append(resp.reason);
  } else {
    out->append(ReasonPhrase(resp.status));
  }
  out->append("\r\n", 2);
  std::string joined;
  std::string_view conn = ConnectionValue(resp.headers, &joined);
  for (Headers::Field f : resp.headers) {
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
  } else if (client_minor == 0) {
    out->append("Connection: keep-alive\r\n", 24);
  }
  out->append("\r\n", 2);
}

void AppendLocalResponse(int status, std::string_view content_type, std::string_view body,
                         bool keep_alive, std::string_view extra_name, std::string_view extra_value,
                         std::string* out, bool head_only, int client_minor) {
  out->append("HTTP/1.1 ", 9);
  AppendUint(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(ReasonPhrase(status));
  out->append("\r\n", 2);
  if (!extra_name.empty()) AppendField(out, extra_name, extra_value);
  if (!content_type.empty()) AppendField(out, "Content-Type", content_type);
  out->append("Cache-Control: no-store\r\n", 25);
  out->append("Content-Length: ", 16);
  AppendUint(out, body.size());
  out->append("\r\n", 2);
  if (!keep_alive) {
    out->append("Connection: close\r\n", 19);
  } else if (client_minor == 0) {
    out->append("Connection: keep-alive\r\n", 24);
  }
  out->append("\r\n", 2);
  if (!head_only) out->append(body);
}

}  // namespace halo::http
