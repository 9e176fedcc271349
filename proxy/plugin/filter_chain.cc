#include "plugin/filter_chain.h"

#include <algorithm>

#include "plugin/plugin_metrics.h"
#include "plugin/plugin_registry.h"

namespace remora::plugin {

FilterEntry::~FilterEntry() {
  if (config_ != nullptr && gen_->descriptor().config_free != nullptr)
    gen_->descriptor().config_free(config_);
}

Result<std::shared_ptr<const FilterChain>> compileChain(const config::Listener& listener,
                                                        const std::string& path,
                                                        PluginRegistry& registry,
                                                        PluginMetrics& metrics) {
  auto chain = std::make_shared<FilterChain>();
  std::string errors;
  auto addError = [&errors](const std::string& e) {
    if (!errors.empty()) errors.push_back('\n');
    errors += e;
  };
  for (size_t i = 0; i < listener.filters.size(); ++i) {
    const config::FilterRef& ref = listener.filters[i];
    std::string at = path + ".filters[" + std::to_string(i) + "]";
    PluginGenerationPtr gen = registry.find(ref.name);
    if (!gen) {
      std::string why = registry.failure(ref.name);
      if (!why.empty()) {
        addError(at + ".name: plugin \"" + ref.name + "\" failed to load: " + why);
      } else {
        std::string loaded;
        for (const std::string& n : registry.names()) loaded += (loaded.empty() ? "" : ", ") + n;
        addError(at + ".name: unknown plugin \"" + ref.name +
                 "\" (loaded: " + (loaded.empty() ? "none" : loaded) + ")");
      }
      continue;
    }
    void* cfg = nullptr;
    const remora_plugin_descriptor_t& d = gen->descriptor();
    if (d.config_new != nullptr) {
      remora_config_ctx ctx{gen.get(), &metrics, {}};
      char err[1024] = {0};
      cfg = d.config_new(&ctx, remora_str_t{ref.config_json.data(), ref.config_json.size()}, err,
                         sizeof(err));
      if (cfg == nullptr) {
        err[sizeof(err) - 1] = '\0';
        std::string msg = err[0] ? err : "rejected by the plugin";
        if (!ctx.error.empty()) msg += " (" + ctx.error + ")";
        addError(at + ".config: " + msg);
        continue;
      }
    }
    chain->entries.push_back(std::make_shared<FilterEntry>(gen, cfg));
  }
  if (chain->entries.size() > FilterChain::kMaxFilters)
    addError(path + ".filters: at most " + std::to_string(FilterChain::kMaxFilters) + " filters");
  if (listener.order_by_priority) {
    std::stable_sort(
        chain->entries.begin(), chain->entries.end(),
        [](const auto& a, const auto& b) { return a->hooks().priority < b->hooks().priority; });
  }
  for (const config::FilterOverride& o : listener.filter_overrides) {
    FilterChain::Override compiled{o.prefix, 0};
    for (const std::string& name : o.disable)
      for (size_t i = 0; i < chain->entries.size() && i < FilterChain::kMaxFilters; ++i)
        if (chain->entries[i]->generation().name() == name) compiled.skip |= uint64_t{1} << i;
    chain->overrides.push_back(std::move(compiled));
  }
  // The router decides the route; filters after it see the routed request (the circuit breaker
  // needs the cluster), like Envoy's upstream filters. A chain without a router cannot route.
  bool has_router = false;
  for (const config::FilterRef& ref : listener.filters) has_router |= ref.name == "router";
  if (!listener.filters.empty() && !has_router)
    addError(path + ".filters: the chain must include the router filter");
  for (size_t i = 0; i < chain->entries.size(); ++i) {
    if (i > 0) chain->description.push_back(',');
    chain->description += chain->entries[i]->generation().name();
  }
  if (!errors.empty()) return Error{errors};
  return std::shared_ptr<const FilterChain>(std::move(chain));
}

}  // namespace remora::plugin
