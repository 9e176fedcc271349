#pragma once
// HealthChecker: active health checking of every static cluster endpoint that has a
// `health_check`, on the main thread (DESIGN §2). Each endpoint is probed every `interval`
// (HealthProbe); after `unhealthy_threshold` consecutive failures it is taken out, after
// `healthy_threshold` consecutive passes it comes back. Each change is published to every
// worker's pool for that cluster (a posted closure), where the load balancer skips unhealthy
// endpoints as it skips ejected ones.
//
// Also a prometheus::Collectable: remora_health_check_total{cluster,result} and
// remora_endpoint_healthy{cluster,endpoint}. Collect() runs on the main thread (the admin
// listener serves /metrics there), like every other method, so nothing here is locked.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/c_handles.h"
#include "config/config.h"
#include "event/dispatcher.h"
#include "upstream/health_probe.h"

namespace remora::upstream {

class HealthChecker : public prometheus::Collectable {
 public:
  // Tells every worker that endpoint `address` of `cluster` is (un)healthy.
  using Publish =
      std::function<void(const std::string& cluster, const std::string& address, bool healthy)>;

  HealthChecker(Dispatcher& main, Publish publish);
  ~HealthChecker() override;

  // Main thread, after a config is applied: starts checks for new endpoints, stops removed ones,
  // keeps the state of endpoints whose cluster and check are unchanged. Unhealthy endpoints are
  // published again, since a worker's rebuilt cluster starts with every endpoint healthy.
  // `tls`: the snapshot's contexts by cluster name; checks of those clusters run over TLS.
  void update(
      const config::Config& config,
      const std::map<std::string, std::shared_ptr<const network::TlsClientContext>>& tls = {});

  struct EndpointHealth {
    bool healthy = true;
    std::string reason;       // why it is out: "health check failed: status 503"
    std::string last_result;  // the last check's detail: "status 200", "timeout after 1000 ms"
    uint32_t consecutive_failures = 0;
    uint32_t consecutive_passes = 0;
  };
  // Nullptr when the endpoint is not health checked.
  const EndpointHealth* find(const std::string& cluster, const std::string& address) const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Target;
  static void onTimer(evutil_socket_t, short, void* arg);
  void probe(Target& t);
  void onResult(Target& t, const ProbeResult& result);

  Dispatcher& main_;
  Publish publish_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Target>> targets_;
  // (cluster, result label) → checks; kept across reloads (counters never go back).
  std::map<std::pair<std::string, std::string>, uint64_t> results_;
};

}  // namespace remora::upstream
