#include "common/http/error_body.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace halo::http {
namespace {

template <typename It>
std::string Render(It begin, It end) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("errors");
  w.StartArray();
  for (It it = begin; it != end; ++it) {
    std::string_view m = *it;
    w.String(m.data(), static_cast<rapidjson::SizeType>(m.size()));
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string ErrorBody(std::string_view message) { return Render(&message, &message + 1); }

std::string ErrorBody(const std::vector<std::string>& messages) {
  return Render(messages.begin(), messages.end());
}

}  // namespace halo::http
