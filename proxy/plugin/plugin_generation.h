#pragma once
// PluginGeneration: one loaded build of a filter plugin. Before dlopen the .so is copied to a
// content-addressed path (its sha256), so a new build at the same path is a new generation and
// never aliases the old one in the dynamic loader's cache. A generation is shared (shared_ptr)
// by the registry, every compiled chain entry and every stream using it; the last owner's
// release calls the plugin's stop() and dlclose()s it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "plugin/abi/remora_filter.h"
#include "plugin/host_context.h"
#include "stats/stats.h"

namespace remora::plugin {

class PluginGeneration {
 public:
  // Copies `path` into `cache_dir`, dlopens the copy, checks the descriptor and calls start().
  // Errors name the file and the cause: not a shared object, missing symbol, ABI mismatch.
  // `context` is the kernel's (it must outlive the generation): the generation is released
  // through its main dispatcher, publishes its lifecycle events on its bus, and names it in the
  // PluginScope of everything it runs.
  static Result<std::shared_ptr<PluginGeneration>> load(const std::string& path,
                                                        const std::string& cache_dir,
                                                        const remora_host_api_t* host,
                                                        const HostContext& context, size_t workers);
  ~PluginGeneration();
  PluginGeneration(const PluginGeneration&) = delete;
  PluginGeneration& operator=(const PluginGeneration&) = delete;

  const remora_plugin_descriptor_t& descriptor() const { return *desc_; }
  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& sha256() const { return sha256_; }
  const std::string& sourcePath() const { return source_path_; }
  uint64_t generation() const { return generation_; }
  // The kernel this generation was loaded into.
  const HostContext* host() const { return context_; }

  // In-flight streams, counted per worker (single writer each) and summed for /plugins.
  stats::Gauge& inflight(size_t worker) { return inflight_[worker]; }
  int64_t inflightTotal() const;

  // Hook failures (REMORA_ERROR, or over the hook budget), summed into
  // remora_filter_errors_total{filter}.
  stats::Counter& errors(size_t worker) { return errors_[worker]; }
  uint64_t errorsTotal() const;

  // Streams that ran this generation (as a chain entry's build or its canary), for
  // remora_plugin_requests_total{filter,version}.
  stats::Counter& requests(size_t worker) { return requests_[worker]; }
  uint64_t requestsTotal() const;

  // Chain entries of live snapshots that quarantined this generation (any thread).
  void addQuarantined(int delta) { quarantined_.fetch_add(delta, std::memory_order_relaxed); }
  int quarantined() const { return quarantined_.load(std::memory_order_relaxed); }

  // Whether the descriptor carries the ABI 1.1 state hand-off hooks.
  bool canExportState() const;
  bool canImportState() const;

 private:
  PluginGeneration() = default;
  static void release(PluginGeneration* gen);

  const HostContext* context_ = nullptr;
  void* handle_ = nullptr;
  const remora_plugin_descriptor_t* desc_ = nullptr;
  bool started_ = false;
  std::string name_;
  std::string version_;
  std::string sha256_;
  std::string source_path_;
  std::string loaded_path_;
  uint64_t generation_ = 0;
  std::unique_ptr<stats::Gauge[]> inflight_;
  std::unique_ptr<stats::Counter[]> errors_;
  std::unique_ptr<stats::Counter[]> requests_;
  std::atomic<int> quarantined_{0};
  size_t workers_ = 0;
};

using PluginGenerationPtr = std::shared_ptr<PluginGeneration>;

// sha256 of a file as lower-case hex.
Result<std::string> sha256File(const std::string& path);

}  // namespace remora::plugin
