#include "common/http/serializer.h"

#include <charconv>

#include "common/http/syntax.h"
#include "common/result.h"

namespace halo::http {
namespace {

bool IsWritableText(std::string_view s) {
  for (char c : s) {
    if (!IsFieldValueChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

bool IsFramingField(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding");
}

Status CheckFields(const Headers& headers) {
  for (Headers::Field f : headers) {
    if (!IsWritableField(f.name, f.value)) {
      return Status::InvalidArgument("refusing to write invalid header field '" +
                                     std::string(f.name.substr(0, 64)) + "'");
    }
  }
  return Status::Ok();
}

void AppendFields(std::string* out, const Headers& headers, bool skip_framing) {
  for (Headers::Field f : headers) {
    if (skip_framing && IsFramingField(f.name)) continue;
    out->append(f.name);
    out->append(": ", 2);
    out->append(f.value);
    out->append("\r\n", 2);
  }
}

Status AppendRequestStart(std::string* out, std::string_view method, std::string_view target,
                          const Headers& headers) {
  if (!IsToken(method)) return Status::InvalidArgument("invalid method");
  if (target.empty()) return Status::InvalidArgument("empty request-target");
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Status::InvalidArgument("invalid character in request-target");
    }
  }
  RETURN_IF_ERROR(CheckFields(headers));
  out->reserve(out->size() + method.size() + target.size() + headers.ByteSize() +
               4 * headers.size() + 64);
  out->append(method);
  out->push_back(' ');
  out->append(target);
  out->append(" HTTP/1.1\r\n", 11);
  return Status::Ok();
}

Status AppendResponseStart(std::string* out, int status, std::string_view reason,
                           const Headers& headers) {
  if (status < 100 || status > 999) return Status::InvalidArgument("invalid status code");
  if (reason.empty()) reason = ReasonPhrase(status);
  if (!IsWritableText(reason)) return Status::InvalidArgument("invalid reason phrase");
  RETURN_IF_ERROR(CheckFields(headers));
  out->reserve(out->size() + reason.size() + headers.ByteSize() + 4 * headers.size() + 64);
  out->append("HTTP/1.1 ", 9);
  AppendUint(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(reason);
  out->append("\r\n", 2);
  return Status::Ok();
}

bool BodylessMethod(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "DELETE" || m == "OPTIONS" || m == "LIST" ||
         m == "SCAN" || m == "TRACE";
}

}  // namespace

bool IsWritableField(std::string_view name, std::string_view value) {
  return IsToken(name) && IsWritableText(value);
}

Status AppendRequestHead(std::string* out, std::string_view method, std::string_view target,
                         const Headers& headers) {
  RETURN_IF_ERROR(AppendRequestStart(out, method, target, headers));
  AppendFields(out, headers, false);
  out->append("\r\n", 2);
  return Status::Ok();
}

Status AppendResponseHead(std::string* out, int status, std::string_view reason,
                          const Headers& headers) {
  RETURN_IF_ERROR(AppendResponseStart(out, status, reason, headers));
  AppendFields(out, headers, false);
  out->append("\r\n", 2);
  return Status::Ok();
}

Status AppendRequest(std::string* out, const Request& request) {
  RETURN_IF_ERROR(AppendRequestStart(out, request.method, request.target, request.headers));
  AppendFields(out, request.headers, true);
  if (!request.body.empty() || !BodylessMethod(request.method)) {
    out->append("Content-Length: ", 16);
    AppendUint(out, request.body.size());
    out->append("\r\n", 2);
  }
  out->append("\r\n", 2);
  out->append(request.body);
  return Status::Ok();
}

Status AppendResponse(std::string* out, const Response& response, bool head_only) {
  int s = response.status;
  bool no_body = (s >= 100 && s < 200) || s == 204 || s == 304;
  RETURN_IF_ERROR(AppendResponseStart(out, s, response.reason, response.headers));
  AppendFields(out, response.headers, !(s == 304 || (head_only && response.body.empty())));
  if (!no_body && !(head_only && response.body.empty())) {
    out->append("Content-Length: ", 16);
    AppendUint(out, response.body.size());
    out->append("\r\n", 2);
  }
  out->append("\r\n", 2);
  if (!no_body && !head_only) out->append(response.body);
  return Status::Ok();
}

void AppendChunkHeader(std::string* out, size_t size) {
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof(buf), size, 16);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
  out->append("\r\n", 2);
}

void AppendChunk(std::string* out, std::string_view data) {
  if (data.empty()) return;
  out->reserve(out->size() + data.size() + 24);
  AppendChunkHeader(out, data.size());
  out->append(data);
  out->append("\r\n", 2);
}

Status AppendLastChunk(std::string* out, const Headers& trailers) {
  RETURN_IF_ERROR(CheckFields(trailers));
  out->append("0\r\n", 3);
  AppendFields(out, trailers, false);
  out->append("\r\n", 2);
  return Status::Ok();
}

}  // namespace halo::http
