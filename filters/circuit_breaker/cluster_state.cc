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

}  // namespace remora::circuit_breaker
