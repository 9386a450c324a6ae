// HTTP/1.1 serialization: request and response heads, whole messages, chunked encoding.
// Everything appends into a caller-owned std::string (reserve once, no per-header
// allocation). Every name, value, method, target and reason is checked before it is written:
// a CR, LF, NUL or other control character would let a generated header split the message
// (request smuggling via generated headers), so those calls fail with InvalidArgument and
// leave `out` as it was. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "common/http/message.h"
#include "common/status.h"

namespace halo::http {

// "METHOD target HTTP/1.1\r\n" + fields + "\r\n". The caller supplies framing headers.
Status AppendRequestHead(std::string* out, std::string_view method, std::string_view target,
                         const Headers& headers);
// "HTTP/1.1 status reason\r\n" + fields + "\r\n". Empty reason: the standard phrase.
Status AppendResponseHead(std::string* out, int status, std::string_view reason,
                          const Headers& headers);

// A whole request: its headers minus any Content-Length / Transfer-Encoding, then
// Content-Length for the body (omitted for an empty body of GET/HEAD/DELETE/OPTIONS/LIST/SCAN
// without one), then the body.
Status AppendRequest(std::string* out, const Request& request);
// A whole response with Content-Length framing (none for 1xx/204, and 304 keeps only what
// the caller set). With `head_only` (answering HEAD) the length of the body is announced but
// the body is not written.
Status AppendResponse(std::string* out, const Response& response, bool head_only = false);

// One chunk "<hex-size>\r\n<data>\r\n". Empty `data` writes nothing (an empty chunk would
// end the body).
void AppendChunk(std::string* out, std::string_view data);
// Just "<hex-size>\r\n", for writers that add the data and its CRLF without copying them.
void AppendChunkHeader(std::string* out, size_t size);
// "0\r\n" + trailer fields + "\r\n".
Status AppendLastChunk(std::string* out, const Headers& trailers = {});

// Whether a field can be written as is: token name, value without controls (HTAB allowed).
bool IsWritableField(std::string_view name, std::string_view value);

}  // namespace halo::http
