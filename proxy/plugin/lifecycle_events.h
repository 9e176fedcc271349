#pragma once
// Plugin lifecycle events: each is logged and published on the event bus under
// `remora.plugin.<what>` (loaded, started, stopped, unloaded, config_rejected, quarantined), with
// a JSON payload naming the plugin build: {"name", "version", "sha256", "generation", ...}.
// Any thread; never on the request path except for the one-time quarantine of an entry.

#include <nlohmann/json.hpp>
#include <string_view>

namespace remora::plugin {

class PluginGeneration;
struct HostContext;

// The payload's build fields for `gen`.
nlohmann::json describeGeneration(const PluginGeneration& gen);

// Logs and publishes `remora.plugin.<what>` with `payload` on `context`'s bus (log only without
// one).
void publishLifecycle(const HostContext& context, std::string_view what,
                      const nlohmann::json& payload);

}  // namespace remora::plugin
