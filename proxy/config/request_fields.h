#pragma once
// A listener's request-head policy: `path_normalization` (how the codec normalizes the request
// path before any filter sees it) and `upgrades` (which Upgrade protocols pass). Kept apart from
// loader.cc so each stays readable in one sitting.

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

// `path_normalization: {merge_slashes, encoded_slashes: keep | reject | decode}` and
// `upgrades: [websocket, ...]` (an empty list lets no upgrade through; h2c is refused).
void readRequestPolicy(const yaml::MapReader& listener, Listener& out);
void emitRequestPolicy(YAML::Emitter& out, const Listener& listener);

}  // namespace remora::config
