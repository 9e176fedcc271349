#pragma once
// A config's TLS material: one context per listener and per cluster with a `tls:` block, built
// on the main thread when a snapshot is (and by --validate), so an unreadable file, a key that
// does not match its certificate or an expired certificate refuses the change with the field's
// path while the running snapshot stays in service.

#include <map>
#include <memory>
#include <string>

#include "common/field_error.h"
#include "config/config.h"
#include "network/tls_context.h"

namespace remora {

struct TlsContexts {
  std::map<std::string, std::shared_ptr<const network::TlsServerContext>> listeners;
  std::map<std::string, std::shared_ptr<const network::TlsClientContext>> clusters;
};

// Every context of `config`; errors are appended (none when every file loads).
TlsContexts buildTlsContexts(const config::Config& config, FieldErrors& errors);

// Every certificate and CA file the contexts read, for the file watch.
std::vector<std::string> tlsFiles(const config::Config& config);

}  // namespace remora
