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
// `type`, and `endpoints` (static) or `discovery` (etcd, dns).
void readClusterEndpoints(const yaml::MapReader& cluster, Cluster& out);

void emitSources(YAML::Emitter& out, const Config& config);
void emitClusterEndpoints(YAML::Emitter& out, const Cluster& cluster);

}  // namespace remora::config
