#pragma once
// WorkerState: what one worker knows about each governed cluster — requests in flight, its
// breaker and its outlier counts. One table per worker thread (the filter keeps them in an
// sdk::PerWorker), so the request path takes no lock; the price is that limits are per worker
// (see README).
//
// The table is keyed by cluster name, not by config object: a reload keeps the counts of streams
// still in flight and an open breaker stays open, with the new settings applied.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "breaker.h"
#include "breaker_config.h"
#include "outlier_detector.h"

namespace remora::circuit_breaker {

struct ClusterState {
  uint32_t active = 0;      // admitted requests not yet logged
  uint64_t generation = 0;  // the config generation whose settings are applied
  std::optional<Breaker> breaker;
  OutlierDetector outlier;
};

class WorkerState {
 public:
  // This worker's state for `limits.name`, with the settings of config `generation` applied.
  // A breaker taken out of the config is dropped; if it was not closed, the state it was in is
  // returned through `dropped` so the caller can report it closed.
  ClusterState& cluster(const ClusterLimits& limits, uint64_t generation,
                        std::optional<BreakerState>* dropped);

  // Forgets everything; for tests, which share one thread.
  void clear() { clusters_.clear(); }

  // State hand-off to another build of the plugin (this worker's tables): breakers and outlier
  // counts by cluster. Requests in flight are not moved: the old build counts them out itself.
  nlohmann::json save() const;
  // Takes the clusters `config` governs from `saved`, with `config`'s settings.
  void load(const nlohmann::json& saved, const BreakerConfig& config);

 private:
  // Node-based: a ClusterState's address is stable for a stream to keep between hooks.
  std::unordered_map<std::string, ClusterState, StringHash, std::equal_to<>> clusters_;
};

}  // namespace remora::circuit_breaker
