#include "cluster_state.h"

namespace remora::circuit_breaker {

ClusterState& WorkerState::cluster(const ClusterLimits& limits, uint64_t generation,
                                   std::optional<BreakerState>* dropped) {
  auto it = clusters_.find(std::string_view(limits.name));
  if (it == clusters_.end()) it = clusters_.emplace(limits.name, ClusterState{}).first;
  ClusterState& state = it->second;
  if (state.generation == generation) return state;  // the common case: one compare
  state.generation = generation;
  if (!limits.breaker) {
    if (state.breaker && state.breaker->state() != BreakerState::kClosed && dropped) {
      *dropped = state.breaker->state();
    }
    state.breaker.reset();
  } else if (!state.breaker) {
    state.breaker.emplace(*limits.breaker);
  } else if (!(state.breaker->settings() == *limits.breaker)) {
    state.breaker->reconfigure(*limits.breaker);
  }
  return state;
}

nlohmann::json WorkerState::save() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, state] : clusters_) {
    nlohmann::json c = {{"outlier", state.outlier.save()}};
    if (state.breaker) c["breaker"] = state.breaker->save();
    out[name] = std::move(c);
  }
  return out;
}

void WorkerState::load(const nlohmann::json& saved, const BreakerConfig& config) {
  for (const auto& [name, c] : saved.items()) {
    const ClusterLimits* limits = config.find(name);
    if (limits == nullptr) continue;
    ClusterState& state = clusters_[name];
    state.generation = config.generation;
    state.breaker.reset();
    if (limits->breaker) {
      state.breaker.emplace(*limits->breaker);
      if (c.contains("breaker")) state.breaker->load(c["breaker"]);
    }
    if (c.contains("outlier")) state.outlier.load(c["outlier"]);
  }
}

}  // namespace remora::circuit_breaker
