// The circuit_breaker config parser: defaults, and the exact message for each refusal.

#include <gtest/gtest.h>

#include <string>

#include "circuit_breaker/breaker_config.h"

namespace remora::circuit_breaker {
namespace {

std::unique_ptr<BreakerConfig> parseOk(const std::string& json) {
  std::string error;
  std::unique_ptr<BreakerConfig> config = parseBreakerConfig(nlohmann::json::parse(json), error);
  EXPECT_NE(config, nullptr) << error;
  return config;
}

std::string errorOf(const std::string& json) {
  std::string error;
  EXPECT_EQ(parseBreakerConfig(nlohmann::json::parse(json), error), nullptr);
  return error;
}

TEST(BreakerConfigTest, ParsesEveryField) {
  std::unique_ptr<BreakerConfig> c = parseOk(R"({"clusters": {"users": {
    "max_active_requests": 100, "max_pending_requests": 10, "max_retries": 3,
    "breaker": {"consecutive_failures": 7, "failure_ratio": 0.25, "window": "30s",
                "min_requests": 50, "cool_down": "1.5s", "half_open_probes": 2},
    "outlier": {"consecutive_5xx": 4, "consecutive_connect_errors": 2, "base_ejection": "10s",
                "max_ejection_percent": 34}}}})");
  ASSERT_NE(c, nullptr);
  const ClusterLimits* u = c->find("users");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(c->find("other"), nullptr);
  EXPECT_EQ(u->name, "users");
  EXPECT_EQ(u->max_active_requests, 100u);
  EXPECT_EQ(u->max_pending, 10u);
  EXPECT_EQ(u->max_retries, 3u);
  ASSERT_TRUE(u->breaker.has_value());
  EXPECT_EQ(u->breaker->consecutive_failures, 7u);
  EXPECT_DOUBLE_EQ(u->breaker->failure_ratio, 0.25);
  EXPECT_EQ(u->breaker->window_ms, 30000u);
  EXPECT_EQ(u->breaker->min_requests, 50u);
  EXPECT_EQ(u->breaker->cool_down_ms, 1500u);
  EXPECT_EQ(u->breaker->half_open_probes, 2u);
  ASSERT_TRUE(u->outlier.has_value());
  EXPECT_EQ(u->outlier->consecutive_5xx, 4u);
  EXPECT_EQ(u->outlier->consecutive_connect_errors, 2u);
  EXPECT_EQ(u->outlier->base_ejection_ms, 10000u);
  EXPECT_EQ(u->outlier->max_ejection_percent, 34u);
}

TEST(BreakerConfigTest, DefaultsAndGenerations) {
  std::unique_ptr<BreakerConfig> a = parseOk(R"({"clusters": {"a": {"max_active_requests": 1,
    "breaker": {}, "outlier": {}}, "b": {"max_active_requests": 2}}})");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(*a->find("a")->breaker, BreakerSettings{});
  EXPECT_EQ(*a->find("a")->outlier, OutlierSettings{});
  EXPECT_FALSE(a->find("b")->breaker.has_value());
  EXPECT_FALSE(a->find("b")->outlier.has_value());
  EXPECT_FALSE(a->find("b")->max_pending.has_value());
  EXPECT_FALSE(a->find("b")->max_retries.has_value());
  std::unique_ptr<BreakerConfig> b = parseOk(R"({"clusters": {}})");
  EXPECT_NE(a->generation, b->generation);
}

TEST(BreakerConfigTest, MaxPendingIsTheOlderNameOfMaxPendingRequests) {
  auto c = parseOk(R"({"clusters": {"a": {"max_active_requests": 1, "max_pending": 0}}})");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->find("a")->max_pending, 0u);
}

TEST(BreakerConfigTest, GrpcFailureStatuses) {
  auto c = parseOk(R"({"clusters": {"a": {"max_active_requests": 1},
      "b": {"max_active_requests": 1, "grpc_failure_statuses": ["unavailable", "resource-exhausted"]},
      "c": {"max_active_requests": 1, "grpc_failure_statuses": []}}})");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->find("a")->grpc_failures, kDefaultGrpcFailures);
  EXPECT_EQ(c->find("b")->grpc_failures, (1u << 14) | (1u << 8));
  EXPECT_EQ(c->find("c")->grpc_failures, 0u);
  EXPECT_EQ(grpcStatusFromName("deadline_exceeded"), 4);
  EXPECT_EQ(grpcStatusFromName("Internal"), -1);
}

