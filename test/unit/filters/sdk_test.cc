// The filter SDK, driven through the real C ABI: the sdk_probe test plugin is dlopened by the
// in-process test host and each behaviour is checked where the kernel would see it.

#include <gtest/gtest.h>

#include <remora/sdk/config_reader.h>
#include <remora/sdk/stream.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/filter_test_host.h"

namespace remora::test {
namespace {

using std::chrono::microseconds;

class SdkProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.ok()) << host_.error();
    config_ = host_.newConfig("{}");
    ASSERT_NE(config_, nullptr);
  }

  std::unique_ptr<TestStream> stream(std::string_view probe = {}) {
    auto s = host_.newStream(*config_);
    if (!probe.empty()) s->request_headers.add("x-probe", probe);
    return s;
  }

  FilterTestHost host_{FilterTestHost::testPluginPath("sdk_probe")};
  std::unique_ptr<PluginConfig> config_;
};

TEST_F(SdkProbe, DescriptorCarriesNameVersionPriorityAndOnlyOverriddenHooks) {
  const remora_plugin_descriptor_t& d = host_.descriptor();
  EXPECT_STREQ(d.name, "sdk_probe");
  EXPECT_STREQ(d.version, "0.0.1");
  EXPECT_EQ(d.priority, 42);
  EXPECT_EQ(d.abi_major, REMORA_FILTER_ABI_MAJOR);
  EXPECT_NE(d.on_request_headers, nullptr);
  EXPECT_NE(d.on_request_body, nullptr);
  EXPECT_NE(d.on_response_headers, nullptr);
  EXPECT_NE(d.on_log, nullptr);
  EXPECT_EQ(d.on_request_trailers, nullptr);
  EXPECT_EQ(d.on_response_body, nullptr);
  EXPECT_EQ(d.on_response_trailers, nullptr);
}

TEST_F(SdkProbe, ConfigRejectionsCarryTheReason) {
  std::string error;
  EXPECT_EQ(host_.newConfig(R"({"fail": true})", &error), nullptr);
  EXPECT_EQ(error, "fail: requested");
  EXPECT_EQ(host_.newConfig(R"({"throw": true})", &error), nullptr);
  EXPECT_EQ(error, "create threw on purpose");
  EXPECT_EQ(host_.newConfig(R"({"nope": 1})", &error), nullptr);
  EXPECT_EQ(error, "nope: unknown field");
  EXPECT_EQ(host_.newConfig(R"({"greeting": )", &error), nullptr);
  EXPECT_NE(error.find("invalid JSON"), std::string::npos) << error;
  EXPECT_EQ(host_.newConfig(R"([1, 2])", &error), nullptr);
  EXPECT_EQ(error, "config: must be an object, got [1,2]");
  // An empty block is an empty object.
  EXPECT_NE(host_.newConfig(""), nullptr);
}

TEST_F(SdkProbe, MetricsDeclaredAtConfigTimeAreBumpedPerStream) {
  ASSERT_TRUE(host_.hasMetric("probe_requests_total"));
  EXPECT_EQ(host_.metric("probe_by_method_total")->label, "method");
  {
    auto s = stream();
    s->requestHeaders();
    auto p = stream();
    p->method = "POST";
    p->requestHeaders();
    EXPECT_EQ(host_.metricValue("probe_inflight"), 2);
  }
  EXPECT_EQ(host_.metricValue("remora_filter_probe_requests_total"), 2);
  EXPECT_EQ(host_.metricValue("probe_by_method_total", "GET"), 1);
  EXPECT_EQ(host_.metricValue("probe_by_method_total", "POST"), 1);
  EXPECT_EQ(host_.histogramCount("probe_latency_seconds"), 2u);
  EXPECT_DOUBLE_EQ(host_.histogramSum("probe_latency_seconds"), 0.5);
  EXPECT_EQ(host_.metricValue("probe_logs_total"), 2) << "on_log runs before stream_free";
  EXPECT_EQ(host_.metricValue("probe_inflight"), 0);
}

TEST_F(SdkProbe, HookExceptionBecomesErrorAndIsLogged) {
  auto s = stream("throw");
  EXPECT_EQ(s->requestHeaders(), REMORA_ERROR);
  EXPECT_TRUE(host_.logContains("onRequestHeaders threw: hook threw on purpose"));
}

