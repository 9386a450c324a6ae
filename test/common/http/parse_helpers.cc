#include "test/common/http/parse_helpers.h"

#include <doctest/doctest.h>

#include "common/http/request_parser.h"
#include "common/http/response_parser.h"

namespace halo::http::testing {
namespace {

std::vector<std::string_view> Cut(std::string_view input, const std::vector<size_t>& splits) {
  std::vector<std::string_view> pieces;
  size_t prev = 0;
  for (size_t s : splits) {
    if (s < prev || s > input.size()) continue;
    pieces.push_back(input.substr(prev, s - prev));
    prev = s;
  }
  pieces.push_back(input.substr(prev));
  return pieces;
}

template <class Parser, class Out, class Take, class Before>
void Run(Parser& parser, const std::vector<std::string_view>& pieces, bool eof, Out* out, Take take,
         Before before) {
  std::string buffer;
  before(out);
  for (std::string_view piece : pieces) {
    buffer.append(piece);
    while (!buffer.empty()) {
      ParseProgress p = parser.Feed(buffer);
      buffer.erase(0, p.consumed);
      if (p.state == ParseState::kError) {
        out->error = true;
        out->http_status = parser.error().http_status;
        out->message = parser.error().status.message();
        return;
      }
      if (p.state == ParseState::kNeedMore) break;
      take(out);
      before(out);
    }
  }
  if (!eof) return;
  ParseProgress p = parser.FeedEof();
  if (p.state == ParseState::kError) {
    out->error = true;
    out->http_status = parser.error().http_status;
    out->message = parser.error().status.message();
  } else if (p.state == ParseState::kMessageComplete) {
    take(out);
  }
}

std::string DescribeMessage(const Message& m) {
  std::string s = " v" + std::to_string(m.version_major) + "." + std::to_string(m.version_minor);
  s += " [";
  for (Headers::Field f : m.headers) s += std::string(f.name) + "=" + std::string(f.value) + ";";
  s += "] {";
  for (Headers::Field f : m.trailers) s += std::string(f.name) + "=" + std::string(f.value) + ";";
  s += "} body=" + m.body + (m.keep_alive ? " ka" : " close");
  return s;
}

}  // namespace

ParsedRequests ParseRequests(std::string_view input, const std::vector<size_t>& splits,
                             const ParserOptions& options, bool eof) {
  ParsedRequests out;
  RequestParser parser(options);
  Run(
      parser, Cut(input, splits), eof, &out,
      [&](ParsedRequests* o) { o->requests.push_back(parser.TakeRequest()); }, [](auto*) {});
  if (eof && !out.error) out.eof_clean = parser.idle();
  return out;
}

ParsedRequests ParseRequestsBytewise(std::string_view input, const ParserOptions& options) {
  std::vector<size_t> splits;
  for (size_t i = 1; i < input.size(); ++i) splits.push_back(i);
  return ParseRequests(input, splits, options);
}

ParsedResponses ParseResponses(std::string_view input, const std::vector<size_t>& splits,
                               const std::vector<std::string>& methods, bool eof,
                               const ParserOptions& options) {
  ParsedResponses out;
  ResponseParser parser(options);
  Run(
      parser, Cut(input, splits), eof, &out,
      [&](ParsedResponses* o) { o->responses.push_back(parser.TakeResponse()); },
      [&](ParsedResponses* o) {
        size_t i = o->responses.size();
        parser.SetRequestMethod(i < methods.size() ? methods[i] : "GET");
      });
  return out;
}

std::string Describe(const ParsedRequests& p) {
  std::string s;
  for (const Request& r : p.requests) {
    s += r.method + " " + r.target + " path=" + r.path + " q=" + r.query + DescribeMessage(r) + "|";
  }
  if (p.error) s += "ERROR " + std::to_string(p.http_status) + " " + p.message;
  return s;
}

std::string Describe(const ParsedResponses& p) {
  std::string s;
  for (const Response& r : p.responses) {
    s += std::to_string(r.status) + " " + r.reason + DescribeMessage(r) + "|";
  }
  if (p.error) s += "ERROR " + std::to_string(p.http_status) + " " + p.message;
  return s;
}

void CheckRequestsAtEverySplit(std::string_view input) {
  const std::string whole = Describe(ParseRequests(input));
  for (size_t i = 0; i <= input.size(); ++i) {
    CAPTURE(i);
    REQUIRE(Describe(ParseRequests(input, {i})) == whole);
  }
  CHECK(Describe(ParseRequestsBytewise(input)) == whole);
}

void CheckResponsesAtEverySplit(std::string_view input) {
  const std::string whole = Describe(ParseResponses(input));
  for (size_t i = 0; i <= input.size(); ++i) {
    CAPTURE(i);
    REQUIRE(Describe(ParseResponses(input, {i})) == whole);
  }
  std::vector<size_t> all;
  for (size_t i = 1; i < input.size(); ++i) all.push_back(i);
  CHECK(Describe(ParseResponses(input, all)) == whole);
}

}  // namespace halo::http::testing
