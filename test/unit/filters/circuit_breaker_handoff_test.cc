// The circuit breaker's state hand-off between builds: WorkerState::save() in one table,
// load() into another, as the plugin's exportState/importState do on each worker.

#include <gtest/gtest.h>

#include "circuit_breaker/breaker.h"
#include "circuit_breaker/cluster_state.h"

namespace remora::circuit_breaker {
namespace {

BreakerConfig configWithBreaker(uint64_t generation, uint32_t window_ms = 10000) {
  BreakerConfig c;
  c.generation = generation;
  ClusterLimits app;
  app.name = "app";
  app.max_active_requests = 100;
  BreakerSettings s;
  s.consecutive_failures = 2;
  s.failure_ratio = 0;
  s.cool_down_ms = 60000;
  s.half_open_probes = 1;
  s.window_ms = window_ms;
  app.breaker = s;
  app.outlier = OutlierSettings{};
  c.clusters.emplace("app", app);
  return c;
}

TEST(CircuitBreakerHandoffTest, AnOpenBreakerMovesToTheNewTable) {
  BreakerConfig old_config = configWithBreaker(1);
  WorkerState old_table;
  ClusterState& s = old_table.cluster(*old_config.find("app"), 1, nullptr);
  for (int i = 0; i < 2; ++i) {
    Breaker::Ticket t = s.breaker->admit(1000, nullptr);
    s.breaker->record(t, true, 1000);
  }
  ASSERT_EQ(s.breaker->state(), BreakerState::kOpen);
  s.active = 5;  // in flight on the old build: not moved

  BreakerConfig new_config = configWithBreaker(2);
  WorkerState new_table;
  new_table.load(old_table.save(), new_config);
  ClusterState& moved = new_table.cluster(*new_config.find("app"), 2, nullptr);
  ASSERT_TRUE(moved.breaker.has_value());
  EXPECT_EQ(moved.breaker->state(), BreakerState::kOpen);
  EXPECT_EQ(moved.active, 0u);
  // Still open within the cool-down, half-open after it (the open time moved too).
  EXPECT_FALSE(moved.breaker->admit(30000, nullptr).allowed);
  EXPECT_TRUE(moved.breaker->admit(61001, nullptr).allowed);
}

TEST(CircuitBreakerHandoffTest, FailuresSoFarCountInTheNewBuild) {
  BreakerConfig config = configWithBreaker(1);
  WorkerState old_table;
  ClusterState& s = old_table.cluster(*config.find("app"), 1, nullptr);
  s.breaker->record(s.breaker->admit(1000, nullptr), true, 1000);
  ASSERT_EQ(s.breaker->state(), BreakerState::kClosed);

  WorkerState new_table;
  new_table.load(old_table.save(), config);
  ClusterState& moved = new_table.cluster(*config.find("app"), 1, nullptr);
  moved.breaker->record(moved.breaker->admit(1001, nullptr), true, 1001);
  EXPECT_EQ(moved.breaker->state(), BreakerState::kOpen);  // the second consecutive failure
}

TEST(CircuitBreakerHandoffTest, ClustersTheNewConfigDoesNotGovernAreLeftBehind) {
  BreakerConfig config = configWithBreaker(1);
  WorkerState old_table;
  old_table.cluster(*config.find("app"), 1, nullptr);
  BreakerConfig other;
  other.generation = 2;
  WorkerState new_table;
  new_table.load(old_table.save(), other);
  EXPECT_TRUE(new_table.save().empty());
}

}  // namespace
}  // namespace remora::circuit_breaker
