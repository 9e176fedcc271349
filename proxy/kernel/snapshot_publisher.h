#pragma once
// SnapshotPublisher: turns a validated config into a snapshot and installs it on every worker
// (main thread). Listener sockets are opened first and chains compiled (plugin directory
// rescanned, each plugin accepting or refusing its config) before any worker sees the change,
// so a failure anywhere leaves the running snapshot in service.

#include <memory>
#include <string>
#include <vector>

#include "common/field_error.h"
#include "config/config.h"
#include "kernel/snapshot.h"
#include "kernel/worker.h"
#include "plugin/plugin_metrics.h"
#include "plugin/plugin_registry.h"

namespace remora {

class SnapshotPublisher {
 public:
  SnapshotPublisher(std::vector<std::unique_ptr<Worker>>& workers, plugin::PluginRegistry& plugins,
                    plugin::PluginMetrics& metrics)
      : workers_(workers), plugins_(plugins), metrics_(metrics) {}

  // Builds snapshot `version` from `config` and blocks until every worker has installed it, or
  // returns every error (a listener that cannot bind, a chain that does not compile).
  ConfigStatus publish(std::shared_ptr<const config::Config> config, uint64_t version,
                       const std::string& source);

  const SnapshotPtr& current() const { return current_; }
  // Drops the last snapshot (and with it chains and plugin generations) at shutdown.
  void reset() { current_.reset(); }

 private:
  void compileChains(const config::Config& config, Snapshot& snap, FieldErrors& errors);

  std::vector<std::unique_ptr<Worker>>& workers_;
  plugin::PluginRegistry& plugins_;
  plugin::PluginMetrics& metrics_;
  SnapshotPtr current_;
};

}  // namespace remora
