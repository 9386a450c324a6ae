// PgOptions: how to reach PostgreSQL and which tables to use, shared by the PostgreSQL
// storage backend (storage/postgresql_backend.h) and the PostgreSQL HA lock
// (lock/postgresql_lock_backend.h). The keys carry OpenBao's names (its `storage
// "postgresql"` stanza) and are documented in storage/README.md ("postgresql").
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/json_config.h"
#include "common/result.h"

namespace halo::pg {

struct PgOptions {
  // A libpq connection URI or key=value string ("postgres://user@host:5432/db"). Keys the
  // string sets itself (connect_timeout, keepalives, options) win over ours below.
  std::string connection_url;
  std::string table = "openbao_kv_store";  // the data: parent_path, path, key, value
  bool ha_enabled = false;                 // storage.postgresql also provides the HA lock
  std::string ha_table = "openbao_ha_locks";
  int64_t max_parallel = 8;        // connections per process for reads (and the lock's own)
  bool skip_create_table = false;  // the operator created the tables (least privilege)
  // statement_timeout of every statement, and the bound for connecting.
  Duration op_timeout = seconds(10);
  // TCP keepalives (libpq's keepalives_idle/_interval/_count) and tcp_user_timeout: how
  // long a connection to a host that vanished stays open before libpq gives up on it.
  Duration keepalive_idle = seconds(5);
  Duration keepalive_interval = seconds(1);
  int64_t keepalive_count = 3;
};

// Reads the keys above present in `block` into `out` (absent keys keep their value); does
// not call Finish(). `ha_enabled` and `max_parallel` may also be strings, as in OpenBao's
// HCL ("true", "128"). kInvalidArgument naming the key: a missing connection_url, a table
// name that is not a plain SQL identifier, out-of-range numbers.
Status ParsePgOptions(ConfigObject& block, PgOptions* out);

// `name` double-quoted for SQL (names are checked by ParsePgOptions: letters, digits, '_').
std::string QuoteIdent(const std::string& name);

}  // namespace halo::pg
