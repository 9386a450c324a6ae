// The startup banner, in OpenBao's format: a header line, then one "%24s: %s" line per
// setting, keys sorted. The storage line says "(HA available)" when the storage engine also
// provides the HA lock; with ha_storage it has no suffix and an "HA Storage" line follows.
#pragma once

#include <string>

#include "node/node_config.h"

namespace halo::node {

// Whether `config` runs with an HA lock: ha_storage is set, or the storage provides one.
bool HaEnabled(const NodeConfig& config);

// The banner text (several lines, ending in a blank line). `listen_address` is the address
// actually bound (it differs from the config when the port was 0).
std::string FormatBanner(const NodeConfig& config, const std::string& listen_address);

}  // namespace halo::node