TEST_F(SdkProbe, ConstructorExceptionFailsEveryHookButNotTheProcess) {
  auto config = host_.newConfig(R"({"ctor_throw": true})");
  ASSERT_NE(config, nullptr);
  auto s = host_.newStream(*config);
  EXPECT_EQ(s->context(), nullptr);
  EXPECT_EQ(s->requestHeaders(), REMORA_ERROR);
  EXPECT_EQ(s->requestBody("x"), REMORA_ERROR);
  EXPECT_EQ(s->respond(200), REMORA_ERROR);
  s->log();
  EXPECT_TRUE(host_.logContains("constructor threw on purpose"));
}

TEST_F(SdkProbe, LocalReplyCarriesStatusBodyAndHeaders) {
  auto s = stream("reply");
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 418);
  EXPECT_EQ(s->local_reply->body, "short and stout");
  EXPECT_EQ(s->local_reply->header("x-teapot"), "hi");
}

TEST_F(SdkProbe, HeaderAndFactAccessors) {
  auto s = stream("headers");
  s->request_headers.add("x-remove-me", "a");
  s->request_headers.add("X-Remove-Me", "b");
  s->authority = "api.example";
  s->client_address = "10.0.0.7";
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(s->metadata["probe.headers"], "x-probe=headers;x-remove-me=a;X-Remove-Me=b;");
  EXPECT_FALSE(s->request_headers.has("x-remove-me"));
  EXPECT_EQ(s->request_headers.getAll("x-added"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(s->metadata["probe.facts"], "api.example|10.0.0.7|ingress");
  EXPECT_EQ(s->metadata["probe.seen"], "GET /");
}

TEST_F(SdkProbe, BodyChunksAndResponseHeaders) {
  auto s = stream();
  s->requestHeaders(false);
  s->requestBody("abc", false);
  s->requestBody("defg", true);
  EXPECT_EQ(s->metadata["probe.body_bytes"], "7");
  s->respond(204);
  EXPECT_EQ(s->response_headers.get("x-probe-status"), "204");
}

TEST_F(SdkProbe, CalloutResumesTheStreamWithTheAnswer) {
  host_.addCluster("auth");
  auto s = stream("callout");
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  ASSERT_EQ(host_.callouts().size(), 1u);
  const PendingCallout& c = host_.callouts()[0];
  EXPECT_EQ(c.cluster, "auth");
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.path, "/check");
  EXPECT_EQ(c.body, "payload");
  EXPECT_EQ(c.timeout_ms, 250u);
  EXPECT_EQ(c.headers, (HeaderPairs{{"x-from", "probe"}}));
  host_.completeCallout(0, 200, {{"X-User", "alice"}});
  EXPECT_EQ(s->resume_count, 1);
  EXPECT_EQ(s->request_headers.get("x-auth"), "alice");
}

TEST_F(SdkProbe, FailedCalloutAnswersWithTheReason) {
  host_.addCluster("auth");
  auto s = stream("callout");
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  host_.completeCallout(0, 0, {}, "connect timeout");
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 403);
  EXPECT_EQ(s->local_reply->body, "connect timeout");
}

TEST_F(SdkProbe, CalloutThatCannotStartIsReported) {
  auto s = stream("callout");  // no "auth" cluster: http_call returns 0
  EXPECT_EQ(s->requestHeaders(), REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 503);
}

TEST_F(SdkProbe, ThrowingCalloutCallbackAnswers500) {
  host_.addCluster("auth");
  auto s = stream("callout-throw");
  EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
  host_.completeCallout(0, 200);
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 500);
  EXPECT_TRUE(host_.logContains("callback threw on purpose"));
}

TEST_F(SdkProbe, StreamEndingFirstCancelsTheCallout) {
  host_.addCluster("auth");
  {
    auto s = stream("callout");
    EXPECT_EQ(s->requestHeaders(), REMORA_STOP);
    EXPECT_EQ(host_.callouts().size(), 1u);
  }
  // The kernel cancelled it; the SDK freed the callback with the Filter (ASan would catch a leak
  // or a use after free here).
  EXPECT_TRUE(host_.callouts().empty());
}

