#include "plugin/lifecycle_events.h"

#include <spdlog/spdlog.h>

#include <string>

#include "plugin/event_bus.h"
#include "plugin/host_context.h"
#include "plugin/plugin_generation.h"

namespace remora::plugin {
nlohmann::json describeGeneration(const PluginGeneration& gen) {
  return {{"name", gen.name()},
          {"version", gen.version()},
          {"sha256", gen.sha256()},
          {"generation", gen.generation()},
          {"path", gen.sourcePath()}};
}

void publishLifecycle(const HostContext& context, std::string_view what,
                      const nlohmann::json& payload) {
  std::string topic = "remora.plugin." + std::string(what);
  std::string text = payload.dump();
  spdlog::info("event {} {}", topic, text);
  if (context.bus != nullptr) context.bus->publish(topic, text);
}

}  // namespace remora::plugin