TEST(BreakerConfigTest, DurationsReadLikeEveryOtherFilter) {
  std::unique_ptr<BreakerConfig> c = parseOk(R"({"clusters": {"a": {"max_active_requests": 1,
    "breaker": {"cool_down": 5, "window": "1m"}, "outlier": {"base_ejection": "500us"}}}})");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->find("a")->breaker->cool_down_ms, 5000u);  // a bare number is seconds
  EXPECT_EQ(c->find("a")->breaker->window_ms, 60000u);
  EXPECT_EQ(c->find("a")->outlier->base_ejection_ms, 1u);  // rounded up, never 0
}

struct BadConfig {
  const char* json;
  const char* error;
};

class BreakerConfigErrorTest : public testing::TestWithParam<BadConfig> {};

TEST_P(BreakerConfigErrorTest, NamesTheExactField) {
  EXPECT_EQ(errorOf(GetParam().json), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BreakerConfigErrorTest,
    testing::Values(
        BadConfig{"{}", "clusters: is required"},
        BadConfig{R"({"clusters": []})", "clusters: must be an object, got an array"},
        BadConfig{R"({"clusters": {"a": {}}})", "clusters.a.max_active_requests: is required"},
        BadConfig{R"({"clusters": {"a": 3}})", "clusters.a: must be an object, got a number"},
        BadConfig{R"({"clusters": {"a": {"max_active_requests": 0}}})",
                  "clusters.a.max_active_requests: must be between 1 and 4294967295, got 0"},
        BadConfig{R"({"clusters": {"a": {"max_active_requests": 1, "max_pending": -1}}})",
                  "clusters.a.max_pending: must be between 0 and 4294967295, got -1"},
        BadConfig{R"({"clusters": {"a": {"max_active_requests": 1, "max_pending_requests": -1}}})",
                  "clusters.a.max_pending_requests: must be between 0 and 4294967295, got -1"},
        BadConfig{R"({"clusters": {"a": {"max_active_requests": 1, "max_pending_requests": 1,
                                         "max_pending": 1}}})",
                  "clusters.a.max_pending: is another name for max_pending_requests: give only "
                  "one"},
        BadConfig{R"({"clusters": {"a": {"max_active_requests": 1, "max_actives": 1}}})",
                  "clusters.a.max_actives: unknown field"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "grpc_failure_statuses": ["ok"]}}})",
            "clusters.a.grpc_failure_statuses[0]: must name a gRPC status other than ok (e.g. "
            "\"unavailable\"), got \"ok\""},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "grpc_failure_statuses": "internal"}}})",
            "clusters.a.grpc_failure_statuses: must be an array, got a string"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "breaker": {"failure_ratio": 1.5}}}})",
            "clusters.a.breaker.failure_ratio: must be between 0.0 and 1.0, got 1.5"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "breaker": {"window": "50ms"}}}})",
            "clusters.a.breaker.window: must be at least 100ms, got \"50ms\""},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "breaker": {"cool_down": true}}}})",
            "clusters.a.breaker.cool_down: must be a duration like \"1s\" or \"250ms\", got true"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "breaker": {"half_open_probes": 0}}}})",
            "clusters.a.breaker.half_open_probes: must be between 1 and 4294967295, got 0"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "breaker": {"consecutive_failures": 0, "failure_ratio": 0}}}})",
            "clusters.a.breaker: consecutive_failures and failure_ratio are both 0: the breaker "
            "could never open"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "outlier": {"base_ejection": "0s"}}}})",
            "clusters.a.outlier.base_ejection: must be at least 1ms, got \"0s\""},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "outlier": {"max_ejection_percent": 101}}}})",
            "clusters.a.outlier.max_ejection_percent: must be between 0 and 100, got 101"},
        BadConfig{
            R"({"clusters": {"a": {"max_active_requests": 1, "outlier": {"consecutive_5xx": 0}}}})",
            "clusters.a.outlier: consecutive_5xx and consecutive_connect_errors are both 0: "
            "nothing to detect"},
        BadConfig{R"({"clusters": {"": {"max_active_requests": 1}}})",
                  "clusters: a cluster name must not be empty"}));

}  // namespace
}  // namespace remora::circuit_breaker
