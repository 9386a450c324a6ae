// Headers: an ordered list of HTTP header fields that keeps each name's original case and
// looks names up case-insensitively. Duplicates are kept in order (Set-Cookie, repeated
// X-Forwarded-For...). Storage is one byte arena plus a small index, so adding a field does
// not allocate per field.
//
// Every string_view returned (Get, GetAll, iteration) points into the arena and is
// invalidated by the next mutation of this object. Not thread-safe; a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::http {

class Headers {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
  };

  class Iterator {
   public:
    Iterator(const Headers* h, size_t i) : h_(h), i_(i) {}
    Field operator*() const { return h_->at(i_); }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    const Headers* h_;
    size_t i_;
  };

  Headers() = default;
  Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

  // Appends a field (no validation here; the serializer validates before writing).
  void Add(std::string_view name, std::string_view value);
  // Replaces every field named `name` by one field with `value`, at the position of the
  // first one (or at the end if there was none).
  void Set(std::string_view name, std::string_view value);
  // Removes every field named `name`; returns how many were removed.
  size_t Remove(std::string_view name);
  void Clear();

  // The first value for `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  // Every value for `name`, in order.
  std::vector<std::string_view> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name, 0) != kNpos; }
  size_t Count(std::string_view name) const;

  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  // REQUIRES: i < size().
  Field at(size_t i) const;
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, index_.size()); }

  // Sum of name and value bytes over all fields (a cheap size estimate for serializing).
  size_t ByteSize() const { return live_bytes_; }

  // Same fields in the same order with byte-identical names and values.
  bool operator==(const Headers& other) const;

 private:
  struct Entry {
    uint32_t name_off;
    uint32_t name_len;
    uint32_t value_off;
    uint32_t value_len;
  };
  static constexpr size_t kNpos = static_cast<size_t>(-1);

  size_t Find(std::string_view name, size_t from) const;
  std::string_view Name(const Entry& e) const { return {arena_.data() + e.name_off, e.name_len}; }
  std::string_view Value(const Entry& e) const {
    return {arena_.data() + e.value_off, e.value_len};
  }
  Entry Append(std::string_view name, std::string_view value);
  void MaybeCompact();

  std::string arena_;
  std::vector<Entry> index_;
  size_t live_bytes_ = 0;
};

}  // namespace halo::http
