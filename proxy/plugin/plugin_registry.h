#pragma once
// PluginRegistry: the plugins the kernel knows (main thread). The plugin directory is scanned at
// start-up and on every reload; a file whose contents changed becomes a new generation, while
// generations still used by a snapshot or a stream stay loaded until their last user is gone.
// /plugins lists every live generation plus files that failed to load, with the reason.

#include <prometheus/collectable.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin/plugin_generation.h"

namespace remora::plugin {

struct FilterChain;

class PluginRegistry : public prometheus::Collectable {
 public:
  // `context` is the kernel's services, handed to every generation loaded; it must outlive the
  // registry and its generations.
  PluginRegistry(const remora_host_api_t* host, const HostContext& context, size_t workers);
  ~PluginRegistry() override;

  // Main thread. Loads every new or changed *.so in `dir`. Broken files are logged and listed
  // at /plugins; they fail only configs that name them.
  void scan(const std::string& dir, const std::string& cache_dir);

  // The plugin cache directory of the last scan (where loadPath copies builds too).
  const std::string& cacheDir() const { return cache_dir_; }
  size_t workers() const { return workers_; }

  // The newest generation of `name`, or nullptr.
  PluginGenerationPtr find(const std::string& name) const;
  // Why `name` is unusable if a file claiming it failed, or "" (for error messages).
  std::string failure(const std::string& name) const;
  std::vector<std::string> names() const;

  // Main thread. The generation built from the file at `path` (a chain entry's `path`), loaded
  // if no live generation has its contents (sha256) yet. The registry keeps no strong reference:
  // the build unloads once no snapshot or stream uses it.
  Result<PluginGenerationPtr> loadPath(const std::string& path, const std::string& cache_dir);

  // Every generation: loaded ones with their state (active, draining, quarantined) and the chain
  // entries of `chains` (the snapshot in service, by listener) that use them, then the last
  // unloaded ones.
  using Chains = std::map<std::string, std::shared_ptr<const FilterChain>>;
  nlohmann::json describe(const Chains& chains = {}) const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // What stat() says about a file: when none of it changed, neither did the contents, and the
  // scan skips hashing it (hashing every plugin on each config push costs milliseconds per MiB).
  // File times tick with the kernel's coarse clock, so a file modified shortly before it was
  // hashed could change again with the same stamp; like git's "racily clean" entries, such a
  // file is hashed again until its mtime is kRacyWindowNs older than the last hash.
  static constexpr int64_t kRacyWindowNs = 2'000'000'000;
  struct FileStamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  struct FileState {
    FileStamp stamp;
    int64_t hashed_at_ns = 0;  // wall clock when `sha256` was computed
    std::string sha256;
    PluginGenerationPtr generation;  // current generation loaded from this file
    std::string error;
  };

  const remora_host_api_t* host_;
  const HostContext& context_;
  size_t workers_;
  std::string cache_dir_ = "/tmp/remora-plugin-cache";
  mutable std::mutex mu_;  // the scrape reads from the main thread too, but keep it simple
  std::map<std::string, FileState> files_;              // by path
  std::map<std::string, PluginGenerationPtr> current_;  // by plugin name
  // Every generation loaded and not yet reported unloaded, with what /plugins shows once it is
  // gone (the last kUnloadedKept of those are kept).
  struct Known {
    std::weak_ptr<PluginGeneration> gen;
    nlohmann::json info;
  };
  static constexpr size_t kUnloadedKept = 16;
  void remember(const PluginGenerationPtr& gen);
  // Moves generations gone since the last call to the bounded unloaded_ list (mu_ held).
  void pruneUnloaded() const;
  mutable std::vector<Known> all_;
  mutable std::vector<nlohmann::json> unloaded_;
};

}  // namespace remora::plugin
