// Pieces shared by the KV v1 and v2 engines: running a write in a fenced backend
// transaction without blocking, folding a recursive key listing into one directory level,
// the PATCH Content-Type check, and the framework's warning texts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "kv/request.h"
#include "storage/backend.h"

namespace halo::kv {

// The storage types the engines are written against.
using storage::Backend;
using storage::Txn;
using storage::UpdateFn;

// Options common to both engines.
struct KvEngineOptions {
  Backend* backend = nullptr;  // not owned; must outlive the engine and its pending writes
  // Prefix of every storage key the engine touches, e.g. "kv2/secret/". Distinct mounts need
  // prefixes where neither is a prefix of the other.
  std::string storage_prefix;
  Clock* clock = nullptr;  // RealClock() when null; WallMicros() stamps versions
};

// What a write's transaction function decided.
struct KvTxnResult {
  http::Response response;
  // false: the request was refused (400, 404, ...); any writes are rolled back and only the
  // response is sent. true: commit, then send the response once the commit is durable.
  bool commit = true;
};
using KvTxnFn = std::function<Result<KvTxnResult>(Txn& txn)>;

// Runs `fn` through backend.UpdateAsync fenced by `epoch` and calls `done` with the outcome,
// on the backend's thread: fn's response after a commit or a refusal; NotActive() (503) when
// the backend refuses the epoch (kConflict); 400 for a key the backend rejects
// (kInvalidArgument); 500 for any other failure. `fn` may run more than once.
void RunKvWrite(Backend& backend, uint64_t epoch, KvTxnFn fn, SecretsEngine::DoneFn done);

// Folds `keys` (full storage keys, sorted, all starting with `prefix`) into the entries of
// one directory level below `prefix`: "a" for a key, "a/" (once) for anything deeper. With
// `recursive`, every key below prefix, relative to it. The key equal to `prefix` is skipped.
std::vector<std::string> ListEntries(const std::vector<std::string>& keys, std::string_view prefix,
                                     bool recursive);

// Keeps the entries after `after` (not required to exist) and at most `limit` (> 0) of them.
void PageEntries(std::vector<std::string>& entries, std::string_view after, int64_t limit);

// The PATCH Content-Type check of OpenBao's HTTP layer: true when the media type is
// application/merge-patch+json, else false with *error set to 400 (unparsable) or 415.
bool CheckPatchContentType(std::string_view content_type, http::Response* error);

// "Endpoint ignored these unrecognized parameters: [a b]".
std::string IgnoredWarning(const std::vector<std::string>& names);
// "Endpoint replaced the value of these parameters with the values captured from the
// endpoint's path: [path]".
std::string ReplacedWarning();

// Unix nanoseconds from clock.WallMicros().
int64_t WallNanos(const Clock& clock);

}  // namespace halo::kv
