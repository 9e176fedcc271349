#pragma once
// WorkerCluster: one worker's view of an upstream cluster — its endpoints' pools, the load
// balancer's state and the cluster's stats. Created when a worker installs a snapshot and kept
// across snapshots while the cluster's config is unchanged, so pooled connections survive pushes.
// Streams hold it by shared_ptr, so a removed cluster lives until its last stream ends.

#include <memory>
#include <vector>

#include "config/config.h"
#include "kernel/dispatcher.h"
#include "stats/stats.h"
#include "upstream/endpoint_pool.h"
#include "upstream/load_balancer.h"

namespace remora::upstream {

class WorkerCluster {
 public:
  WorkerCluster(const config::Cluster& config, Dispatcher& dispatcher, stats::Store& store,
                size_t worker_index);
  ~WorkerCluster();

  const config::Cluster& config() const { return config_; }
  stats::ClusterStats& stats() { return stats_; }
  Dispatcher& dispatcher() { return dispatcher_; }

  // Picks an endpoint not in `tried` (a bitmask over endpoint indexes, tried in order beyond 64).
  // Returns nullptr when every endpoint was tried.
  EndpointPool* choose(uint64_t& tried);

  // Pending-queue accounting shared by the cluster's endpoints.
  bool tryAddPending() {
    if (pending_ >= config_.max_pending_requests) return false;
    ++pending_;
    stats_.pending_requests.add();
    return true;
  }
  // A request admitted before and put back (an HTTP/2 connection's overflow): not refused.
  void addPendingUnbounded() {
    ++pending_;
    stats_.pending_requests.add();
  }
  void removePending() {
    --pending_;
    stats_.pending_requests.sub();
  }

  void closeIdle();

  size_t endpointCount() const { return endpoints_.size(); }
  EndpointPool& endpoint(size_t i) { return *endpoints_[i]; }
  // Takes the endpoint at `address` out of load balancing for `ms` (outlier ejection).
  void eject(const std::string& address, uint32_t ms);

 private:
  config::Cluster config_;
  Dispatcher& dispatcher_;
  stats::ClusterStats& stats_;
  std::vector<std::unique_ptr<EndpointPool>> endpoints_;
  std::unique_ptr<LoadBalancer> lb_;
  uint32_t pending_ = 0;
};

}  // namespace remora::upstream
