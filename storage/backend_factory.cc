#include "storage/backend_factory.h"

#include "storage/file_backend.h"
#include "storage/inmem_backend.h"
#include "storage/lmdb_backend.h"
#include "storage/postgresql_backend.h"
#include "storage/redis_backend.h"

namespace halo::storage {

namespace {

Status ReadPath(ConfigObject& block, BackendOptions* out) {
  if (!block.Has("path")) return Status::InvalidArgument(block.KeyPath("path") + ": missing");
  RETURN_IF_ERROR(block.GetString("path", &out->path));
  if (out->path.empty()) return Status::InvalidArgument(block.KeyPath("path") + ": empty");
  return Status::Ok();
}

}  // namespace

Result<BackendOptions> ParseBackendOptions(std::string_view type, ConfigObject& block) {
  RETURN_IF_ERROR(block.CheckIsObject());
  BackendOptions out;
  out.type = std::string(type);
  if (type == "lmdb") {
    RETURN_IF_ERROR(ReadPath(block, &out));
    int64_t map_mb = static_cast<int64_t>(out.map_size_bytes >> 20);
    RETURN_IF_ERROR(block.GetInt("map_size_mb", &map_mb, 1, int64_t{1} << 30));
    out.map_size_bytes = static_cast<uint64_t>(map_mb) << 20;
    RETURN_IF_ERROR(block.GetBool("group_commit", &out.group_commit));
    int64_t max_batch = out.max_batch;
    RETURN_IF_ERROR(block.GetInt("max_batch", &max_batch, 1, 1 << 20));
    out.max_batch = static_cast<int>(max_batch);
  } else if (type == "file") {
    RETURN_IF_ERROR(ReadPath(block, &out));
  } else if (type == "inmem") {
    // No keys.
  } else if (type == "redis") {
    RETURN_IF_ERROR(redis::ParseRedisOptions(block, &out.redis));
  } else if (type == "postgresql") {
    RETURN_IF_ERROR(pg::ParsePgOptions(block, &out.postgresql));
  } else {
    std::string where = block.KeyPath("");
    if (!where.empty() && where.back() == '.') where.pop_back();
    return Status::InvalidArgument(where + ": unknown storage type \"" + std::string(type) +
                                   "\" (expected lmdb, file, inmem, redis or postgresql)");
  }
  RETURN_IF_ERROR(block.Finish());
  return out;
}

Result<BackendOptions> ParseStorageConfig(ConfigObject& storage) {
  RETURN_IF_ERROR(storage.CheckIsObject());
  std::vector<std::string> keys = storage.Keys();
  if (keys.size() != 1) {
    std::string where = storage.KeyPath("");
    if (!where.empty() && where.back() == '.') where.pop_back();
    return Status::InvalidArgument(where + ": expected exactly one storage type, found " +
                                   std::to_string(keys.size()));
  }
  ASSIGN_OR_RETURN(ConfigObject block, storage.GetObject(keys[0]));
  return ParseBackendOptions(keys[0], block);
}

Result<std::unique_ptr<Backend>> OpenBackend(const BackendOptions& options) {
  if (options.type == "inmem") {
    return std::unique_ptr<Backend>(std::make_unique<InmemBackend>());
  }
  if (options.type == "file") {
    ASSIGN_OR_RETURN(std::unique_ptr<FileBackend> file, FileBackend::Open(options));
    return std::unique_ptr<Backend>(std::move(file));
  }
  if (options.type == "lmdb") {
    ASSIGN_OR_RETURN(std::unique_ptr<LmdbBackend> lmdb, LmdbBackend::Open(options));
    return std::unique_ptr<Backend>(std::move(lmdb));
  }
  if (options.type == "redis") {
    ASSIGN_OR_RETURN(std::unique_ptr<RedisBackend> r, RedisBackend::Open(options.redis));
    return std::unique_ptr<Backend>(std::move(r));
  }
  if (options.type == "postgresql") {
    ASSIGN_OR_RETURN(std::unique_ptr<PostgresBackend> p, PostgresBackend::Open(options.postgresql));
    return std::unique_ptr<Backend>(std::move(p));
  }
  return Status::InvalidArgument("storage type \"" + options.type + "\" is not available");
}

bool ProvidesHaLock(const BackendOptions& options) {
  return options.type == "lmdb" || options.type == "inmem" || options.type == "redis" ||
         (options.type == "postgresql" && options.postgresql.ha_enabled);
}

std::string LockFilePath(const BackendOptions& options) { return options.path + "/halo.lock"; }

}  // namespace halo::storage
