#pragma once
// `remora --validate`: everything a start-up would check short of binding sockets — the YAML,
// then the plugin directory and every listener's filter chain (each plugin's config_new runs, so
// a config a plugin rejects fails validation too), like `nginx -t` loading its modules.

#include "common/result.h"
#include "config/config.h"

namespace remora {

Status validatePlugins(const config::Config& cfg);

}  // namespace remora
