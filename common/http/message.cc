#include "common/http/message.h"

#include "common/http/url.h"

namespace halo::http {

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  return http::QueryParam(query, name);
}

bool Request::QueryFlag(std::string_view name) const { return http::QueryFlag(query, name); }

}  // namespace halo::http
