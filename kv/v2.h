// KV v2: OpenBao's versioned key/value secrets engine (builtin/logical/kv, version 2) over a
// storage Backend. Paths below the mount:
//
//   config                 GET, POST/PUT        max_versions, cas_required,
//                                               metadata_cas_required, delete_version_after
//   data/<path>            GET [?version=N], POST/PUT {"data":{..},"options":{"cas":N}},
//                          PATCH (merge patch of data), DELETE (soft-deletes the latest)
//   metadata/<path>        GET, POST/PUT, PATCH (optionally with metadata_cas),
//                          DELETE (everything), LIST/SCAN of a folder
//   detailed-metadata/<p>  LIST/SCAN with key_info
//   delete/<path>          POST/PUT {"versions":[..]}   soft-delete versions
//   undelete/<path>        POST/PUT {"versions":[..]}
//   destroy/<path>         POST/PUT {"versions":[..]}   remove version data for good
//   subkeys/<path>         GET [?version=N&depth=D]
//
// Anything else answers 404 with OpenBao's "Invalid path for a versioned K/V secrets engine"
// warning; an operation a path does not have answers 405. The storage layout is in
// kv/FORMAT.md. See kv/request.h for the request/response contract.
#pragma once

#include <memory>

#include "kv/common.h"
#include "kv/request.h"

namespace halo::kv {

// REQUIRES: options.backend is set.
std::unique_ptr<SecretsEngine> NewKvV2Engine(KvEngineOptions options);

}  // namespace halo::kv
