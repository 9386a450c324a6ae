// Fuzz target: the JSON config reader must never crash on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/json_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  halo::Result<rapidjson::Document> doc = halo::ParseJson(text, "fuzz");
  if (!doc.ok()) return 0;
  halo::ConfigObject top(*doc, "");
  std::string s;
  int64_t n = 0;
  bool b = false;
  (void)top.GetString("api_addr", &s);
  (void)top.GetInt("workers", &n, 0, 64);
  (void)top.GetBool("disable_standby_reads", &b);
  (void)top.GetDurationMs("ttl", &n);
  halo::Result<halo::ConfigObject> l = top.GetObject("listener");
  if (l.ok()) (void)l->Finish();
  (void)top.Finish();
  return 0;
}
