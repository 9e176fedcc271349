#include "upstream/load_balancer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace remora::upstream {
namespace {

using config::LbPolicy;

// A random source that replays `values`, then repeats the last one.
std::function<uint64_t()> scripted(std::vector<uint64_t> values) {
  size_t i = 0;
  return [values = std::move(values), i]() mutable {
    uint64_t v = values[std::min(i, values.size() - 1)];
    ++i;
    return v;
  };
}

std::function<uint32_t(size_t)> activeFrom(const std::vector<uint32_t>& active) {
  return [&active](size_t i) { return active.at(i); };
}

uint64_t bit(int i) {
  return uint64_t{1} << i;
}

TEST(RoundRobinTest, CyclesThroughEveryEndpoint) {
  std::vector<uint32_t> active(3, 0);
  auto lb = makeLoadBalancer(LbPolicy::kRoundRobin, 3, activeFrom(active), scripted({0}));
  std::vector<int> picks;
  for (int k = 0; k < 7; ++k) picks.push_back(lb->pick(0));
  EXPECT_EQ(picks, (std::vector<int>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoundRobinTest, StartsAtARandomEndpoint) {
  std::vector<uint32_t> active(4, 0);
  // Workers start at different places so they do not all hit endpoint 0 first.
  auto lb = makeLoadBalancer(LbPolicy::kRoundRobin, 4, activeFrom(active), scripted({6}));
  EXPECT_EQ(lb->pick(0), 2);
  EXPECT_EQ(lb->pick(0), 3);
  EXPECT_EQ(lb->pick(0), 0);
}

TEST(RoundRobinTest, SkipsTriedEndpoints) {
  std::vector<uint32_t> active(4, 0);
  auto lb = makeLoadBalancer(LbPolicy::kRoundRobin, 4, activeFrom(active), scripted({0}));
  const uint64_t tried = bit(1) | bit(2);
  std::vector<int> picks;
  for (int k = 0; k < 4; ++k) picks.push_back(lb->pick(tried));
  EXPECT_EQ(picks, (std::vector<int>{0, 3, 0, 3}));
}

TEST(RoundRobinTest, ReturnsMinusOneWhenEverythingWasTried) {
  std::vector<uint32_t> active(3, 0);
  auto lb = makeLoadBalancer(LbPolicy::kRoundRobin, 3, activeFrom(active), scripted({0}));
  EXPECT_EQ(lb->pick(bit(0) | bit(1) | bit(2)), -1);
  EXPECT_EQ(lb->pick(0), 0);  // a failed pick leaves the rotation usable
}

TEST(RoundRobinTest, NoEndpointsPicksNothing) {
  auto lb = makeLoadBalancer(
      LbPolicy::kRoundRobin, 0, [](size_t) { return 0u; }, scripted({5}));
  EXPECT_EQ(lb->pick(0), -1);
}

TEST(LeastRequestTest, PicksTheLeastActiveAmongFew) {
  std::vector<uint32_t> active = {5, 1, 3};
  auto lb = makeLoadBalancer(LbPolicy::kLeastRequest, 3, activeFrom(active), scripted({0, 1, 2}));
  EXPECT_EQ(lb->pick(0), 1);
  active = {0, 1, 3};
  EXPECT_EQ(lb->pick(0), 0);  // follows the live counts
}

TEST(LeastRequestTest, SkipsTriedEndpointsEvenIfLeastActive) {
  std::vector<uint32_t> active = {5, 1, 3, 9};
  auto lb = makeLoadBalancer(LbPolicy::kLeastRequest, 4, activeFrom(active), scripted({0}));
  EXPECT_EQ(lb->pick(bit(1)), 2);
  EXPECT_EQ(lb->pick(bit(1) | bit(2)), 0);
  EXPECT_EQ(lb->pick(bit(0) | bit(1) | bit(2) | bit(3)), -1);
}

TEST(LeastRequestTest, BreaksTiesFromARandomStart) {
  std::vector<uint32_t> active = {2, 2, 2};
  auto first = makeLoadBalancer(LbPolicy::kLeastRequest, 3, activeFrom(active), scripted({0}));
  auto second = makeLoadBalancer(LbPolicy::kLeastRequest, 3, activeFrom(active), scripted({2}));
  EXPECT_EQ(first->pick(0), 0);
  EXPECT_EQ(second->pick(0), 2);
}

TEST(LeastRequestTest, PowerOfTwoChoicesTakesTheLessActiveOfTheTwo) {
  std::vector<uint32_t> active = {9, 8, 7, 6, 5, 4, 3, 2};
  // Draws 1 and 6: endpoint 6 has fewer requests in flight.
  auto lb = makeLoadBalancer(LbPolicy::kLeastRequest, 8, activeFrom(active), scripted({1, 6}));
  EXPECT_EQ(lb->pick(0), 6);
  // Draws 13 % 8 = 5 and 2: endpoint 5.
  auto lb2 = makeLoadBalancer(LbPolicy::kLeastRequest, 8, activeFrom(active), scripted({13, 2}));
  EXPECT_EQ(lb2->pick(0), 5);
}

TEST(LeastRequestTest, PowerOfTwoChoicesRedrawsTriedEndpoints) {
  std::vector<uint32_t> active = {0, 0, 5, 5, 5, 5};
  // 0 and 1 were tried: draws 0 (tried), 3, then 1 (tried), 4 → the pair is 3 and 4.
  auto lb =
      makeLoadBalancer(LbPolicy::kLeastRequest, 6, activeFrom(active), scripted({0, 3, 1, 4}));
  EXPECT_EQ(lb->pick(bit(0) | bit(1)), 3);
}

TEST(LeastRequestTest, FallsBackToAScanWhenDrawsKeepHittingTriedEndpoints) {
  std::vector<uint32_t> active = {0, 0, 0, 0, 0, 7};
  const uint64_t tried = bit(0) | bit(1) | bit(2) | bit(3) | bit(4);
  // Every draw lands on 0, which was tried: the scan still finds endpoint 5.
  auto lb = makeLoadBalancer(LbPolicy::kLeastRequest, 6, activeFrom(active), scripted({0}));
  EXPECT_EQ(lb->pick(tried), 5);
  EXPECT_EQ(lb->pick(tried | bit(5)), -1);
}

TEST(LeastRequestTest, SpreadsLoadAcrossManyEndpoints) {
  std::vector<uint32_t> active(16, 0);
  uint64_t state = 88172645463325252ull;  // xorshift: deterministic yet well spread
  auto lb = makeLoadBalancer(LbPolicy::kLeastRequest, 16, activeFrom(active), [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  });
  for (int k = 0; k < 1600; ++k) ++active.at(size_t(lb->pick(0)));
  for (uint32_t a : active) {
    EXPECT_GT(a, 80u);
    EXPECT_LT(a, 120u);
  }
}

}  // namespace
}  // namespace remora::upstream
