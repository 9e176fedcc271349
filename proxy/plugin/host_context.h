#pragma once
// HostContext: the kernel services a running Remora lends its plugins beyond the stream — plugin
// metrics, the event bus, endpoint ejection — and the main dispatcher, where a generation is
// unloaded. One per Server (and one per --validate run), owned by it and outliving every
// generation. The Server hands it to its PluginRegistry; the registry to each generation it
// loads; code that runs a plugin names it in a PluginScope, which is how the C host calls that
// carry no context of their own (publish, subscribe, eject_endpoint, metric_add) find it.
// Nothing reaches it through a global, so two kernels in one process (a --validate inside a
// test, say) cannot see each other's services.

#include <cstdint>
#include <functional>
#include <string>

namespace remora {
class Dispatcher;
}

namespace remora::plugin {

class EventBus;
class PluginMetrics;

struct HostContext {
  PluginMetrics* metrics = nullptr;  // metric_add / metric_observe; nullptr: dropped
  EventBus* bus = nullptr;           // publish / subscribe and lifecycle events; nullptr: log only
  // Takes an endpoint out of load balancing on every worker for `ms`; empty: ignored.
  std::function<void(const std::string& cluster, const std::string& address, uint32_t ms)> eject;
  // Where generations are released (the ABI promises stop() on the main thread, and the last
  // user of an old generation may be a stream ending on a worker). nullptr (tools, --validate):
  // released inline on whichever thread lets go last.
  Dispatcher* main = nullptr;
};

}  // namespace remora::plugin
