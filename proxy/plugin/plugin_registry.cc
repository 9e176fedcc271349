#include "plugin/plugin_registry.h"

#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace remora::plugin {

PluginRegistry::PluginRegistry(const remora_host_api_t* host, size_t workers)
    : host_(host), workers_(workers) {}

PluginRegistry::~PluginRegistry() = default;

void PluginRegistry::scan(const std::string& dir, const std::string& cache_dir) {
  namespace fs = std::filesystem;
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
    auto gen = PluginGeneration::load(path, cache_dir, host_, workers_);
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
    all_.push_back(st.generation);
  }
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

nlohmann::json PluginRegistry::describe() const {
  std::lock_guard<std::mutex> g(mu_);
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& weak : all_) {
    PluginGenerationPtr gen = weak.lock();
    if (!gen) continue;
    const remora_plugin_descriptor_t& d = gen->descriptor();
    auto cur = current_.find(gen->name());
    bool is_current = cur != current_.end() && cur->second == gen;
    plugins.push_back({{"name", gen->name()},
                       {"version", gen->version()},
                       {"abi", std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor)},
                       {"priority", d.priority},
                       {"sha256", gen->sha256()},
                       {"generation", gen->generation()},
                       {"path", gen->sourcePath()},
                       {"state", is_current ? "active" : "draining"},
                       {"inflight_streams", gen->inflightTotal()},
                       {"errors", gen->errorsTotal()}});
  }
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
  std::map<std::string, uint64_t> errors_by_filter;
  for (const auto& weak : all_) {
    PluginGenerationPtr gen = weak.lock();
    if (!gen) continue;
    errors_by_filter[gen->name()] += gen->errorsTotal();
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
  return {errors, inflight};
}

}  // namespace remora::plugin
