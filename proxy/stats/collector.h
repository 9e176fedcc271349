#pragma once
// Folds every worker's stats slots (stats.h) into prometheus-cpp MetricFamily objects at scrape
// time. This keeps prometheus-cpp's mutexes off the request path: workers bump plain per-worker
// slots and only the scrape, on the main thread, builds the families.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "stats/stats.h"

namespace remora::stats {

// Sums each series over all workers. Families (names are part of the operations contract):
//   remora_build_info{version}                                  gauge, always 1
//   remora_downstream_connections_active{listener}              gauge
//   remora_downstream_connections_total{listener}               counter
//   remora_requests_total{listener,code_class}                  counter
//   remora_request_duration_seconds{listener}                   histogram
//   remora_downstream_bytes_received_total{listener}            counter
//   remora_downstream_bytes_sent_total{listener}                counter
//   remora_protocol_errors_total{listener,kind}                 counter
//   remora_grpc_requests_total{listener,service,method,grpc_status} counter (grpc_stats.h)
//   remora_upstream_requests_total{cluster,code_class}          counter
//   remora_upstream_connect_failures_total{cluster}             counter
//   remora_upstream_connect_timeouts_total{cluster}             counter
//   remora_upstream_response_timeouts_total{cluster}            counter
//   remora_upstream_pending_overflow_total{cluster}             counter
//   remora_upstream_pending_requests{cluster}                   gauge
//   remora_upstream_connections_active{cluster,endpoint}        gauge
//   remora_upstream_connections_idle{cluster,endpoint}          gauge
// Every family is emitted on every scrape, even with no series yet, so dashboards can tell
// "no traffic" from "not exported".
class Collector : public prometheus::Collectable {
 public:
  // `store` must outlive the collector.
  explicit Collector(const Store& store) : store_(store) {}

  // Main thread (scrape). Takes the store's lock for the duration of the fold.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Store& store_;
};

// prometheus-cpp 1.0.1's Registry cannot register an external Collectable (only its Exposer can,
// and Remora serves /metrics itself). So the registry returned here is a Registry subclass that
// owns a Collector and appends its families to whatever was built through the ordinary
// prometheus-cpp API (BuildCounter() etc., e.g. by control-plane code).
//
// Ownership: the returned registry owns the collector, so the collector lives exactly as long as
// the last shared_ptr to the registry. `store` must outlive the registry.
// `extra` collectables (e.g. plugin metrics) are reported after the kernel's families.
std::shared_ptr<prometheus::Registry> makeRegistry(
    const Store& store, std::vector<std::shared_ptr<prometheus::Collectable>> extra = {});

// Renders the registry's families in the Prometheus text format (version 0.0.4).
std::string serialize(prometheus::Registry& registry);

}  // namespace remora::stats
