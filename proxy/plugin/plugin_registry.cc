#include "plugin/plugin_registry.h"

#include <sys/stat.h>

#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "plugin/filter_chain.h"
#include "plugin/lifecycle_events.h"

namespace remora::plugin {

PluginRegistry::PluginRegistry(const remora_host_api_t* host, const HostContext& context,
                               size_t workers)
    : host_(host), context_(context), workers_(workers) {}

PluginRegistry::~PluginRegistry() = default;

void PluginRegistry::scan(const std::string& dir, const std::string& cache_dir) {
  namespace fs = std::filesystem;
  cache_dir_ = cache_dir;
  if (dir.empty()) return;
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".so") paths.push_back(entry.path().string());
  if (ec) {
    spdlog::error("plugins.dir {}: {}", dir, ec.message());
    return;
  }
  std::sort(paths.begin(), paths.end());
  std::lock_guard<std::mutex> g(mu_);
  for (const std::string& path : paths) {
    struct stat sb {};
    FileStamp stamp;
    if (::stat(path.c_str(), &sb) == 0) {
      stamp = {static_cast<uint64_t>(sb.st_dev), static_cast<uint64_t>(sb.st_ino),
               static_cast<uint64_t>(sb.st_size),
               static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec,
               static_cast<int64_t>(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec};
    }
    auto known = files_.find(path);
    if (known != files_.end() && stamp.ino != 0 && known->second.stamp == stamp &&
        stamp.mtime_ns + kRacyWindowNs < known->second.hashed_at_ns)
      continue;
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    auto sha = sha256File(path);
    if (!sha) continue;
    FileState& st = files_[path];
    st.stamp = stamp;
    st.hashed_at_ns = now_ns;
    if (st.sha256 == *sha) continue;  // unchanged
    st.sha256 = *sha;
    auto gen = PluginGeneration::load(path, cache_dir, host_, context_, workers_);
    if (!gen) {
      st.error = gen.error();
      st.generation.reset();
      spdlog::error("plugin not loaded: {}", st.error);
      continue;
    }
    st.error.clear();
    st.generation = gen.value();
    auto& cur = current_[st.generation->name()];
    if (cur && cur->sha256() != st.generation->sha256())
      spdlog::info("plugin {}: generation {} replaces {} for new configs", cur->name(),
                   st.generation->generation(), cur->generation());
    cur = st.generation;
    remember(st.generation);
  }
}

void PluginRegistry::pruneUnloaded() const {
  for (const Known& k : all_) {
    if (!k.gen.expired()) continue;
    unloaded_.push_back(k.info);
    if (unloaded_.size() > kUnloadedKept) unloaded_.erase(unloaded_.begin());
  }
  std::erase_if(all_, [](const Known& k) { return k.gen.expired(); });
}

void PluginRegistry::remember(const PluginGenerationPtr& gen) {
  pruneUnloaded();
  for (const Known& k : all_)
    if (k.gen.lock() == gen) return;
  nlohmann::json info = describeGeneration(*gen);
  info["state"] = "unloaded";
  all_.push_back({gen, std::move(info)});
}

Result<PluginGenerationPtr> PluginRegistry::loadPath(const std::string& path,
                                                     const std::string& cache_dir) {
  auto sha = sha256File(path);
  if (!sha) return Error{sha.error()};
  std::lock_guard<std::mutex> g(mu_);
  for (const Known& k : all_) {
    PluginGenerationPtr gen = k.gen.lock();
    if (gen && gen->sha256() == *sha) return gen;
  }
  auto gen = PluginGeneration::load(path, cache_dir, host_, context_, workers_);
  if (!gen) return Error{gen.error()};
  remember(gen.value());
  return gen.value();
}

PluginGenerationPtr PluginRegistry::find(const std::string& name) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = current_.find(name);
  return it == current_.end() ? nullptr : it->second;
}

std::string PluginRegistry::failure(const std::string& name) const {
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& [path, st] : files_) {
    std::filesystem::path p(path);
    if (!st.error.empty() && p.stem() == name) return st.error;
  }
  return "";
}

std::vector<std::string> PluginRegistry::names() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> out;
  for (const auto& [name, gen] : current_) out.push_back(name);
  return out;
}

