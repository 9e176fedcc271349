#include "kernel/validate.h"

#include "admin/control_auth.h"
#include "http/host_api.h"
#include "kernel/tls_material.h"
#include "plugin/event_bus.h"
#include "plugin/filter_chain.h"
#include "plugin/plugin_metrics.h"
#include "plugin/plugin_registry.h"

namespace remora {

ConfigStatus validateTls(const config::Config& cfg) {
  FieldErrors errors;
  buildTlsContexts(cfg, errors);
  if (!errors.empty()) return errors;
  return ConfigStatus();
}

ConfigStatus validatePlugins(const config::Config& cfg) {
  bool any = false;
  for (const config::Listener& l : cfg.listeners) any |= !l.filters.empty();
  if (!any) return ConfigStatus();
  plugin::EventBus bus;
  plugin::PluginMetrics metrics(1);
  plugin::HostContext context;
  context.metrics = &metrics;
  context.bus = &bus;
  FieldErrors errors;
  {
    plugin::PluginRegistry registry(plugin::hostApi(), context, 1);
    registry.scan(cfg.plugins.dir, cfg.plugins.cache_dir);
    for (size_t i = 0; i < cfg.listeners.size(); ++i) {
      if (cfg.listeners[i].filters.empty()) continue;
      auto chain = plugin::compileChain(cfg.listeners[i], "listeners[" + std::to_string(i) + "]",
                                        registry, metrics);
      if (!chain) append(errors, chain.error());
    }
  }
  if (!errors.empty()) return errors;
  return ConfigStatus();
}

ConfigStatus validateAdmin(const config::Config& cfg) {
  if (cfg.admin.control.token_file.empty()) return ConfigStatus();
  auto token = admin::readTokenFile(cfg.admin.control.token_file);
  if (!token) return token.error();
  return ConfigStatus();
}

}  // namespace remora
