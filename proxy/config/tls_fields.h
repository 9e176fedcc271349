#pragma once
// The `tls:` blocks of listeners (termination) and clusters (origination): reading with field
// paths, and emitting for GET /config. The files they name are loaded later, when a snapshot's
// TLS contexts are built (network/tls_context.h), so a missing file is reported with the same
// path but by that stage.

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/yaml_fields.h"

namespace remora::config {

void readListenerTls(const yaml::MapReader& listener, Listener& out);
void readClusterTls(const yaml::MapReader& cluster, Cluster& out);
void emitListenerTls(YAML::Emitter& out, const network::TlsServerOptions& tls);
void emitClusterTls(YAML::Emitter& out, const network::TlsClientOptions& tls);

}  // namespace remora::config
