#pragma once
// Server: the main thread. Loads the config, owns the workers, the admin listener and the
// metrics registry, handles signals (SIGTERM/SIGINT drain, SIGHUP reload) and publishes config
// snapshots to every worker through the ConfigService. It never touches a stream.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "common/c_handles.h"
#include "common/result.h"
#include "config/config.h"
#include "discovery/fleet.h"
#include "event/dispatcher.h"
#include "kernel/config_service.h"
#include "kernel/config_watcher.h"
#include "kernel/snapshot.h"
#include "kernel/snapshot_publisher.h"
#include "kernel/worker.h"
#include "plugin/event_bus.h"
#include "plugin/plugin_metrics.h"
#include "plugin/plugin_registry.h"
#include "stats/stats.h"
#include "upstream/health_checker.h"

namespace prometheus {
class Registry;
}

namespace remora {

class Server {
 public:
  Server(std::string config_path, config::Config initial);
  ~Server();

  // Binds everything and runs until drained. Returns the process exit code.
  int run();

 private:
  static void onSignal(evutil_socket_t sig, short, void* arg);
  static void onGraceOver(evutil_socket_t, short, void* arg);
  static void onDeadline(evutil_socket_t, short, void* arg);

  // The ConfigService's applier: publishes `cfg` as snapshot `version` to every worker.
  ConfigStatus apply(std::shared_ptr<const config::Config> cfg, uint64_t version,
                     const std::string& source);
  void reloadFromFile();
  // A config text from a source other than the file (etcd): the reload path, answered with the
  // version in service. Process-level fields (workers, admin, sources, registration) stay those
  // of the startup file.
  discovery::Outcome submitConfig(const std::string& yaml, const std::string& source);
  void startFleet();
  // Binds the observe and control admin listeners (reading the control token first); false
  // after logging why start-up cannot go on.
  bool startAdmin(admin::AdminContext ctx);
  // Starts or stops the file watch to match `config_watch` of the config in service.
  void updateWatch();
  // Watches every certificate, key and CA file of the config in service (tls_material.h).
  void updateTlsWatch();
  void beginDrain();
  void finishDrain();

  std::string config_path_;
  std::shared_ptr<const config::Config> initial_;
  Dispatcher main_;
  std::unique_ptr<stats::Store> store_;
  // Plugin services outlive every snapshot and worker: a generation's stop() may still use them.
  plugin::EventBus bus_;
  std::shared_ptr<plugin::PluginMetrics> plugin_metrics_;
  // What this kernel lends its plugins; outlives the registry and every generation.
  plugin::HostContext host_context_;
  std::shared_ptr<plugin::PluginRegistry> plugins_;
  std::shared_ptr<prometheus::Registry> registry_;
  // Main-thread health checks; also a metrics collectable, so shared with the registry.
  std::shared_ptr<upstream::HealthChecker> health_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<admin::AdminServer> admin_;    // observe: probes, metrics, read-only views
  std::unique_ptr<admin::AdminServer> control_;  // every endpoint, the changes too
  std::vector<EventPtr> signals_;
  EventPtr grace_timer_;
  EventPtr deadline_timer_;
  std::unique_ptr<SnapshotPublisher> publisher_;
  std::unique_ptr<ConfigService> config_service_;
  std::unique_ptr<ConfigWatcher> watcher_;
  // By path: a change re-applies the config in service, so new handshakes get the new material.
  std::map<std::string, std::unique_ptr<ConfigWatcher>> tls_watchers_;
  std::unique_ptr<discovery::Fleet> fleet_;
  // Endpoint sets of discovered clusters, as last published to the workers (for /clusters).
  std::map<std::string, discovery::EndpointSet> discovered_;
  bool draining_ = false;
  size_t workers_drained_ = 0;
};

}  // namespace remora