TEST_F(SdkProbe, RouteDecisionReachesTheHostOrReportsTheRefusal) {
  host_.addCluster("backend");
  auto ok = stream("route");
  ok->request_headers.add("x-cluster", "backend");
  ok->requestHeaders();
  ASSERT_TRUE(ok->route);
  EXPECT_EQ(ok->route->cluster, "backend");
  EXPECT_EQ(ok->route->timeout_ms, 1500u);
  EXPECT_EQ(ok->route->retry_max, 2u);
  EXPECT_EQ(ok->route->retry_on, REMORA_RETRY_5XX | REMORA_RETRY_RESET);
  EXPECT_EQ(ok->route->path, "/rewritten");
  EXPECT_EQ(ok->route->host, "");

  auto bad = stream("route");
  bad->request_headers.add("x-cluster", "nowhere");
  bad->requestHeaders();
  EXPECT_FALSE(bad->route);
  EXPECT_EQ(bad->metadata["probe.route_error"], "unknown cluster 'nowhere'");
}

TEST_F(SdkProbe, PerWorkerStateIsPerThread) {
  for (int i = 1; i <= 3; ++i) {
    auto s = stream("worker");
    s->requestHeaders();
    EXPECT_EQ(s->request_headers.get("x-worker-requests"), std::to_string(i));
  }
  // Another thread (another worker) starts from zero.
  std::string other;
  std::thread([&] {
    auto s = stream("worker");
    s->requestHeaders();
    other = s->request_headers.get("x-worker-requests").value_or("");
  }).join();
  EXPECT_EQ(other, "1");
  // A new config (a new snapshot) has its own state.
  config_ = host_.newConfig("{}");
  auto s = stream("worker");
  s->requestHeaders();
  EXPECT_EQ(s->request_headers.get("x-worker-requests"), "1");
}

TEST_F(SdkProbe, EventBusBothWays) {
  EXPECT_EQ(host_.subscriberCount("probe.ping"), 1u);
  host_.publish("probe.ping", "hello");
  auto p = host_.published();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1], (std::pair<std::string, std::string>{"probe.pong", "hello!"}));

  auto s = stream("publish");
  s->path = "/x";
  s->requestHeaders();
  EXPECT_EQ(host_.published().back(), (std::pair<std::string, std::string>{"probe.topic", "/x"}));
}

TEST(SdkProbeLifecycle, StopUnsubscribes) {
  {
    FilterTestHost host(FilterTestHost::testPluginPath("sdk_probe"));
    ASSERT_TRUE(host.ok());
    EXPECT_EQ(host.subscriberCount("probe.ping"), 1u);
  }
  // A second load (a new generation) starts cleanly.
  FilterTestHost again(FilterTestHost::testPluginPath("sdk_probe"));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.subscriberCount("probe.ping"), 1u);
}

TEST(SdkConfigUtil, ParseDuration) {
  using sdk::parseDuration;
  EXPECT_EQ(parseDuration("1s"), microseconds(1000000));
  EXPECT_EQ(parseDuration("250ms"), microseconds(250000));
  EXPECT_EQ(parseDuration("1.5s"), microseconds(1500000));
  EXPECT_EQ(parseDuration("2m"), microseconds(120000000));
  EXPECT_EQ(parseDuration("1h"), microseconds(3600000000LL));
  EXPECT_EQ(parseDuration("500us"), microseconds(500));
  EXPECT_EQ(parseDuration("3"), microseconds(3000000));
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("s"));
  EXPECT_FALSE(parseDuration("-1s"));
  EXPECT_FALSE(parseDuration("1d"));
  EXPECT_FALSE(parseDuration("1 s"));
}

}  // namespace
}  // namespace remora::test

namespace remora::test {
namespace {

TEST(SdkGrpcTest, StatusHeaderCarriesTheCode) {
  sdk::Header h = sdk::grpcStatusHeader(sdk::GrpcStatus::kResourceExhausted);
  EXPECT_EQ(h.name, "grpc-status");
  EXPECT_EQ(h.value, "8");
  EXPECT_EQ(sdk::grpcStatusHeader(sdk::GrpcStatus::kUnauthenticated).value, "16");
  EXPECT_EQ(sdk::grpcStatusHeader(sdk::GrpcStatus::kCancelled).value, "1");
}

}  // namespace
}  // namespace remora::test
