// The circuit breaker through the real plugin (build/filters/circuit_breaker.so) and the SDK's
// test host, on the host's settable clock: admission, breaker states, outlier ejection, and what
// it publishes, logs and counts.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/filter_test_host.h"

namespace remora::test {
namespace {

constexpr const char* kA = "10.0.0.1:8080";
constexpr const char* kB = "10.0.0.2:8080";

class CircuitBreakerFilter : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.ok()) << host_.error();
    host_.addCluster("users", {kA, kB});
    host_.addCluster("other", {"10.0.1.1:80"});
  }

  void configure(const std::string& json) {
    std::string error;
    config_ = host_.newConfig(json, &error);
    ASSERT_NE(config_, nullptr) << error;
  }

  // A stream routed to `cluster` (as the kernel records the router's decision) through request
  // headers.
  std::unique_ptr<TestStream> start(const std::string& cluster = "users") {
    auto s = host_.newStream(*config_);
    if (!cluster.empty()) s->metadata["remora.cluster"] = cluster;
    last_status_ = s->requestHeaders();
    return s;
  }

  // Ends an admitted stream as if `endpoint` answered `status` with response `flags`.
  static void finish(TestStream& s, int status, const std::string& flags = "-",
                     const std::string& endpoint = kA) {
    s.upstream_address = endpoint;
    s.response_status = status;
    s.response_flags = flags;
    s.log();
  }

  // One whole request; returns what request headers said.
  remora_status_t call(int status, const std::string& flags = "-",
                       const std::string& endpoint = kA) {
    auto s = start();
    if (last_status_ == REMORA_CONTINUE) finish(*s, status, flags, endpoint);
    return last_status_;
  }

  // The event-bus payloads published on remora.circuit_breaker, parsed.
  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    for (const auto& [topic, payload] : host_.published()) {
      if (topic == "remora.circuit_breaker") out.push_back(nlohmann::json::parse(payload));
    }
    return out;
  }

  static void expectOverloaded(const TestStream& s, const std::string& body) {
    ASSERT_TRUE(s.local_reply.has_value());
    EXPECT_EQ(s.local_reply->status, 503);
    EXPECT_EQ(s.local_reply->header("x-remora-overloaded"), "true");
    EXPECT_EQ(s.local_reply->body, body);
  }

  FilterTestHost host_{FilterTestHost::pluginPath("circuit_breaker")};
  std::unique_ptr<PluginConfig> config_;
  remora_status_t last_status_ = REMORA_CONTINUE;
};

TEST_F(CircuitBreakerFilter, DescriptorRunsAfterTheRouter) {
  EXPECT_STREQ(host_.descriptor().name, "circuit_breaker");
  EXPECT_GT(host_.descriptor().priority, 1000);  // the router's
  EXPECT_NE(host_.descriptor().on_request_headers, nullptr);
  EXPECT_NE(host_.descriptor().on_log, nullptr);
  EXPECT_EQ(host_.descriptor().on_response_headers, nullptr);
}

TEST_F(CircuitBreakerFilter, ConfigErrorsNameTheExactField) {
  std::string error;
  EXPECT_EQ(host_.newConfig(R"({"clusters": {"users": {"max_active_requests": 10,
    "breaker": {"window": "10ms"}}}})",
                            &error),
            nullptr);
  EXPECT_EQ(error, R"(clusters.users.breaker.window: must be at least 100ms, got "10ms")");
}

TEST_F(CircuitBreakerFilter, MaxActiveRequestsPerWorker) {
  configure(R"({"clusters": {"users": {"max_active_requests": 2}}})");
  auto a = start();
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  auto b = start();
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  EXPECT_EQ(host_.metricValue("circuit_breaker_active_requests", "users"), 2);
  auto c = start();
  EXPECT_EQ(last_status_, REMORA_REPLIED);
  expectOverloaded(*c, "upstream overloaded\n");
  EXPECT_EQ(host_.metricValue("circuit_breaker_overloaded_total", "users"), 1);
  // Another cluster has its own count; an ungoverned one is not limited.
  EXPECT_EQ(start("other")->local_reply, std::nullopt);
  finish(*a, 200);
  EXPECT_EQ(host_.metricValue("circuit_breaker_active_requests", "users"), 1);
  auto d = start();
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  c->log();  // a refused stream's on_log does not count it out a second time
  EXPECT_EQ(host_.metricValue("circuit_breaker_active_requests", "users"), 2);
}

