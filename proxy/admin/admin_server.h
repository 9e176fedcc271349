#pragma once
// An admin listener. Runs on the main thread's event_base; never touches a stream. Built on
// libevent's evhttp: admin traffic is low-rate and evhttp is a well-kept HTTP/1.1 server, so
// the kernel's own codec is not needed here.
//
// Two roles (DESIGN §7), one AdminServer each:
//   observe (admin.address, default 127.0.0.1:9901; what probes and Prometheus reach): GET/HEAD
//     /ready, /healthz, /metrics, /config, /config/history, /clusters, /plugins, /logging.
//     A request that would change the sidecar is refused here, pointing at the control listener.
//   control (admin.control, default 127.0.0.1:9902, or a Unix socket): every endpoint, the
//     read-only ones too, plus PUT /config, POST /config/rollback, POST /drain, POST /logging;
//     with a token, every request needs "Authorization: Bearer <token>".

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
  // /certs: every certificate and CA the TLS contexts in service hold (tls_inventory.h).
  std::function<nlohmann::json()> certs;
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

enum class AdminRole { kObserve, kControl };

// Where one admin listener binds and what it serves.
struct AdminListener {
  AdminRole role = AdminRole::kObserve;
  config::SocketAddress address;  // used when unix_path is empty
  std::string unix_path;          // a Unix socket instead of a TCP address
  uint32_t mode = 0600;           // the Unix socket file's permissions
  std::string token;              // control only: the bearer token; empty: none
  // observe only: where the control listener is, for the body of a refusal
  // ("127.0.0.1:9902", "unix:/run/remora/admin.sock").
  std::string control_hint;

  static AdminListener observe(const config::Admin& admin);
  // The token is read by the caller (readTokenFile) so that a missing file fails start-up.
  static AdminListener control(const config::Admin& admin, std::string token);
};

class AdminServer {
 public:
  // Binds the listener; an error names the field and the address (e.g. "admin.address
  // 127.0.0.1:9901: Address already in use", "admin.control.unix /run/x.sock: ...").
  static Result<std::unique_ptr<AdminServer>> create(event_base* base,
                                                     const AdminListener& listener,
                                                     AdminContext context);
  ~AdminServer();
  uint16_t port() const;  // the bound TCP port (useful when configured as 0); 0 on a Unix socket
  // "127.0.0.1:9901" or "unix:/run/remora/admin.sock", for logs.
  std::string where() const;

 private:
  AdminServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace remora::admin
