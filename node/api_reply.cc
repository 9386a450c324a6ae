#include "node/api_reply.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace halo::node {

ApiReply ErrorReply(int status, const std::vector<std::string>& errors) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("errors");
  w.StartArray();
  for (const std::string& e : errors) {
    w.String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
  }
  w.EndArray();
  w.EndObject();
  ApiReply reply;
  reply.status = status;
  reply.body.assign(buf.GetString(), buf.GetSize());
  reply.body.push_back('\n');
  return reply;
}

ApiReply JsonReply(int status, std::string body) {
  ApiReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

ApiReply PermissionDenied() { return ErrorReply(403, "permission denied"); }

ApiReply MethodNotAllowed() { return ErrorReply(405, std::vector<std::string>{}); }

ApiReply NoHandler(std::string_view path) {
  return ErrorReply(404,
                    "no handler for route \"" + std::string(path) + "\". route entry not found.");
}

ApiReply NoActiveNode() { return ErrorReply(503, "no active node found"); }

ApiReply Redirect(std::string_view location) {
  ApiReply reply;
  reply.status = 307;
  reply.headers.emplace_back("Location", std::string(location));
  return reply;
}

}  // namespace halo::node
