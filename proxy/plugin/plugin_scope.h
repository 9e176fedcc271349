#pragma once
// Which plugin's code runs on this thread, and the kernel it runs in. The filter manager sets it
// around every hook call; PluginScope sets it around code that runs a plugin outside a stream
// (start, stop, config_new, state hand-off, an event delivery, a callout's answer). The host's
// log call reads the name, so a plugin's log lines carry it; the host calls without a context
// argument read the HostContext (host_context.h). Header-only so the per-hook set costs two
// thread-local stores, not a call.

#include <string_view>

#include "plugin/host_context.h"

namespace remora::plugin {

struct RunningPlugin {
  std::string_view name;
  const HostContext* host = nullptr;
};

namespace detail {
// Constant-initialised, so no TLS wrapper call guards its use. Only the plugin layer and the
// filter manager write it.
inline thread_local constinit RunningPlugin t_running;
}  // namespace detail

// The plugin whose code runs on this thread ("" if none).
inline std::string_view currentPlugin() {
  return detail::t_running.name;
}

// The services of the kernel that runs it (nullptr outside any plugin code, e.g. on a thread a
// plugin started itself).
inline const HostContext* currentHost() {
  return detail::t_running.host;
}

// Names `name` of the kernel `host` as the running plugin for as long as it lives; `name` must
// outlive the scope.
class PluginScope {
 public:
  PluginScope(std::string_view name, const HostContext* host) : outer_(detail::t_running) {
    detail::t_running = {name, host};
  }
  ~PluginScope() { detail::t_running = outer_; }
  PluginScope(const PluginScope&) = delete;
  PluginScope& operator=(const PluginScope&) = delete;

 private:
  RunningPlugin outer_;
};

}  // namespace remora::plugin
