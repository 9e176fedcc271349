#pragma once
// The kernel's implementation of remora_host_api_t, the table every plugin receives in start().
// Stream calls resolve the opaque remora_stream_t to its ProxyStream; process-wide services
// (metrics, event bus, endpoint ejection) come from the HostServices the Server installs once.

#include <cstdint>
#include <functional>
#include <string>

#include "plugin/abi/remora_filter.h"

namespace remora::plugin {

class PluginMetrics;
class EventBus;

struct HostServices {
  PluginMetrics* metrics = nullptr;
  EventBus* bus = nullptr;
  // Takes an endpoint out of load balancing on every worker for `ms`.
  std::function<void(const std::string& cluster, const std::string& address, uint32_t ms)> eject;
};

// Main thread, before any plugin loads.
void installHostServices(HostServices services);
const remora_host_api_t* hostApi();

}  // namespace remora::plugin
