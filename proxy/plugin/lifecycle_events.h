#pragma once
// Plugin lifecycle events: each is logged and published on the event bus under
// `remora.plugin.<what>` (loaded, started, stopped, unloaded, config_rejected, quarantined), with
// a JSON payload naming the plugin build: {"name", "version", "sha256", "generation", ...}.
// Any thread; never on the request path except for the one-time quarantine of an entry.

#include <nlohmann/json.hpp>
#include <string_view>

namespace remora::plugin {

class EventBus;
class PluginGeneration;

// The bus events go to (main thread, set with the host services; nullptr = log only).
void setLifecycleBus(EventBus* bus);

// The payload's build fields for `gen`.
nlohmann::json describeGeneration(const PluginGeneration& gen);

// Logs and publishes `remora.plugin.<what>` with `payload`.
void publishLifecycle(std::string_view what, const nlohmann::json& payload);

}  // namespace remora::plugin
