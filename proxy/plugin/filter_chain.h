#pragma once
// FilterChain: a listener's compiled chain — for each entry, the plugin generation and the config
// object the plugin built from its YAML block (config_new, main thread). Immutable and shared by
// every worker through the snapshot; an entry frees its config (config_free) when the last
// snapshot or stream using it lets go, and its generation unloads when nothing else holds it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "plugin/plugin_generation.h"

namespace remora::plugin {
class PluginMetrics;
}

// The opaque config context handed to config_new (see remora_filter.h).
struct remora_config_ctx {
  remora::plugin::PluginGeneration* generation;
  remora::plugin::PluginMetrics* metrics;
  std::string error;  // set when metric_define fails, reported with the config error
};

namespace remora::plugin {

class PluginRegistry;
class PluginMetrics;

class FilterEntry {
 public:
  FilterEntry(PluginGenerationPtr gen, void* config) : gen_(std::move(gen)), config_(config) {}
  ~FilterEntry();
  FilterEntry(const FilterEntry&) = delete;
  FilterEntry& operator=(const FilterEntry&) = delete;

  PluginGeneration& generation() const { return *gen_; }
  const PluginGenerationPtr& generationPtr() const { return gen_; }
  const remora_plugin_descriptor_t& hooks() const { return gen_->descriptor(); }
  void* config() const { return config_; }

 private:
  PluginGenerationPtr gen_;
  void* config_;
};

struct FilterChain {
  std::vector<std::shared_ptr<const FilterEntry>> entries;
  std::string description;  // "auth,router,...": metadata "remora.chain" for the access log
  // filter_overrides: a path prefix and the entries (bit i = entries[i]) its requests skip.
  struct Override {
    std::string prefix;
    uint64_t skip = 0;
  };
  std::vector<Override> overrides;
  static constexpr size_t kMaxFilters = 64;

  // Entries a request for `path` skips (first matching override), usually none.
  uint64_t skipMask(std::string_view path) const {
    for (const Override& o : overrides)
      if (path.substr(0, o.prefix.size()) == o.prefix) return o.skip;
    return 0;
  }
};

// Builds the chain for `listener`; errors carry `path` (e.g. "listeners[0]") and the field:
//   listeners[0].filters[1].name: unknown plugin "x" (loaded: access_log, router)
//   listeners[0].filters[2].config: <the plugin's own message>
Result<std::shared_ptr<const FilterChain>> compileChain(const config::Listener& listener,
                                                        const std::string& path,
                                                        PluginRegistry& registry,
                                                        PluginMetrics& metrics);

}  // namespace remora::plugin
