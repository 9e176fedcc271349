#include "plugin/filter_chain.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "plugin/lifecycle_events.h"
#include "plugin/plugin_metrics.h"
#include "plugin/plugin_registry.h"
#include "plugin/plugin_scope.h"

namespace remora::plugin {

FilterVariant::~FilterVariant() {
  if (quarantined.load(std::memory_order_relaxed)) gen->addQuarantined(-1);
  if (config != nullptr && gen->descriptor().config_free != nullptr) {
    PluginScope scope(gen->name(), gen->host());
    gen->descriptor().config_free(config);
  }
}

FilterEntry::FilterEntry(std::unique_ptr<FilterVariant> primary,
                         std::unique_ptr<FilterVariant> canary, CanaryRule rule,
                         config::OnError on_error, config::Quarantine quarantine, size_t workers)
    : primary_(std::move(primary)),
      canary_(std::move(canary)),
      rule_(std::move(rule)),
      on_error_(on_error),
      quarantine_(quarantine),
      picks_(new PickCounter[std::max<size_t>(workers, 1)]) {}

bool FilterEntry::pickCanary(size_t worker, const remora_host_api_t* host,
                             remora_stream_t* stream) const {
  if (!canary_) return false;
  if (!rule_.header.empty() && stream != nullptr) {
    remora_str_t v;
    if (host->header_get(stream, REMORA_REQUEST_HEADERS,
                         remora_str_t{rule_.header.data(), rule_.header.size()}, &v) &&
        (rule_.value.empty() || std::string_view(v.data, v.len) == rule_.value))
      return true;
  }
  if (rule_.percent == 0) return false;
  // 37 is coprime with 100: n*37 mod 100 visits every residue once per 100 streams.
  uint32_t n = picks_[worker].n++;
  return (n % 100) * 37 % 100 < rule_.percent;
}

void FilterEntry::recordFailure(bool canary) const {
  const FilterVariant& v = variant(canary);
  uint32_t after = quarantine_.after_errors;
  uint32_t n = v.failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (after == 0 || n < after) return;
  if (v.quarantined.exchange(true, std::memory_order_relaxed)) return;
  v.gen->addQuarantined(1);
  nlohmann::json payload = describeGeneration(*v.gen);
  payload["role"] = canary ? "canary" : "primary";
  payload["failures"] = n;
  payload["on_error"] = on_error_ == config::OnError::kFailOpen ? "fail_open" : "fail_closed";
  spdlog::warn("plugin {} generation {} quarantined after {} failures ({}: {})", v.gen->name(),
               v.gen->generation(), n, payload["on_error"].get<std::string>(),
               on_error_ == config::OnError::kFailOpen ? "bypassed" : "streams answered 503");
  publishLifecycle(*v.gen->host(), "quarantined", payload);
}

namespace {

// A path made of field names and indexes: "rules[0].rate".
bool isFieldPath(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// The generation an entry's `path` (or its canary's) names, checked against the entry's name.
PluginGenerationPtr loadBuild(const std::string& so, const std::string& name,
                              const std::string& field, PluginRegistry& registry,
                              const std::string& cache_dir, FieldErrors& errors) {
  auto gen = registry.loadPath(so, cache_dir);
  if (!gen) {
    errors.push_back({field, gen.error()});
    return nullptr;
  }
  if (gen.value()->name() != name) {
    errors.push_back(
        {field, so + " is plugin \"" + gen.value()->name() + "\", not \"" + name + "\""});
    return nullptr;
  }
  return gen.value();
}

// Runs the build's config_new; null (and an error) if the plugin rejects the config.
std::unique_ptr<FilterVariant> configure(const PluginGenerationPtr& gen,
                                         const config::FilterRef& ref, PluginMetrics& metrics,
                                         const std::string& field, FieldErrors& errors) {
  void* cfg = nullptr;
  const remora_plugin_descriptor_t& d = gen->descriptor();
  if (d.config_new != nullptr) {
    remora_config_ctx ctx{gen.get(), &metrics, {}};
    PluginScope scope(gen->name(), gen->host());
    char err[1024] = {0};
    cfg = d.config_new(&ctx, remora_str_t{ref.config_json.data(), ref.config_json.size()}, err,
                       sizeof(err));
    if (cfg == nullptr) {
      err[sizeof(err) - 1] = '\0';
      std::string msg = err[0] ? err : "rejected by the plugin";
      if (!ctx.error.empty()) msg += " (" + ctx.error + ")";
      errors.push_back(pluginConfigError(field, msg));
      nlohmann::json payload = describeGeneration(*gen);
      payload["field"] = field;
      payload["error"] = msg;
      publishLifecycle(*gen->host(), "config_rejected", payload);
      return nullptr;
    }
  }
  return std::make_unique<FilterVariant>(gen, cfg);
}

// Pairs each new entry with the old entry of the same plugin and occurrence, for the hand-off.
std::shared_ptr<StateHandoff> planHandoff(const FilterChain& next, const FilterChain* previous,
                                          size_t workers) {
  if (previous == nullptr) return nullptr;
  std::vector<StateHandoff::Pair> pairs;
  std::map<std::string, size_t> seen_new, seen_old;
  std::map<std::pair<std::string, size_t>, std::shared_ptr<const FilterEntry>> old_by_key;
  for (const auto& e : previous->entries)
    old_by_key[{e->generation().name(), seen_old[e->generation().name()]++}] = e;
  for (const auto& e : next.entries) {
    const std::string& name = e->generation().name();
    auto it = old_by_key.find({name, seen_new[name]++});
    if (it == old_by_key.end()) continue;
    const FilterVariant& from = it->second->variant(false);
    const FilterVariant& to = e->variant(false);
    if (!from.gen->canExportState() || !to.gen->canImportState()) continue;
    pairs.push_back({it->second, &from, &to});
  }
  if (pairs.empty()) return nullptr;
  return std::make_shared<StateHandoff>(std::move(pairs), workers);
}

}  // namespace

FieldError pluginConfigError(const std::string& block, const std::string& text) {
  // A canary's block is named "...config (canary build)": no path to extend.
  constexpr std::string_view kConfig = ".config";
  const size_t colon = text.find(": ");
  if (!block.ends_with(kConfig) || colon == std::string::npos ||
      !isFieldPath(std::string_view(text).substr(0, colon)))
    return {block, text};
  const std::string field = text.substr(0, colon);
  return {block + (field.front() == '[' ? "" : ".") + field, text.substr(colon + 2), block};
}

ConfigResult<std::shared_ptr<const FilterChain>> compileChain(const config::Listener& listener,
                                                              const std::string& path,
                                                              PluginRegistry& registry,
                                                              PluginMetrics& metrics,
                                                              const FilterChain* previous) {
  auto chain = std::make_shared<FilterChain>();
  FieldErrors errors;
  for (size_t i = 0; i < listener.filters.size(); ++i) {
    const config::FilterRef& ref = listener.filters[i];
    std::string at = path + ".filters[" + std::to_string(i) + "]";
    PluginGenerationPtr gen;
    if (!ref.path.empty()) {
      gen = loadBuild(ref.path, ref.name, at + ".path", registry, registry.cacheDir(), errors);
      if (!gen) continue;
    } else {
      gen = registry.find(ref.name);
    }
    if (!gen) {
      std::string why = registry.failure(ref.name);
      if (!why.empty()) {
        errors.push_back({at + ".name", "plugin \"" + ref.name + "\" failed to load: " + why});
      } else {
        std::string loaded;
        for (const std::string& n : registry.names()) loaded += (loaded.empty() ? "" : ", ") + n;
        errors.push_back({at + ".name", "unknown plugin \"" + ref.name + "\" (loaded: " +
                                            (loaded.empty() ? "none" : loaded) + ")"});
      }
      continue;
    }
    std::unique_ptr<FilterVariant> primary = configure(gen, ref, metrics, at + ".config", errors);
    if (!primary) continue;
    std::unique_ptr<FilterVariant> canary;
    CanaryRule rule;
    if (ref.canary) {
      PluginGenerationPtr b = loadBuild(ref.canary->path, ref.name, at + ".canary.path", registry,
                                        registry.cacheDir(), errors);
      if (b) canary = configure(b, ref, metrics, at + ".config (canary build)", errors);
      if (!canary) continue;
      rule = CanaryRule{ref.canary->percent, ref.canary->header, ref.canary->value};
    }
    chain->entries.push_back(std::make_shared<FilterEntry>(
        std::move(primary), std::move(canary), std::move(rule),
        ref.on_error.value_or(listener.on_error), ref.quarantine.value_or(listener.quarantine),
        registry.workers()));
  }
  if (chain->entries.size() > FilterChain::kMaxFilters)
    errors.push_back(
        {path + ".filters", "at most " + std::to_string(FilterChain::kMaxFilters) + " filters"});
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
    errors.push_back({path + ".filters", "the chain must include the router filter"});
  for (size_t i = 0; i < chain->entries.size(); ++i) {
    if (i > 0) chain->description.push_back(',');
    chain->description += chain->entries[i]->generation().name();
  }
  if (!errors.empty()) return errors;
  chain->handoff = planHandoff(*chain, previous, registry.workers());
  return std::shared_ptr<const FilterChain>(std::move(chain));
}

}  // namespace remora::plugin
