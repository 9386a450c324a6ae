// Helpers for reading JSON config files with RapidJSON and reporting errors that name the
// offending key by its full path ("listener.tcp.address: expected a string").
//
// ConfigObject wraps one JSON object. Each getter reads one key if present (leaving the
// output untouched when absent, so callers preset defaults) and remembers that the key was
// known; Finish() then reports the first key nobody asked for, so a typo in a config file is
// a startup error rather than a silently ignored setting. Not thread-safe; the Document
// must outlive the ConfigObjects made from it.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace halo {

// Parses `text`; on error names `what` (usually the file path), the line and the column.
Result<rapidjson::Document> ParseJson(std::string_view text, std::string_view what);
// Reads a whole file into memory.
Result<std::string> ReadFileToString(const std::string& path);

class ConfigObject {
 public:
  // REQUIRES: `value` outlives this object. `path` is the dotted prefix for messages ("" at
  // the top level).
  ConfigObject(const rapidjson::Value& value, std::string path);

  // Fails unless the value given at construction is a JSON object.
  Status CheckIsObject() const;

  bool Has(std::string_view key) const;
  Status GetString(std::string_view key, std::string* out);
  Status GetBool(std::string_view key, bool* out);
  // Integers are range-checked: [min, max] inclusive.
  Status GetInt(std::string_view key, int64_t* out, int64_t min, int64_t max);
  // Durations accept an integer number of milliseconds or a string like "250ms", "2s", "1m".
  Status GetDurationMs(std::string_view key, int64_t* out_ms);
  // The same, as a Duration.
  Status GetDuration(std::string_view key, Duration* out);
  Status GetStringList(std::string_view key, std::vector<std::string>* out);
  // An object mapping string -> string.
  Status GetStringMap(std::string_view key, std::map<std::string, std::string>* out);
  // A nested object; kNotFound if absent.
  Result<ConfigObject> GetObject(std::string_view key);
  // Marks a key as known without reading it (for keys handled by someone else).
  void MarkKnown(std::string_view key);
  // The member names, in file order.
  std::vector<std::string> Keys() const;
  const rapidjson::Value& raw() const { return *value_; }
  // "<path>.<key>" (or "<key>" at top level).
  std::string KeyPath(std::string_view key) const;

  // Reports the first key present in the object that no getter asked for.
  Status Finish() const;

 private:
  const rapidjson::Value* Find(std::string_view key);

  const rapidjson::Value* value_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

// Parses "250ms", "2s", "1.5s", "1m", "1h" or a bare integer (milliseconds).
Result<int64_t> ParseDurationMs(std::string_view text);

}  // namespace halo
