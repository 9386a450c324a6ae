// JSON helpers shared by the KV engines: request-body parsing, Go-compatible output (object
// keys sorted as Go's encoding/json sorts map keys), JSON merge patch, and the OpenBao
// response shapes (success envelope, {"errors":[..]} bodies). All JSON goes through RapidJSON.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "common/http/url.h"
#include "common/result.h"
#include "kv/request.h"

namespace halo::kv {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// How deep request JSON may nest (objects and arrays); deeper bodies are refused, so that
// the recursive helpers below stay far from the stack's limit.
inline constexpr int kMaxJsonDepth = 256;
// RapidJSON flags for all parsing here: iterative (no recursion on untrusted input) and
// UTF-8 validated (invalid UTF-8 is refused rather than passed through).
inline constexpr unsigned kJsonParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Parses a request body the way OpenBao's HTTP layer does: an empty body (or `null`) is an
// empty object; anything that is not one JSON object (and nothing after it but whitespace),
// invalid UTF-8, or nesting deeper than kMaxJsonDepth is kInvalidArgument.
Result<rapidjson::Document> ParseJsonBody(std::string_view body);

// Parses JSON this engine stored itself (already checked when it was written).
Status ParseStoredJson(std::string_view text, rapidjson::Document* doc);

// The nesting depth of `value` (a scalar is 1), computed without recursion.
int JsonDepth(const rapidjson::Value& value);

// Builds the parameter object of a query-string request: each value a string, a name given
// more than once an array of strings.
rapidjson::Document QueryToJson(const http::QueryParams& query);

// Writes `value` compactly with every object's members sorted by name (bytewise); when a
// name repeats, the last one wins (as Go's decoder keeps the last).
void WriteSortedJson(const rapidjson::Value& value, JsonWriter& writer);
std::string SortedJson(const rapidjson::Value& value);

// The text of a JSON number as RapidJSON writes it ("12", "-3", "1.5").
std::string JsonNumberText(const rapidjson::Value& number);

// RFC 7396 JSON merge patch: applies `patch` to `target` in place.
void MergePatch(rapidjson::Value& target, const rapidjson::Value& patch,
                rapidjson::Document::AllocatorType& alloc);

// A random (version 4) UUID, for request_id.
std::string NewRequestId();

// go-multierror's text for a list of errors: "1 error occurred:\n\t* msg\n\n".
std::string MultiErrorText(const std::vector<std::string>& errors);

// The success envelope. `write_data` writes the value of "data" (call writer.Null() for
// none); `warnings` empty prints null.
std::string EnvelopeJson(const std::function<void(JsonWriter&)>& write_data,
                         const std::vector<std::string>& warnings, int64_t lease_duration = 0);

// Responses: every engine answer is built by JsonResponse (or NoBody), the one place that
// sets its headers (Cache-Control: no-store; Content-Type: application/json with a body).
http::Response JsonResponse(int status, std::string body);
http::Response ErrorResponse(int status, const std::vector<std::string>& errors);
inline http::Response BadRequest(std::string_view message) {
  return ErrorResponse(400, {std::string(message)});
}
// 404 {"errors":[]}: what OpenBao answers for a read or list that found nothing.
inline http::Response NotFound() { return ErrorResponse(404, {}); }
// 405 for an operation the path does not support.
http::Response UnsupportedOperation();
// 500 for a storage or decoding failure; the message goes in the body.
http::Response InternalError(std::string_view message);
// A storage failure `st`: 503 + Retry-After for kUnavailable (the engine could not be
// reached, so nothing was applied), marked not executed (common/http/retry_policy.h) so that
// the router may send it again; otherwise InternalError(`context` + st).
http::Response StorageFailure(const Status& st, std::string_view context = "");
// 503 {"errors":["node is not active"]}: a write refused for a stale fencing epoch.
http::Response NotActive();
// True for the answer NotActive() builds: the write did not happen and must not be
// acknowledged as done.
bool IsNotActive(const http::Response& response);
// A status with no body (204, or 404 the way OpenBao's RespondWithStatusCode(nil) sends it).
http::Response NoBody(int status);

}  // namespace halo::kv
