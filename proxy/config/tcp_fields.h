#pragma once
// A listener's protocol fields: `protocol: http | tcp | auto`, `detection_timeout`,
// `opaque_ports` and the TCP proxy's `tcp:` block (cluster, sni_routes, idle_timeout,
// max_connect_attempts). Kept apart from loader.cc so each stays readable in one sitting.

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

// Reads after `original_dst` (which makes auto the default protocol).
void readListenerProtocol(const yaml::MapReader& listener, Listener& out);
void emitListenerProtocol(YAML::Emitter& out, const Listener& listener);

// Every cluster a listener's `tcp:` block names exists; an error per unknown name.
void checkTcpClusters(const Config& config, yaml::Errors& errors);

// "api.example.com" matches the route "api.example.com" and "*.example.com" (one or more
// labels before the suffix). Both lower case.
bool sniMatches(std::string_view pattern, std::string_view sni);

}  // namespace remora::config
