#pragma once
// WorkerCluster: one worker's view of an upstream cluster — its endpoints' pools, the load
// balancer's state and the cluster's stats. Created when a worker installs a snapshot and kept
// across snapshots while the cluster's config is unchanged, so pooled connections survive pushes.
// Streams hold it by shared_ptr, so a removed cluster lives until its last stream ends.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/c_handles.h"
#include "config/config.h"
#include "event/dispatcher.h"
#include "network/tls_context.h"
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
  // The snapshot's TLS context for this cluster (nullptr: plain). Set at each install, so a
  // rotated certificate reaches new connections while pooled ones keep theirs.
  const std::shared_ptr<const network::TlsClientContext>& tls() const { return tls_; }
  void setTls(std::shared_ptr<const network::TlsClientContext> tls) {
    stats_.tls.enabled.store(tls != nullptr, std::memory_order_relaxed);
    tls_ = std::move(tls);
  }
  stats::ClusterStats& stats() { return stats_; }
  Dispatcher& dispatcher() { return dispatcher_; }

  // Picks an endpoint not in `tried` (a bitmask over endpoint indexes, tried in order beyond 64).
  // Returns nullptr when every endpoint was tried. Unhealthy and ejected endpoints are skipped
  // unless every endpoint is out.
  EndpointPool* choose(uint64_t& tried);

  bool originalDst() const { return config_.type == config::ClusterType::kOriginalDst; }
  // original_dst clusters: the pool for destination `key` ("ip:port"), made on first use; bit 0
  // of `tried` marks it tried (one destination, so nothing else to try). Nullptr when tried, or
  // when the worker already holds kMaxOriginalDstPools destinations for this cluster.
  EndpointPool* chooseOriginalDst(std::string_view key, const sockaddr_storage& addr, socklen_t len,
                                  uint64_t& tried);
  static constexpr size_t kMaxOriginalDstPools = 4096;
  size_t originalDstPoolCount() const { return by_dst_.size(); }

  // Pending-queue accounting shared by the cluster's endpoints. `stream_limit` is a filter's
  // tighter bound for the one stream asking (remora_host_api_t.set_upstream_limits); the
  // cluster's own max_pending_requests is checked first, so a refusal is blamed on it when both
  // are reached.
  PendingAdmission tryAddPending(uint32_t stream_limit) {
    if (pending_ >= config_.max_pending_requests) return PendingAdmission::kClusterFull;
    if (pending_ >= stream_limit) return PendingAdmission::kStreamLimit;
    ++pending_;
    stats_.pending_requests.add();
    return PendingAdmission::kAdmitted;
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

  // Retries in flight on this worker (streams on a retry attempt; set_upstream_limits'
  // max_retries). A stream takes a slot at its first retry and gives it back when it ends.
  bool tryAddRetry(uint32_t limit) {
    if (retries_ >= limit) return false;
    ++retries_;
    return true;
  }
  void removeRetry() { --retries_; }

  void closeIdle();

  size_t endpointCount() const { return endpoints_.size(); }
  EndpointPool& endpoint(size_t i) { return *endpoints_[i]; }
  // Replaces the endpoint set (discovery: etcd, dns). Pools of endpoints that stay are kept with
  // their connections; removed endpoints stop being chosen, their idle connections close and
  // their pool lives on until its last connection ends. Owning worker only.
  void setEndpoints(const std::vector<config::SocketAddress>& addresses);

  // Takes the endpoint at `address` out of load balancing for `ms` (outlier ejection).
  void eject(const std::string& address, uint32_t ms);
  // Active health checking's verdict for the endpoint at `address`.
  void setHealthy(const std::string& address, bool healthy);

 private:
  config::Cluster config_;
  std::shared_ptr<const network::TlsClientContext> tls_;
  Dispatcher& dispatcher_;
  stats::ClusterStats& stats_;
  std::vector<std::unique_ptr<EndpointPool>> endpoints_;
  std::unique_ptr<LoadBalancer> lb_;
  // Removed endpoints whose connections are still in use (setEndpoints).
  std::vector<std::unique_ptr<EndpointPool>> retired_;
  size_t worker_index_;
  stats::Store& store_;
  uint32_t pending_ = 0;
  uint32_t retries_ = 0;

  // original_dst: one pool per destination, looked up without allocating (transparent hash).
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct DstPool {
    std::unique_ptr<EndpointPool> pool;
    bool unused_at_last_sweep = false;
  };
  static void onSweep(evutil_socket_t, short, void* arg);
  void sweep();
  std::unordered_map<std::string, DstPool, KeyHash, std::equal_to<>> by_dst_;
  stats::EndpointStats* dst_stats_ = nullptr;  // one series for all destinations (bounded labels)
  EventPtr sweep_timer_;
};

}  // namespace remora::upstream
