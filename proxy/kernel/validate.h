#pragma once
// `remora --validate`: everything a start-up would check short of binding sockets — the YAML,
// the TLS files, then the plugin directory and every listener's filter chain (each plugin's
// config_new runs, so a config a plugin rejects fails validation too), like `nginx -t` loading its
// modules.

#include "common/field_error.h"
#include "config/config.h"

namespace remora {

// Every TLS file: readable, a certificate and its matching key, not expired, a CA bundle.
ConfigStatus validateTls(const config::Config& cfg);

// Every error of every chain; printed with FieldError::asWritten(), a plugin's message as it
// worded it ("listeners[0].filters[0].config: greeting: must be a string, got 42").
ConfigStatus validatePlugins(const config::Config& cfg);

// The start-up material the admin section names: the control token file must be readable and
// not empty ("admin.control.token_file: /etc/remora/token: cannot open: ...").
ConfigStatus validateAdmin(const config::Config& cfg);

}  // namespace remora
