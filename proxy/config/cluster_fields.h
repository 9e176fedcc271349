#pragma once
// The config's interception and health-check parts: a listener's `original_dst`, a cluster's
// `type` and `health_check`. Kept apart from loader.cc so each stays readable in one sitting.

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

// `true` or `false` (YAML's plain spellings); anything else is an error at the field's path.
void readBool(const yaml::MapReader& reader, std::string_view key, bool& out);

// `type` (static | original_dst | etcd | dns), then `endpoints` (static clusters need at least
// one; original_dst clusters take each connection's destination) or `discovery` (etcd, dns).
void readClusterEndpoints(const yaml::MapReader& reader, Cluster& cluster);
void emitClusterEndpoints(YAML::Emitter& out, const Cluster& cluster);

// `health_check: {path, interval, timeout, healthy_threshold, unhealthy_threshold,
// expected_statuses}`; only for static clusters.
void readHealthCheck(const yaml::MapReader& reader, Cluster& cluster);

void emitHealthCheck(YAML::Emitter& out, const HealthCheck& check);
const char* clusterTypeName(ClusterType type);

}  // namespace remora::config
