#include "kv/common.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "kv/json.h"

namespace halo::kv {

void RunKvWrite(Backend& backend, uint64_t epoch, KvTxnFn fn, SecretsEngine::DoneFn done) {
  struct State {
    http::Response response;
    bool decided = false;  // fn ran to a decision (commit or refusal)
    bool refused = false;
  };
  auto state = std::make_shared<State>();
  UpdateFn update = [state, fn = std::move(fn)](Txn& txn) -> Status {
    *state = State();
    Result<KvTxnResult> r = fn(txn);
    if (!r.ok()) return r.status();
    state->response = std::move(r->response);
    state->decided = true;
    if (!r->commit) {
      state->refused = true;
      return Status::InvalidArgument("kv: request refused; rolled back");
    }
    return Status::Ok();
  };
  backend.UpdateAsync(epoch, std::move(update), [state, done = std::move(done)](Status st) {
    if (state->refused) {
      done(std::move(state->response));
    } else if (st.ok() && state->decided) {
      done(std::move(state->response));
    } else if (st.ok() || st.IsConflict()) {
      // OK without a decision cannot happen; treat it as not applied.
      done(NotActive());
    } else if (st.code() == Status::Code::kInvalidArgument) {
      done(BadRequest(st.message()));
    } else {
      done(StorageFailure(st));  // kUnavailable: not applied, 503 marked not executed
    }
  });
}

std::vector<std::string> ListEntries(const std::vector<std::string>& keys, std::string_view prefix,
                                     bool recursive) {
  std::vector<std::string> out;
  for (const auto& key : keys) {
    if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0) continue;
    std::string_view rest = std::string_view(key).substr(prefix.size());
    if (!recursive) {
      size_t slash = rest.find('/');
      if (slash != std::string_view::npos) rest = rest.substr(0, slash + 1);
    }
    if (!out.empty() && out.back() == rest) continue;
    out.emplace_back(rest);
  }
  return out;
}

void PageEntries(std::vector<std::string>& entries, std::string_view after, int64_t limit) {
  if (!after.empty()) {
    auto it = std::upper_bound(entries.begin(), entries.end(), after,
                               [](std::string_view a, const std::string& e) { return a < e; });
    entries.erase(entries.begin(), it);
  }
  if (limit > 0 && static_cast<uint64_t>(limit) < entries.size()) entries.resize(limit);
}

bool CheckPatchContentType(std::string_view content_type, http::Response* error) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && std::isspace(static_cast<unsigned char>(media.front()))) {
    media.remove_prefix(1);
  }
  while (!media.empty() && std::isspace(static_cast<unsigned char>(media.back()))) {
    media.remove_suffix(1);
  }
  std::string lower(media);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty()) {
    *error = BadRequest("mime: no media type");
    return false;
  }
  if (lower.find('/') == std::string::npos) {
    *error = BadRequest("mime: expected slash after first token");
    return false;
  }
  if (lower != "application/merge-patch+json") {
    *error = ErrorResponse(
        415, {"PATCH requires Content-Type of application/merge-patch+json, provided " + lower});
    return false;
  }
  return true;
}

std::string IgnoredWarning(const std::vector<std::string>& names) {
  std::string out = "Endpoint ignored these unrecognized parameters: [";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ' ';
    out += names[i];
  }
  return out + "]";
}

std::string ReplacedWarning() {
  return "Endpoint replaced the value of these parameters with the values captured from the "
         "endpoint's path: [path]";
}

int64_t WallNanos(const Clock& clock) { return clock.WallMicros() * 1000; }

}  // namespace halo::kv