TEST_F(CircuitBreakerFilter, HandsThePendingAndRetryBoundsToTheKernelAndCountsWhatTheyRefused) {
  configure(R"({"clusters": {"users": {"max_active_requests": 10, "max_pending_requests": 3},
    "other": {"max_active_requests": 10, "max_retries": 0}}})");
  auto a = start();
  ASSERT_TRUE(a->upstream_limits.has_value());
  EXPECT_EQ(a->upstream_limits->struct_size, sizeof(remora_upstream_limits_t));
  EXPECT_EQ(a->upstream_limits->max_pending, 3u);
  EXPECT_EQ(a->upstream_limits->max_retries, REMORA_NO_LIMIT);
  auto b = start("other");
  ASSERT_TRUE(b->upstream_limits.has_value());
  EXPECT_EQ(b->upstream_limits->max_pending, REMORA_NO_LIMIT);
  EXPECT_EQ(b->upstream_limits->max_retries, 0u);

  // What the kernel reports at on_log: the pending bound refused `a` (no endpoint, so no verdict),
  // the retry bound kept `b` from retrying.
  a->upstream_limits_hit = REMORA_LIMIT_HIT_PENDING;
  a->response_status = 503;
  a->response_flags = "UO";
  a->log();
  b->upstream_limits_hit = REMORA_LIMIT_HIT_RETRIES;
  finish(*b, 503, "-", "10.0.1.1:80");
  EXPECT_EQ(host_.metricValue("circuit_breaker_pending_overflow_total", "users"), 1);
  EXPECT_EQ(host_.metricValue("circuit_breaker_retry_overflow_total", "users"), 0);
  EXPECT_EQ(host_.metricValue("circuit_breaker_retry_overflow_total", "other"), 1);
  EXPECT_EQ(host_.metricValue("circuit_breaker_active_requests", "users"), 0);

  // No bound configured: the kernel is told nothing.
  configure(R"({"clusters": {"users": {"max_active_requests": 10}}})");
  EXPECT_FALSE(start()->upstream_limits.has_value());
}

TEST_F(CircuitBreakerFilter, WithoutAClusterTheStreamPassesAndItIsLoggedOnce) {
  configure(R"({"clusters": {"users": {"max_active_requests": 1}}})");
  auto a = start("");
  auto b = start("");
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  int warnings = 0;
  for (const auto& [level, line] : host_.logs()) {
    if (line.find("must run after the router") != std::string::npos) ++warnings;
  }
  EXPECT_EQ(warnings, 1);
}

TEST_F(CircuitBreakerFilter, OpensOnConsecutiveFailuresThenProbesAndCloses) {
  configure(R"({"clusters": {"users": {"max_active_requests": 100,
    "breaker": {"consecutive_failures": 3, "failure_ratio": 0, "cool_down": "5s",
                "half_open_probes": 2}}}})");
  EXPECT_EQ(call(500), REMORA_CONTINUE);
  EXPECT_EQ(call(0, "UR"), REMORA_CONTINUE);        // an upstream reset is a failure
  EXPECT_EQ(call(503, "UF", kB), REMORA_CONTINUE);  // and so is a connect failure
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 1);
  EXPECT_EQ(host_.metricValue("circuit_breaker_opened_total", "users"), 1);
  EXPECT_TRUE(host_.logContains("cluster users: breaker closed -> open (consecutive_failures)"));

  auto refused = start();
  EXPECT_EQ(last_status_, REMORA_REPLIED);
  expectOverloaded(*refused, "circuit open\n");
  EXPECT_EQ(host_.metricValue("circuit_breaker_rejected_open_total", "users"), 1);

  host_.advance(std::chrono::seconds(5));
  auto p1 = start();
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 0);
  EXPECT_EQ(host_.metricValue("circuit_breaker_half_open", "users"), 1);
  auto p2 = start();
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  start();
  EXPECT_EQ(last_status_, REMORA_REPLIED);  // only two probes
  finish(*p1, 200);
  finish(*p2, 204);
  EXPECT_EQ(host_.metricValue("circuit_breaker_half_open", "users"), 0);
  EXPECT_EQ(call(200), REMORA_CONTINUE);

  std::vector<nlohmann::json> e = events();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], nlohmann::json::parse(R"({"event": "state", "cluster": "users",
    "from": "closed", "to": "open", "reason": "consecutive_failures"})"));
  EXPECT_EQ(e[1]["to"], "half_open");
  EXPECT_EQ(e[1]["reason"], "cool_down_elapsed");
  EXPECT_EQ(e[2]["to"], "closed");
  EXPECT_EQ(e[2]["reason"], "probes_succeeded");
}

TEST_F(CircuitBreakerFilter, OpensOnTheFailureRatioOverTheWindow) {
  configure(R"({"clusters": {"users": {"max_active_requests": 100,
    "breaker": {"consecutive_failures": 0, "failure_ratio": 0.5, "window": "10s",
                "min_requests": 20}}}})");
  for (int i = 0; i < 19; ++i) {
    EXPECT_EQ(call(i % 2 == 0 ? 200 : 500), REMORA_CONTINUE) << i;
    host_.advance(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 0);
  EXPECT_EQ(call(502), REMORA_CONTINUE);  // 10 of 20
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 1);
  EXPECT_EQ(call(200), REMORA_REPLIED);
}

