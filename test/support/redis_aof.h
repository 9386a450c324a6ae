// ReadEpochWrites: what a redis-server's append-only file says about fencing. Functions are
// replicated by their effects, and halo_commit writes its epoch key in every commit
// (common/redis/halo_library.cc), so the AOF holds, in commit order, the epoch each commit
// and each halo_record_epoch ran under. Reads the incremental files the manifest lists
// (appendonlydir/, Redis 7), in order; the base file (an RDB preamble) is skipped, so run
// it on a server whose AOF was never rewritten.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace halo::testing {

struct EpochWrites {
  std::vector<int64_t> epochs;  // each SET of the epoch key, in order
  // Writes whose epoch is older than one before it: a second writer that the fence let
  // through ("two writers seen"). 0 is the guarantee.
  int regressions = 0;
};

// `data_dir`: the server's --dir; `epoch_key`: the prefixed epoch key ("fm/epoch").
Result<EpochWrites> ReadEpochWrites(const std::string& data_dir, const std::string& epoch_key);

}  // namespace halo::testing
