// The router through the real plugin (build/filters/router.so) and the SDK's test host: what it
// hands the kernel, what it answers itself, and its metrics.

#include <gtest/gtest.h>

#include <string>

#include "common/filter_test_host.h"

namespace remora::test {
namespace {

class RouterFilter : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.ok()) << host_.error();
    for (const char* c : {"api", "api-canary", "web", "stable", "next"}) host_.addCluster(c);
  }

  std::unique_ptr<PluginConfig> config(const std::string& json) {
    std::string error;
    auto c = host_.newConfig(json, &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  }

  // Runs request headers for `method target` (with `headers`) on a fresh stream.
  std::unique_ptr<TestStream> request(const PluginConfig& c, const std::string& method,
                                      const std::string& target, const HeaderPairs& headers = {},
                                      remora_status_t expected = REMORA_CONTINUE) {
    auto s = host_.newStream(c);
    s->method = method;
    s->path = target;
    s->authority = "shop.example.com";
    for (const auto& [name, value] : headers) s->request_headers.add(name, value);
    EXPECT_EQ(s->requestHeaders(), expected) << method << " " << target;
    return s;
  }

  FilterTestHost host_{FilterTestHost::pluginPath("router")};
};

TEST_F(RouterFilter, DescriptorRunsLastAndOnlyAtRequestHeaders) {
  EXPECT_STREQ(host_.descriptor().name, "router");
  EXPECT_EQ(host_.descriptor().priority, 1000);
  EXPECT_NE(host_.descriptor().on_request_headers, nullptr);
  EXPECT_EQ(host_.descriptor().on_request_body, nullptr);
  EXPECT_EQ(host_.descriptor().on_response_headers, nullptr);
  EXPECT_EQ(host_.descriptor().on_log, nullptr);
}

TEST_F(RouterFilter, ConfigErrorsNameTheExactField) {
  std::string error;
  EXPECT_EQ(host_.newConfig(R"({"routes": [
    {"match": {"prefix": "/a"}, "cluster": "api"},
    {"match": {"prefix": "/b"}, "cluster": "api"},
    {"match": {"prefix": "/c"}, "cluster": "api"},
    {"match": {"regex": "("}, "cluster": "api"}]})",
                            &error),
            nullptr);
  EXPECT_EQ(error, R"(routes[3].match.regex: invalid regex "(": missing ))");
  EXPECT_EQ(host_.newConfig("", &error), nullptr);  // an empty block has no routes
  EXPECT_EQ(error, "routes: is required");
}

TEST_F(RouterFilter, SetsTheRouteWithTimeoutsRetriesAndRewrites) {
  auto c = config(R"({"routes": [{"name": "api-v1",
    "match": {"prefix": "/api/v1/", "methods": ["GET", "POST"]},
    "cluster": "api", "timeout": "2s",
    "retry": {"attempts": 2, "on": ["5xx", "reset"], "per_try_timeout": "500ms",
              "non_idempotent": true},
    "prefix_rewrite": "/v2/", "host_rewrite": "api.internal"}]})");
  auto s = request(*c, "POST", "/api/v1/orders?id=7");
  ASSERT_TRUE(s->route.has_value());
  EXPECT_EQ(s->route->cluster, "api");
  EXPECT_EQ(s->route->timeout_ms, 2000u);
  EXPECT_EQ(s->route->per_try_timeout_ms, 500u);
  EXPECT_EQ(s->route->retry_max, 2u);
  EXPECT_EQ(s->route->retry_on, REMORA_RETRY_5XX | REMORA_RETRY_RESET);
  EXPECT_TRUE(s->route->retry_non_idempotent);
  EXPECT_EQ(s->route->path, "/v2/orders?id=7");
  EXPECT_EQ(s->route->host, "api.internal");
  EXPECT_EQ(s->metadata["router.route"], "api-v1");
  EXPECT_FALSE(s->local_reply.has_value());
  EXPECT_EQ(host_.metricValue("router_matched_total", "api-v1"), 1);
}

TEST_F(RouterFilter, PlainRouteLeavesPathHostAndRetriesAlone) {
  auto c = config(R"({"routes": [{"match": {"prefix": "/"}, "cluster": "web"}]})");
  auto s = request(*c, "GET", "/index.html");
  ASSERT_TRUE(s->route.has_value());
  EXPECT_EQ(s->route->cluster, "web");
  EXPECT_EQ(s->route->timeout_ms, 0u);
  EXPECT_EQ(s->route->retry_max, 0u);
  EXPECT_EQ(s->route->retry_on, 0u);
  EXPECT_EQ(s->route->path, "");
  EXPECT_EQ(s->route->host, "");
  EXPECT_EQ(s->metadata["router.route"], "routes[0]");
}

TEST_F(RouterFilter, FirstMatchWinsAndHeadersQueryAndHostNarrowIt) {
  auto c = config(R"({"routes": [
    {"name": "canary-users", "match": {"prefix": "/", "headers": [{"name": "x-user", "regex": "beta-.*"}]},
     "cluster": "api-canary"},
    {"name": "debug", "match": {"prefix": "/", "query": [{"name": "debug", "present": true}]},
     "direct_response": {"status": 403, "body": "no debugging here\n"}},
    {"name": "other-host", "match": {"prefix": "/", "host": "*.internal"}, "cluster": "api"},
    {"name": "api", "match": {"prefix": "/api/"}, "cluster": "api"},
    {"name": "web", "match": {"prefix": "/"}, "cluster": "web"}]})");
  EXPECT_EQ(request(*c, "GET", "/api/x", {{"X-User", "beta-7"}})->route->cluster, "api-canary");
  EXPECT_EQ(request(*c, "GET", "/api/x?debug", {}, REMORA_REPLIED)->local_reply->status, 403);
  EXPECT_EQ(request(*c, "GET", "/api/x", {{"x-user", "alpha"}})->route->cluster, "api");
  EXPECT_EQ(request(*c, "GET", "/about")->route->cluster, "web");
  auto s = host_.newStream(*c);
  s->path = "/about";
  s->authority = "shop.internal:8080";
  EXPECT_EQ(s->requestHeaders(), REMORA_CONTINUE);
  EXPECT_EQ(s->route->cluster, "api");
}

