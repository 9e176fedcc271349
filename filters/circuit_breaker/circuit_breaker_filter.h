#pragma once
// The circuit_breaker filter on the SDK. Per stream:
//   on_request_headers: read the stream's cluster (metadata "remora.cluster", set by the kernel
//     from the router's decision), then refuse with 503 + x-remora-overloaded when the worker
//     already has max_active_requests in flight to it or its breaker is open; otherwise hand the
//     kernel the cluster's max_pending_requests and max_retries for this stream
//     (set_upstream_limits), which it checks when the stream would queue or retry;
//   on_log: count the request out, count what those bounds refused, judge the outcome (status,
//     response flags) for the breaker and the endpoint's outlier counts, and eject the endpoint
//     when it crossed a threshold.
//
// Chain position: after the router (priority 1100), because the cluster is only known once the
// route is decided.

#include <remora/sdk/filter.h>
#include <remora/sdk/per_worker.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "breaker_config.h"
#include "cluster_state.h"

namespace remora::circuit_breaker {

// Metric handles of one governed cluster (label cluster=<name>).
struct ClusterMetrics {
  sdk::Gauge active;     // requests in flight
  sdk::Gauge open;       // workers whose breaker is open
  sdk::Gauge half_open;  // workers whose breaker is half-open
  sdk::Counter opened;
  sdk::Counter ejections;
  sdk::Counter overloaded;        // refused at max_active_requests
  sdk::Counter rejected_open;     // refused by an open (or fully probing half-open) breaker
  sdk::Counter pending_overflow;  // refused by the kernel at max_pending_requests
  sdk::Counter retry_overflow;    // retries not attempted at max_retries
};

class BreakerPluginConfig {
 public:
  static std::unique_ptr<BreakerPluginConfig> create(const nlohmann::json& json,
                                                     sdk::ConfigContext& ctx, std::string& error);
  // The per-worker tables live as long as the plugin, not one config, so a reload keeps the
  // requests in flight counted and an open breaker open.
  static bool onPluginStart(std::string& error);
  static void onPluginStop();
  static sdk::PerWorker<WorkerState>* workerStates();

  // State hand-off (worker thread). The tables already outlive a config within one build, so
  // this only moves them to another build: an import whose bytes come from this very build (same
  // table) is a no-op.
  std::string exportState() const;
  void importState(std::string_view state) const;

  std::unique_ptr<BreakerConfig> config;
  std::vector<ClusterMetrics> metrics;  // by ClusterLimits::index
  // One warning per config when a stream arrives without a cluster (filter before the router).
  mutable std::atomic<bool> no_cluster_logged{false};
  // One warning per config when the kernel cannot enforce max_pending_requests/max_retries.
  mutable std::atomic<bool> no_limits_logged{false};
};

class BreakerFilter : public sdk::Filter {
 public:
  explicit BreakerFilter(const BreakerPluginConfig& config) : config_(config) {}

  sdk::Status onRequestHeaders(bool end_stream) override;
  void onLog() override;

 private:
  sdk::Status refuse(const char* body);
  void setUpstreamLimits(const ClusterLimits& limits);
  void reportTransition(const ClusterLimits& limits, const Transition& t);
  void judgeEndpoint(Outcome outcome, std::string_view address, uint64_t now_ms);

  const BreakerPluginConfig& config_;
  // Set when the stream was admitted to a governed cluster; on_log counts it out.
  const ClusterLimits* limits_ = nullptr;
  ClusterState* state_ = nullptr;
  Breaker::Ticket ticket_;
  bool upstream_limits_set_ = false;  // the kernel was given max_pending/max_retries
};

}  // namespace remora::circuit_breaker
