#pragma once
// YAML → Config. Every error names the exact field path and what was expected, e.g.
//   clusters[1].endpoints[0]: expected host:port, got "x"
// Unknown keys are errors. Called on the main thread only.

#include <string>

#include "common/result.h"
#include "config/config.h"

namespace remora::config {

// Parses and validates YAML text. `origin` prefixes parse errors (usually the file name).
Result<Config> loadFromString(const std::string& yaml, const std::string& origin = "<string>");
Result<Config> loadFromFile(const std::string& path);

// Renders a config back as YAML (for GET /config); loadFromString(toYaml(c)) == c.
std::string toYaml(const Config& config);

}  // namespace remora::config
