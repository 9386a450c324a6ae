#include "common/http/headers.h"

#include "common/http/syntax.h"

namespace halo::http {

Headers::Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  for (const auto& [name, value] : fields) Add(name, value);
}

Headers::Entry Headers::Append(std::string_view name, std::string_view value) {
  Entry e;
  e.name_off = static_cast<uint32_t>(arena_.size());
  e.name_len = static_cast<uint32_t>(name.size());
  arena_.append(name);
  e.value_off = static_cast<uint32_t>(arena_.size());
  e.value_len = static_cast<uint32_t>(value.size());
  arena_.append(value);
  live_bytes_ += name.size() + value.size();
  return e;
}

void Headers::Add(std::string_view name, std::string_view value) {
  index_.push_back(Append(name, value));
}

void Headers::Set(std::string_view name, std::string_view value) {
  size_t first = Find(name, 0);
  if (first == kNpos) {
    Add(name, value);
    return;
  }
  // Copy the original-case name before the arena may move.
  std::string kept_name(Name(index_[first]));
  live_bytes_ -= index_[first].name_len + index_[first].value_len;
  index_[first] = Append(kept_name, value);
  size_t out = first + 1;
  for (size_t i = first + 1; i < index_.size(); ++i) {
    if (EqualsIgnoreCase(Name(index_[i]), name)) {
      live_bytes_ -= index_[i].name_len + index_[i].value_len;
      continue;
    }
    index_[out++] = index_[i];
  }
  index_.resize(out);
  MaybeCompact();
}

size_t Headers::Remove(std::string_view name) {
  size_t out = 0;
  for (size_t i = 0; i < index_.size(); ++i) {
    if (EqualsIgnoreCase(Name(index_[i]), name)) {
      live_bytes_ -= index_[i].name_len + index_[i].value_len;
      continue;
    }
    index_[out++] = index_[i];
  }
  size_t removed = index_.size() - out;
  index_.resize(out);
  MaybeCompact();
  return removed;
}

void Headers::Clear() {
  arena_.clear();
  index_.clear();
  live_bytes_ = 0;
}

void Headers::MaybeCompact() {
  // Rebuild when more than half of the arena is garbage from Set/Remove.
  if (arena_.size() < 256 || live_bytes_ * 2 > arena_.size()) return;
  std::string old;
  old.swap(arena_);
  arena_.reserve(live_bytes_);
  for (Entry& e : index_) {
    std::string_view n(old.data() + e.name_off, e.name_len);
    std::string_view v(old.data() + e.value_off, e.value_len);
    live_bytes_ -= n.size() + v.size();
    e = Append(n, v);
  }
}

size_t Headers::Find(std::string_view name, size_t from) const {
  for (size_t i = from; i < index_.size(); ++i) {
    if (EqualsIgnoreCase(Name(index_[i]), name)) return i;
  }
  return kNpos;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  size_t i = Find(name, 0);
  if (i == kNpos) return std::nullopt;
  return Value(index_[i]);
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Entry& e : index_) {
    if (EqualsIgnoreCase(Name(e), name)) out.push_back(Value(e));
  }
  return out;
}

size_t Headers::Count(std::string_view name) const {
  size_t n = 0;
  for (const Entry& e : index_) {
    if (EqualsIgnoreCase(Name(e), name)) ++n;
  }
  return n;
}

Headers::Field Headers::at(size_t i) const { return Field{Name(index_[i]), Value(index_[i])}; }

bool Headers::operator==(const Headers& other) const {
  if (size() != other.size()) return false;
  for (size_t i = 0; i < size(); ++i) {
    Field a = at(i);
    Field b = other.at(i);
    if (a.name != b.name || a.value != b.value) return false;
  }
  return true;
}

}  // namespace halo::http
