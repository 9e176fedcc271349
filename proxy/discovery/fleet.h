#pragma once
// Fleet: the sidecar's side of DESIGN §6 in one place — the etcd client, the config source
// (watch + ACK/NACK), the registration and endpoint discovery. Built by Server from the
// startup config; lives on the main thread. Server wires it with two callbacks: `submit`
// (apply a config text, the same path as a reload) and `publish` (hand an endpoint set to the
// workers).

#include <memory>
#include <string>

#include "config/config.h"
#include "discovery/config_source.h"
#include "discovery/endpoint_discovery.h"
#include "discovery/registrar.h"
#include "etcd/etcd_client.h"

namespace remora::discovery {

class Fleet {
 public:
  Fleet(event_base* base, const config::Config& startup, SubmitFn submit, PublishFn publish);
  // Starts the config watch and the registration (no-ops without sources.etcd / registration).
  void start();
  // After every applied config: start/stop endpoint discovery of etcd and dns clusters.
  void reconcile(const config::Config& config) { discovery_.reconcile(config); }
  const std::string& instance() const { return source_.instance; }

 private:
  config::EtcdSource source_;
  std::unique_ptr<etcd::Client> client_;
  std::unique_ptr<EtcdConfigSource> config_source_;
  std::unique_ptr<Registrar> registrar_;
  EndpointDiscovery discovery_;
};

// hostname-pid: unique per process on a host, readable in etcd listings.
std::string defaultInstanceId();

}  // namespace remora::discovery