TEST_F(RouterFilter, NoMatchIs404NoRoute) {
  auto c = config(R"({"routes": [{"match": {"prefix": "/api/"}, "cluster": "api"}]})");
  auto s = request(*c, "GET", "/elsewhere", {}, REMORA_REPLIED);
  ASSERT_TRUE(s->local_reply.has_value());
  EXPECT_EQ(s->local_reply->status, 404);
  EXPECT_EQ(s->local_reply->body, "no route\n");
  EXPECT_FALSE(s->route.has_value());
  EXPECT_EQ(host_.metricValue("router_no_route_total"), 1);
}

TEST_F(RouterFilter, DirectResponse) {
  auto c = config(R"({"routes": [
    {"match": {"path": "/healthz"}, "direct_response": {"status": 200, "body": "ok\n"}},
    {"match": {"path": "/empty"}, "direct_response": {"status": 204}},
    {"match": {"path": "/json"}, "direct_response": {"status": 503, "body": "{}",
                                                      "content_type": "application/json"}}]})");
  auto s = request(*c, "GET", "/healthz", {}, REMORA_REPLIED);
  EXPECT_EQ(s->local_reply->status, 200);
  EXPECT_EQ(s->local_reply->body, "ok\n");
  EXPECT_EQ(s->local_reply->header("content-type"), "text/plain");
  auto e = request(*c, "GET", "/empty", {}, REMORA_REPLIED);
  EXPECT_EQ(e->local_reply->status, 204);
  EXPECT_EQ(e->local_reply->body, "");
  EXPECT_FALSE(e->local_reply->header("content-type").has_value());
  auto j = request(*c, "GET", "/json", {}, REMORA_REPLIED);
  EXPECT_EQ(j->local_reply->header("content-type"), "application/json");
}

TEST_F(RouterFilter, Redirects) {
  auto c = config(R"({"routes": [
    {"match": {"prefix": "/old/"}, "redirect": {"status": 308, "path": "/new/"}},
    {"match": {"prefix": "/docs"}, "redirect": {"location": "https://docs.example.com/"}},
    {"match": {"prefix": "/"}, "redirect": {"scheme": "https"}}]})");
  auto a = request(*c, "GET", "/old/page?x=1", {}, REMORA_REPLIED);
  EXPECT_EQ(a->local_reply->status, 308);
  EXPECT_EQ(a->local_reply->header("location"), "http://shop.example.com/new/?x=1");
  auto b = request(*c, "GET", "/docs/intro", {}, REMORA_REPLIED);
  EXPECT_EQ(b->local_reply->status, 301);
  EXPECT_EQ(b->local_reply->header("location"), "https://docs.example.com/");
  auto d = request(*c, "GET", "/cart?id=3", {}, REMORA_REPLIED);
  EXPECT_EQ(d->local_reply->header("location"), "https://shop.example.com/cart?id=3");
}

TEST_F(RouterFilter, WeightedClustersFollowTheirWeights) {
  auto c = config(R"({"routes": [{"match": {"prefix": "/"},
    "weighted_clusters": [{"cluster": "stable", "weight": 70}, {"cluster": "next", "weight": 30}]}]})");
  constexpr int kRequests = 10000;
  int next = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto s = request(*c, "GET", "/");
    ASSERT_TRUE(s->route.has_value());
    if (s->route->cluster == "next") ++next;
  }
  double share = 100.0 * next / kRequests;
  EXPECT_NEAR(share, 30.0, 3.0);
}

TEST_F(RouterFilter, CanaryHeaderBeatsTheWeights) {
  auto c = config(R"({"routes": [{"match": {"prefix": "/"},
    "weighted_clusters": [{"cluster": "stable", "weight": 100}, {"cluster": "next", "weight": 0}],
    "canary": {"header": "x-canary", "value": "1", "cluster": "next"}}]})");
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(request(*c, "GET", "/")->route->cluster, "stable");
    EXPECT_EQ(request(*c, "GET", "/", {{"x-canary", "1"}})->route->cluster, "next");
    EXPECT_EQ(request(*c, "GET", "/", {{"x-canary", "yes"}})->route->cluster, "stable");
  }
}

TEST_F(RouterFilter, UnknownClusterIs503AndLoggedOncePerConfig) {
  auto c =
      config(R"({"routes": [{"name": "ghost", "match": {"prefix": "/"}, "cluster": "nowhere"}]})");
  for (int i = 0; i < 3; ++i) {
    auto s = request(*c, "GET", "/", {}, REMORA_REPLIED);
    EXPECT_EQ(s->local_reply->status, 503);
  }
  EXPECT_EQ(host_.metricValue("router_route_refused_total"), 3);
  int warnings = 0;
  for (const auto& [level, line] : host_.logs()) {
    if (line.find("route ghost to cluster nowhere refused") != std::string::npos) ++warnings;
  }
  EXPECT_EQ(warnings, 1);
  EXPECT_TRUE(host_.logContains("unknown cluster 'nowhere'"));
}

}  // namespace
}  // namespace remora::test
