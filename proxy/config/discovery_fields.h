#pragma once
// The config's fleet parts: `sources.etcd` (where the sidecar takes its config from),
// `registration` (the service instance it announces) and a cluster's `type`/`discovery`
// (endpoints from an etcd prefix or from DNS). Read and emitted here so loader.cc stays about
// the kernel's own sections.

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

void readSources(const yaml::MapReader& root, EtcdSource& etcd);
void readRegistration(const yaml::MapReader& root, Registration& registration);
// `discovery:` of an etcd or dns cluster (readClusterEndpoints in cluster_fields.h reads `type`).
void readDiscovery(const yaml::MapReader& cluster, ClusterType type, Discovery& out);

void emitSources(YAML::Emitter& out, const Config& config);
void emitDiscovery(YAML::Emitter& out, ClusterType type, const Discovery& discovery);

}  // namespace remora::config
