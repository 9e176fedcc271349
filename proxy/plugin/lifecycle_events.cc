#include "plugin/lifecycle_events.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <string>

#include "plugin/event_bus.h"
#include "plugin/plugin_generation.h"

namespace remora::plugin {
namespace {

std::atomic<EventBus*> g_bus{nullptr};

}  // namespace

void setLifecycleBus(EventBus* bus) {
  g_bus.store(bus);
}

nlohmann::json describeGeneration(const PluginGeneration& gen) {
  return {{"name", gen.name()},
          {"version", gen.version()},
          {"sha256", gen.sha256()},
          {"generation", gen.generation()},
          {"path", gen.sourcePath()}};
}

void publishLifecycle(std::string_view what, const nlohmann::json& payload) {
  std::string topic = "remora.plugin." + std::string(what);
  std::string text = payload.dump();
  spdlog::info("event {} {}", topic, text);
  if (EventBus* bus = g_bus.load()) bus->publish(topic, text);
}

}  // namespace remora::plugin