TEST_F(CircuitBreakerFilter, AFailedProbeReopensAndAClientGoneProbeIsNoVerdict) {
  configure(R"({"clusters": {"users": {"max_active_requests": 100,
    "breaker": {"consecutive_failures": 1, "cool_down": "1s", "half_open_probes": 1}}}})");
  call(500);
  host_.advance(std::chrono::seconds(1));
  auto gone = start();
  ASSERT_EQ(last_status_, REMORA_CONTINUE);
  gone->response_flags = "DC";  // the client went away before any answer
  gone->log();
  EXPECT_EQ(call(503), REMORA_CONTINUE);  // the probe slot was freed; this probe fails
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 1);
  EXPECT_EQ(host_.metricValue("circuit_breaker_half_open", "users"), 0);
  EXPECT_EQ(host_.metricValue("circuit_breaker_opened_total", "users"), 2);
  EXPECT_EQ(events().back()["reason"], "probe_failed");
}

TEST_F(CircuitBreakerFilter, EjectsAnOutlierWithinTheEjectionBudget) {
  configure(R"({"clusters": {"users": {"max_active_requests": 100,
    "outlier": {"consecutive_5xx": 3, "base_ejection": "30s", "max_ejection_percent": 50}}}})");
  call(500, "-", kA);
  call(500, "-", kB);  // another endpoint's error does not break A's run
  call(503, "-", kA);
  EXPECT_TRUE(host_.ejections().empty());
  call(504, "UT", kA);
  ASSERT_EQ(host_.ejections().size(), 1u);
  EXPECT_EQ(host_.ejections()[0].cluster, "users");
  EXPECT_EQ(host_.ejections()[0].address, kA);
  EXPECT_EQ(host_.ejections()[0].duration_ms, 30000u);
  EXPECT_EQ(host_.metricValue("circuit_breaker_ejections_total", "users"), 1);
  EXPECT_TRUE(host_.logContains("cluster users: ejected 10.0.0.1:8080 for 30000ms"));
  EXPECT_EQ(events().back(), nlohmann::json::parse(R"({"event": "ejection", "cluster": "users",
    "endpoint": "10.0.0.1:8080", "duration_ms": 30000, "times": 1,
    "reason": "consecutive_5xx"})"));

  // B fails as badly, but ejecting it too would take 2 of 2 endpoints out: over 50%.
  call(500, "-", kB);
  call(500, "-", kB);
  call(500, "-", kB);
  EXPECT_EQ(host_.ejections().size(), 1u);
}

TEST_F(CircuitBreakerFilter, ConnectErrorsHaveTheirOwnThreshold) {
  configure(R"({"clusters": {"users": {"max_active_requests": 100,
    "outlier": {"consecutive_5xx": 0, "consecutive_connect_errors": 2,
                "max_ejection_percent": 100}}}})");
  call(503, "UF", kB);
  call(500, "-", kB);  // connected fine: the run of connect errors restarts
  call(503, "UF", kB);
  EXPECT_TRUE(host_.ejections().empty());
  call(503, "UF", kB);
  ASSERT_EQ(host_.ejections().size(), 1u);
  EXPECT_EQ(host_.ejections()[0].address, kB);
  EXPECT_EQ(events().back()["reason"], "consecutive_connect_errors");
}

TEST_F(CircuitBreakerFilter, AReloadKeepsAnOpenBreakerAndRequestsInFlight) {
  configure(R"({"clusters": {"users": {"max_active_requests": 2,
    "breaker": {"consecutive_failures": 1, "cool_down": "1h"}}}})");
  auto in_flight = start();
  call(500);
  ASSERT_EQ(host_.metricValue("circuit_breaker_open", "users"), 1);

  auto old_config = std::move(config_);
  configure(R"({"clusters": {"users": {"max_active_requests": 2,
    "breaker": {"consecutive_failures": 1, "cool_down": "1s"}}}})");
  EXPECT_EQ(call(200), REMORA_REPLIED);  // still open, under the new config
  host_.advance(std::chrono::seconds(1));
  auto probe = start();  // the new cool-down applies; one slot is the old stream's
  EXPECT_EQ(last_status_, REMORA_CONTINUE);
  EXPECT_EQ(start()->local_reply->body, "upstream overloaded\n");
  finish(*in_flight, 200);
  finish(*probe, 200);
  EXPECT_EQ(host_.metricValue("circuit_breaker_active_requests", "users"), 0);
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 0);
  EXPECT_EQ(host_.metricValue("circuit_breaker_half_open", "users"), 1);  // 3 probes by default
}

TEST_F(CircuitBreakerFilter, RemovingTheBreakerReportsItClosed) {
  configure(R"({"clusters": {"users": {"max_active_requests": 10,
    "breaker": {"consecutive_failures": 1}}}})");
  call(500);
  ASSERT_EQ(host_.metricValue("circuit_breaker_open", "users"), 1);
  configure(R"({"clusters": {"users": {"max_active_requests": 10}}})");
  EXPECT_EQ(call(200), REMORA_CONTINUE);
  EXPECT_EQ(host_.metricValue("circuit_breaker_open", "users"), 0);
  EXPECT_EQ(events().back()["reason"], "breaker_removed");
}

}  // namespace
}  // namespace remora::test
