// Fuzz target: the router's access line (router/access_line.h) over client-controlled bytes.
// The method, path, query and request id come from the request; the line must stay one valid
// JSON object on one line, whatever they hold, and never write past the room it reserved
// (ASan in `make asan` and `make fuzz`). Input: fields separated by 0xFF bytes, in order
// method, path, query, request_id, node; missing fields stay empty.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "router/access_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (f.size() < 5) {
    size_t sep = in.find('\xff', pos);
    f.push_back(in.substr(pos, sep == std::string_view::npos ? std::string_view::npos : sep - pos));
    if (sep == std::string_view::npos) break;
    pos = sep + 1;
  }
  f.resize(5);
  halo::router::AccessRecord r;
  r.start_unix_ms = size > 8 ? static_cast<int64_t>(data[0]) << 32 : 1796353800123;
  r.client = "192.0.2.1:1234";
  r.method = f[0];
  r.path = f[1];
  r.query = f[2];
  r.request_id = f[3];
  r.node = f[4];
  r.cls = "read";
  r.status = 200;
  r.duration_us = static_cast<int64_t>(size) * 1000;
  std::string line;
  halo::router::AppendAccessLine(r, &line);
  HALO_CHECK(!line.empty() && line.back() == '\n', "a line ends with a newline");
  HALO_CHECK(line.find('\n') == line.size() - 1, "one line only");
  rapidjson::Document d;
  d.Parse(line.c_str(), line.size() - 1);
  HALO_CHECK(!d.HasParseError() && d.IsObject(), "the line is one JSON object");
  HALO_CHECK(d.HasMember("path") && d["path"].IsString(), "the path is a string");
  std::string_view path(d["path"].GetString(), d["path"].GetStringLength());
  HALO_CHECK(path.find('=') == std::string_view::npos || f[1].find('=') != std::string_view::npos,
             "no query value reaches the line");
  return 0;
}
