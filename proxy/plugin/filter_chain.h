#pragma once
// FilterChain: a listener's compiled chain — for each entry, the plugin generation and the config
// object the plugin built from its YAML block (config_new, main thread). Immutable and shared by
// every worker through the snapshot; an entry frees its config (config_free) when the last
// snapshot or stream using it lets go, and its generation unloads when nothing else holds it.
//
// An entry may carry a canary: a second build of the same plugin (variant B) that a share of the
// streams runs instead of the entry's own build (variant A). Each variant counts its hook
// failures and is quarantined on every worker once it reaches the entry's limit; these few
// counters are the only mutable parts of a chain (relaxed atomics, touched on failures only).

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/field_error.h"
#include "config/config.h"
#include "plugin/plugin_generation.h"
#include "plugin/state_handoff.h"

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

// One build of an entry's plugin with the config object it built.
struct FilterVariant {
  FilterVariant(PluginGenerationPtr g, void* c) : gen(std::move(g)), config(c) {}
  ~FilterVariant();
  FilterVariant(const FilterVariant&) = delete;
  FilterVariant& operator=(const FilterVariant&) = delete;

  PluginGenerationPtr gen;
  void* config;
  mutable std::atomic<uint32_t> failures{0};
  mutable std::atomic<bool> quarantined{false};
};

// How an entry splits streams between its build and its canary.
struct CanaryRule {
  uint32_t percent = 0;
  std::string header;  // lower-case, empty = none
  std::string value;   // empty = any value
};

class FilterEntry {
 public:
  FilterEntry(std::unique_ptr<FilterVariant> primary, std::unique_ptr<FilterVariant> canary,
              CanaryRule rule, config::OnError on_error, config::Quarantine quarantine,
              size_t workers);
  ~FilterEntry() = default;
  FilterEntry(const FilterEntry&) = delete;
  FilterEntry& operator=(const FilterEntry&) = delete;

  // The entry's own build (variant A); the chain's order, overrides and log refer to it.
  PluginGeneration& generation() const { return *primary_->gen; }
  const PluginGenerationPtr& generationPtr() const { return primary_->gen; }
  const remora_plugin_descriptor_t& hooks() const { return primary_->gen->descriptor(); }
  void* config() const { return primary_->config; }

  bool hasCanary() const { return canary_ != nullptr; }
  const FilterVariant& variant(bool canary) const { return canary ? *canary_ : *primary_; }
  const CanaryRule& canaryRule() const { return rule_; }
  config::OnError onError() const { return on_error_; }
  const config::Quarantine& quarantinePolicy() const { return quarantine_; }

  // Worker thread, once per stream: whether the stream runs the canary. The header rule is
  // checked first; the percentage uses a per-worker counter stepped by a stride coprime with
  // 100, so every 100 streams of a worker hold exactly `percent` canaries, spread out. `host`
  // reads the header rule's request header; the caller, which owns the stream, hands it in.
  bool pickCanary(size_t worker, const remora_host_api_t* host, remora_stream_t* stream) const;

  // Any worker: counts one hook failure of `variant`; the call that reaches the limit
  // quarantines it (every worker sees the flag at its next stream) and reports it.
  void recordFailure(bool canary) const;

 private:
  struct alignas(64) PickCounter {
    uint32_t n = 0;  // written by its worker only
  };

  std::unique_ptr<FilterVariant> primary_;
  std::unique_ptr<FilterVariant> canary_;
  CanaryRule rule_;
  config::OnError on_error_;
  config::Quarantine quarantine_;
  std::unique_ptr<PickCounter[]> picks_;
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
  // State moved from the chain this one replaces (null when nothing to move). Each worker runs
  // it while installing the snapshot, before its first stream on this chain.
  std::shared_ptr<StateHandoff> handoff;

  // Entries a request for `path` skips (first matching override), usually none.
  uint64_t skipMask(std::string_view path) const {
    for (const Override& o : overrides)
      if (path.substr(0, o.prefix.size()) == o.prefix) return o.skip;
    return 0;
  }
  // Worker thread, from the worker's snapshot install.
  void handOffState(size_t worker) const {
    if (handoff) handoff->run(worker);
  }
};

// Builds the chain for `listener`; errors carry `path` (e.g. "listeners[0]") and the field:
//   listeners[0].filters[1].name: unknown plugin "x" (loaded: access_log, router)
//   listeners[0].filters[1].path: /x/hello.so: plugin ABI 2.0 is not supported ...
//   listeners[0].filters[2].config: <the plugin's own message> (see pluginConfigError)
// `previous` is the same listener's chain in service, whose entries hand their state to the
// matching new ones (same plugin, same occurrence in the chain).
ConfigResult<std::shared_ptr<const FilterChain>> compileChain(
    const config::Listener& listener, const std::string& path, PluginRegistry& registry,
    PluginMetrics& metrics, const FilterChain* previous = nullptr);

// A plugin's refusal of its config block at `block`. config_new answers with one line of text,
// worded relative to the block ("rules[0].rate: must be > 0", docs/plugins.md); it is read here,
// once, and the field it names extends the path: {"listeners[0].filters[1].config.rules[0].rate",
// "must be > 0", block}. Text that names no field is the message of `block` itself.
FieldError pluginConfigError(const std::string& block, const std::string& text);

}  // namespace remora::plugin
