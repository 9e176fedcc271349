#pragma once
// The config's plugin parts: `plugins` (where filter .so files live) and a listener's `filters`
// chain. A filter's `config` block is handed to its plugin as JSON text, so the YAML node is
// converted here; the plugin validates it in config_new.

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

// YAML → JSON: plain scalars that read as booleans, null or numbers become those; quoted ones
// and everything else stay strings.
nlohmann::json yamlToJson(const YAML::Node& node);
void emitJsonAsYaml(YAML::Emitter& out, const nlohmann::json& value);

void readPlugins(const yaml::MapReader& root, Plugins& plugins);
void readFilters(const yaml::MapReader& listener, std::vector<FilterRef>& filters);
// `filter_order`, `filter_defaults` and `filter_overrides`; override names must be in the chain.
void readFilterOptions(const yaml::MapReader& listener, Listener& out);

// The YAML form of one chain entry and of the fault-policy fields (toYaml round trip).
void emitFilterRef(YAML::Emitter& out, const FilterRef& f);
void emitOnError(YAML::Emitter& out, OnError e);
void emitQuarantine(YAML::Emitter& out, const Quarantine& q);

}  // namespace remora::config
