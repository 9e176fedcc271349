#pragma once
// A JSON config text read in one parse into the document the loader reads: JSON is YAML's flow
// style, so a JSON push becomes the same YAML::Node tree YAML::Load would build from that text,
// and the loader reports the same field paths. Keys keep their order and their repeats (the
// loader reports a repeated field), strings stay marked as quoted, and numbers keep the text
// they were written with, so errors show values exactly as the user wrote them. Main thread.

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "common/field_error.h"

namespace remora::config {

// JSON's own syntax errors come back as one {origin, "invalid JSON: ..."}.
ConfigResult<YAML::Node> parseJsonDocument(std::string_view text, const std::string& origin);

}  // namespace remora::config
