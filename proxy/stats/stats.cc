#include "stats/stats.h"

#include <algorithm>
#include <cmath>

#include "common/assert.h"

namespace remora::stats {

void Histogram::observe(double seconds) {
  // A clock step backwards, a NaN or an infinity must not poison the sum (llround is undefined
  // for them); such a sample counts as zero.
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  // Prometheus buckets are "le": the first bound >= the value; past the last bound is +Inf.
  auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  buckets_[static_cast<size_t>(it - kBounds.begin())].inc();
  count_.inc();
  // Microseconds keep the sum an integer counter; the resolution is far below any bucket width.
  sum_micros_.inc(static_cast<uint64_t>(std::llround(seconds * 1e6)));
}

Store::Store(size_t workers) : workers_(workers) {}

ListenerStats& Store::listener(size_t worker, const std::string& name) {
  std::lock_guard<std::mutex> g(mu_);
  REMORA_ASSERT(worker < workers_.size());
  auto& slot = workers_[worker].listeners[name];
  if (!slot) slot = std::make_unique<ListenerStats>();
  return *slot;
}

ClusterStats& Store::cluster(size_t worker, const std::string& name) {
  std::lock_guard<std::mutex> g(mu_);
  REMORA_ASSERT(worker < workers_.size());
  auto& slot = workers_[worker].clusters[name];
  if (!slot) slot = std::make_unique<ClusterStats>();
  return *slot;
}

EndpointStats& Store::endpoint(size_t worker, const std::string& cluster,
                               const std::string& address) {
  std::lock_guard<std::mutex> g(mu_);
  REMORA_ASSERT(worker < workers_.size());
  // The endpoint map lives inside the cluster block; it is only ever modified here, under the
  // same lock the scrape side holds, so the scraper never walks a map that is being rebalanced.
  auto& cluster_slot = workers_[worker].clusters[cluster];
  if (!cluster_slot) cluster_slot = std::make_unique<ClusterStats>();
  auto& slot = cluster_slot->endpoints[address];
  if (!slot) slot = std::make_unique<EndpointStats>();
  return *slot;
}

}  // namespace remora::stats