namespace {

// Where the chains in service use `gen`: [{"listener", "entry", "role": "primary"|"canary"}].
nlohmann::json usage(const PluginGeneration* gen, const PluginRegistry::Chains& chains,
                     bool& quarantined) {
  nlohmann::json used = nlohmann::json::array();
  for (const auto& [listener, chain] : chains) {
    for (size_t i = 0; i < chain->entries.size(); ++i) {
      const FilterEntry& e = *chain->entries[i];
      for (bool canary : {false, true}) {
        if (canary && !e.hasCanary()) continue;
        const FilterVariant& v = e.variant(canary);
        if (v.gen.get() != gen) continue;
        bool q = v.quarantined.load(std::memory_order_relaxed);
        quarantined |= q;
        used.push_back({{"listener", listener},
                        {"entry", i},
                        {"role", canary ? "canary" : "primary"},
                        {"quarantined", q}});
      }
    }
  }
  return used;
}

}  // namespace

nlohmann::json PluginRegistry::describe(const Chains& chains) const {
  std::lock_guard<std::mutex> g(mu_);
  nlohmann::json plugins = nlohmann::json::array();
  for (const Known& k : all_) {
    PluginGenerationPtr gen = k.gen.lock();
    if (!gen) continue;
    const remora_plugin_descriptor_t& d = gen->descriptor();
    bool quarantined = gen->quarantined() > 0;
    nlohmann::json used = usage(gen.get(), chains, quarantined);
    // Active: in a chain in service, or the plugins.dir build the next config gets. Draining:
    // only older snapshots and in-flight streams still hold it.
    auto cur = current_.find(gen->name());
    bool is_current = cur != current_.end() && cur->second == gen;
    const char* state = quarantined                     ? "quarantined"
                        : (!used.empty() || is_current) ? "active"
                                                        : "draining";
    plugins.push_back({{"name", gen->name()},
                       {"version", gen->version()},
                       {"abi", std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor)},
                       {"priority", d.priority},
                       {"sha256", gen->sha256()},
                       {"generation", gen->generation()},
                       {"path", gen->sourcePath()},
                       {"state", state},
                       {"used_by", used},
                       {"inflight_streams", gen->inflightTotal()},
                       {"requests", gen->requestsTotal()},
                       {"errors", gen->errorsTotal()}});
  }
  pruneUnloaded();
  for (const nlohmann::json& u : unloaded_) plugins.push_back(u);
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& [path, st] : files_)
    if (!st.error.empty()) failed.push_back({{"path", path}, {"error", st.error}});
  return {{"plugins", plugins}, {"failed", failed}};
}

std::vector<prometheus::MetricFamily> PluginRegistry::Collect() const {
  using prometheus::ClientMetric;
  using prometheus::MetricFamily;
  std::lock_guard<std::mutex> g(mu_);
  MetricFamily errors{"remora_filter_errors_total",
                      "Filter hooks that failed (answered 500 or reset).",
                      prometheus::MetricType::Counter,
                      {}};
  MetricFamily inflight{"remora_plugin_inflight_streams",
                        "Streams using each loaded plugin generation.",
                        prometheus::MetricType::Gauge,
                        {}};
  MetricFamily requests{"remora_plugin_requests_total",
                        "Streams run by each plugin build (chain entry or canary).",
                        prometheus::MetricType::Counter,
                        {}};
  MetricFamily quarantined{"remora_plugin_quarantined",
                           "Chain entries in service whose build is quarantined.",
                           prometheus::MetricType::Gauge,
                           {}};
  std::map<std::string, uint64_t> errors_by_filter;
  // Label sets stay bounded: one per live (filter, version); builds sharing a version add up.
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, int>> by_version;
  for (const Known& k : all_) {
    PluginGenerationPtr gen = k.gen.lock();
    if (!gen) continue;
    errors_by_filter[gen->name()] += gen->errorsTotal();
    auto& v = by_version[{gen->name(), gen->version()}];
    v.first += gen->requestsTotal();
    v.second += gen->quarantined();
    ClientMetric cm;
    cm.label = {{"filter", gen->name()},
                {"version", gen->version()},
                {"generation", std::to_string(gen->generation())}};
    cm.gauge.value = double(gen->inflightTotal());
    inflight.metric.push_back(cm);
  }
  for (const auto& [name, n] : errors_by_filter) {
    ClientMetric cm;
    cm.label = {{"filter", name}};
    cm.counter.value = double(n);
    errors.metric.push_back(cm);
  }
  for (const auto& [key, v] : by_version) {
    ClientMetric cm;
    cm.label = {{"filter", key.first}, {"version", key.second}};
    cm.counter.value = double(v.first);
    requests.metric.push_back(cm);
    ClientMetric q;
    q.label = cm.label;
    q.gauge.value = double(v.second);
    quarantined.metric.push_back(q);
  }
  return {errors, inflight, requests, quarantined};
}

}  // namespace remora::plugin
