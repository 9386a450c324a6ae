#include "common/http/error_body.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace halo::http {
namespace {

template <class Messages>
std::string Render(const Messages& messages) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("errors");
  w.StartArray();
  for (std::string_view m : messages) {
    w.String(m.data(), static_cast<rapidjson::SizeType>(m.size()));
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string ErrorBody(std::string_view message) {
  const std::string_view one[] = {message};
  return Render(one);
}

std::string ErrorBody(const std::vector<std::string>& messages) { return Render(messages); }

}  // namespace halo::http
