#pragma once
// YAML → Config. Every error is a FieldError naming the exact field path and what was
// expected, e.g. {"clusters[1].endpoints[0]", "expected host:port, got \"x\""}; one load reports
// them all. Unknown keys are errors. Called on the main thread only.

#include <string>

#include "common/field_error.h"
#include "config/config.h"

namespace YAML {
class Node;
}

namespace remora::config {

// Parses and validates YAML text. `origin` is the path of errors about the text as a whole, and
// of syntax errors as "origin:LINE:COLUMN" (usually the file name).
ConfigResult<Config> loadFromString(const std::string& yaml,
                                    const std::string& origin = "<string>");
ConfigResult<Config> loadFromFile(const std::string& path);
// Validates a document parsed already (a JSON push, config/json_document.h) the same way.
ConfigResult<Config> loadFromDocument(const YAML::Node& root, const std::string& origin);

// Renders a config back as YAML (for GET /config); loadFromString(toYaml(c)) == c.
std::string toYaml(const Config& config);

}  // namespace remora::config
