// KvFields: the typed view of a request's parameters, as OpenBao's framework.FieldData.
//
// A path declares a schema (name -> type). Validate() checks every schema field present in
// the input with the framework's weak decoding (a number may come as a string, "true" is a
// bool, a comma list is an int slice, ...), and the getters then return the decoded values.
// Input keys outside the schema are reported by Ignored(), which the engines turn into
// OpenBao's "Endpoint ignored these unrecognized parameters" warning. A JSON null counts as
// absent.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace halo::kv {

enum class FieldType {
  kString,
  kInt,
  kBool,
  kMap,                   // a JSON object
  kCommaIntSlice,         // [1,2], "1,2", 3, ["1","2"]
  kDurationSecond,        // seconds >= 0: 90, "90", "1m30s", "2d"
  kSignedDurationSecond,  // the same, negative allowed
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
};

// Weak decoders (mapstructure.WeakDecode-like); kInvalidArgument says why.
Result<int64_t> WeakInt(const rapidjson::Value& v);
Result<bool> WeakBool(const rapidjson::Value& v);
Result<std::string> WeakString(const rapidjson::Value& v);
Result<std::vector<int64_t>> WeakIntSlice(const rapidjson::Value& v);
Result<int64_t> WeakDurationSecond(const rapidjson::Value& v, bool allow_negative);

class KvFields {
 public:
  // REQUIRES: `input` is an object and outlives this.
  KvFields(const rapidjson::Value& input, std::vector<FieldSpec> schema);

  // "Field validation failed: error converting input <v> for field "<name>": <why>" for the
  // first bad field.
  Status Validate() const;
  // Input keys not in the schema, sorted.
  std::vector<std::string> Ignored() const;

  // Present and not null.
  bool Has(std::string_view name) const;
  // The raw value, or nullptr when absent or null.
  const rapidjson::Value* Raw(std::string_view name) const;

  // REQUIRES: Validate() was OK. Absent fields give the zero value.
  int64_t Int(std::string_view name) const;
  bool Bool(std::string_view name) const;
  std::string String(std::string_view name) const;
  std::vector<int64_t> IntSlice(std::string_view name) const;
  int64_t DurationSeconds(std::string_view name) const;

 private:
  const FieldSpec* Spec(std::string_view name) const;

  const rapidjson::Value* input_;
  std::vector<FieldSpec> schema_;
};

}  // namespace halo::kv
