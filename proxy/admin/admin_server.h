#pragma once
// The admin listener (default 127.0.0.1:9901). Runs on the main thread's event_base; never
// touches a stream. Built on libevent's evhttp: admin traffic is low-rate and evhttp is a
// well-kept HTTP/1.1 server, so the kernel's own codec is not needed here.
//
// Endpoints: /ready, /healthz, /metrics, /config (GET, PUT), /config/history,
// /config/rollback, /clusters, /plugins, /drain, /logging.

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "config/config.h"

namespace prometheus {
class Registry;
}

namespace remora {
class ConfigService;
}

namespace remora::stats {
class Store;
}

namespace remora::admin {

// What the admin endpoints read; every callback runs on the main thread.
struct AdminContext {
  std::function<bool()> ready;  // false while draining → /ready 503
  std::function<std::shared_ptr<const config::Config>()> config;  // the config in service
  std::shared_ptr<prometheus::Registry> registry;                 // serialized at /metrics
  const stats::Store* stats = nullptr;                            // per-endpoint connection gauges
  std::function<nlohmann::json()> plugins;                        // /plugins: generations
  // /clusters: an endpoint's active health-check state ({healthy, reason, last_result, ...}),
  // null when it is not health checked.
  std::function<nlohmann::json(const std::string& cluster, const std::string& address)>
      endpoint_health;
  // /clusters: the endpoint set last discovered for an etcd or dns cluster (null: none yet).
  std::function<std::shared_ptr<const std::vector<config::SocketAddress>>(const std::string&)>
      discovered;
  ConfigService* config_service = nullptr;  // PUT /config, history, rollback; null: 503
  std::function<void()> drain;              // POST /drain: begin the SIGTERM drain
};

class AdminServer {
 public:
  // Binds the address; an error names it (e.g. "admin.address 127.0.0.1:9901: Address in use").
  static Result<std::unique_ptr<AdminServer>> create(event_base* base,
                                                     const config::SocketAddress& address,
                                                     AdminContext context);
  ~AdminServer();
  uint16_t port() const;  // the bound port (useful when configured as 0)

 private:
  AdminServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace remora::admin
