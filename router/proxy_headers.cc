#include "router/proxy_headers.h"

#include "common/http/error_body.h"
#include "common/http/framing.h"
#include "common/http/syntax.h"

namespace halo::router {

using http::AppendField;
using http::AppendFraming;
using http::BodyFraming;
using http::ConnectionValue;
using http::EqualsIgnoreCase;
using http::IsHopByHop;

void AppendUpstreamRequestHead(const http::Request& req, std::string_view client_ip, bool https,
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
    if (f.name.size() == 6 && EqualsIgnoreCase(f.name, "expect")) continue;
    // The nodes' hop marker (node/forwarder.h): only a node may send it, never a client.
    if (f.name.size() == 16 && EqualsIgnoreCase(f.name, "x-halo-forwarded")) continue;
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
  if (https) {
    out->append("X-Forwarded-Proto: https\r\n", 26);
  } else {
    out->append("X-Forwarded-Proto: http\r\n", 25);
  }
  if (req.chunked) {
    AppendFraming(out, BodyFraming::kChunked, 0);
  } else if (req.content_length >= 0) {
    AppendFraming(out, BodyFraming::kLength, req.content_length);
  }
  out->append("\r\n", 2);
}

std::string ErrorsJson(std::string_view message) { return http::ErrorBody(message); }

}  // namespace halo::router
