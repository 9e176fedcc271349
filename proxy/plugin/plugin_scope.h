#pragma once
// Which plugin's code runs on this thread. The filter manager sets it around every hook call;
// PluginScope sets it around code that runs a plugin outside a stream (start, stop, config_new,
// state hand-off, an event delivery). The host's log call reads it, so a plugin's log lines
// carry its name. Header-only so the per-hook set costs a thread-local store, not a call.

#include <string_view>

namespace remora::plugin {
namespace detail {
// Constant-initialised, so no TLS wrapper call guards its use. Only the plugin layer and the
// filter manager write it.
inline thread_local constinit std::string_view t_current_plugin;
}  // namespace detail

// The plugin whose code runs on this thread ("" if none).
inline std::string_view currentPlugin() {
  return detail::t_current_plugin;
}

// Names `name` as the running plugin for as long as it lives; `name` must outlive the scope.
class PluginScope {
 public:
  explicit PluginScope(std::string_view name) : outer_(detail::t_current_plugin) {
    detail::t_current_plugin = name;
  }
  ~PluginScope() { detail::t_current_plugin = outer_; }
  PluginScope(const PluginScope&) = delete;
  PluginScope& operator=(const PluginScope&) = delete;

 private:
  std::string_view outer_;
};

}  // namespace remora::plugin
