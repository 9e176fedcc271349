// The router plugin (build/filters/router.so) loaded into the real binary, routing to real demo
// upstreams: every match kind, weighted splits and canaries, rewrites, local answers, timeouts,
// retries, and the config check of a regex RE2 refuses.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/stub_server.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() { plugins_.addFilter("router"); }

  std::vector<ClusterSpec> twoClusters() const {
    return {{"a", {alpha_.address()}, ""}, {"b", {beta_.address()}, ""}};
  }

  // Starts remora with the router alone, holding `routes`.
  void start(const json& routes, std::vector<ClusterSpec> clusters = {}) {
    if (clusters.empty()) clusters = twoClusters();
    proxy_ = std::make_unique<FilterProxy>(
        plugins_, std::vector<FilterSpec>{{"router", {{"routes", routes}}}}, clusters);
  }

  // Which demo upstream answered: its x-upstream header, or "status N" when none did.
  std::string upstreamOf(const std::string& method, const std::string& path,
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse r = proxy_->request(method, path, std::move(headers));
    if (!r.ok()) return "error: " + r.error;
    if (!r.has("x-upstream")) return "status " + std::to_string(r.status);
    return r.header("x-upstream");
  }

  PluginDir plugins_;
  DemoUpstream alpha_{"alpha"};
  DemoUpstream beta_{"beta"};
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(RouterTest, EveryMatchKindPicksItsCluster) {
  start(json::array({
      {{"name", "prefix"}, {"match", {{"prefix", "/pre/"}}}, {"cluster", "b"}},
      {{"name", "exact"}, {"match", {{"path", "/exact"}}}, {"cluster", "b"}},
      {{"name", "regex"}, {"match", {{"regex", "/items/[0-9]+"}}}, {"cluster", "b"}},
      {{"name", "method"},
       {"match", {{"prefix", "/method"}, {"methods", {"post", "PUT"}}}},
       {"cluster", "b"}},
      {{"name", "header"},
       {"match", {{"prefix", "/hdr"}, {"headers", {{{"name", "X-Tenant"}, {"exact", "beta"}}}}}},
       {"cluster", "b"}},
      {{"name", "header-present"},
       {"match", {{"prefix", "/flag"}, {"headers", {{{"name", "x-flag"}, {"present", true}}}}}},
       {"cluster", "b"}},
      {{"name", "query"},
       {"match", {{"prefix", "/q"}, {"query", {{{"name", "v"}, {"regex", "[2-3]"}}}}}},
       {"cluster", "b"}},
      {{"name", "host"}, {"match", {{"prefix", "/"}, {"host", "*.beta.test"}}}, {"cluster", "b"}},
      {{"name", "default"}, {"match", {{"prefix", "/"}}}, {"cluster", "a"}},
  }));

  EXPECT_EQ(upstreamOf("GET", "/pre/x"), "beta");
  EXPECT_EQ(upstreamOf("GET", "/pre"), "alpha");  // "/pre/" is the prefix; "/pre" is not it

  EXPECT_EQ(upstreamOf("GET", "/exact"), "beta");
  EXPECT_EQ(upstreamOf("GET", "/exact?query=ignored"), "beta");
  EXPECT_EQ(upstreamOf("GET", "/exact/more"), "alpha");

  EXPECT_EQ(upstreamOf("GET", "/items/42"), "beta");
  EXPECT_EQ(upstreamOf("GET", "/items/42x"), "alpha");  // the whole path must match
  EXPECT_EQ(upstreamOf("GET", "/items/"), "alpha");

  EXPECT_EQ(upstreamOf("POST", "/method"), "beta");
  EXPECT_EQ(upstreamOf("PUT", "/method"), "beta");
  EXPECT_EQ(upstreamOf("GET", "/method"), "alpha");

  EXPECT_EQ(upstreamOf("GET", "/hdr", {{"x-tenant", "beta"}}), "beta");
  EXPECT_EQ(upstreamOf("GET", "/hdr", {{"x-tenant", "Beta"}}), "alpha");  // values: exact case
  EXPECT_EQ(upstreamOf("GET", "/hdr"), "alpha");
  EXPECT_EQ(upstreamOf("GET", "/flag", {{"X-Flag", ""}}), "beta");
  EXPECT_EQ(upstreamOf("GET", "/flag"), "alpha");

  EXPECT_EQ(upstreamOf("GET", "/q?v=2"), "beta");
  EXPECT_EQ(upstreamOf("GET", "/q?a=1&v=%33"), "beta");  // %XX is decoded before matching
  EXPECT_EQ(upstreamOf("GET", "/q?v=4"), "alpha");
  EXPECT_EQ(upstreamOf("GET", "/q"), "alpha");

  EXPECT_EQ(upstreamOf("GET", "/anything", {{"Host", "api.beta.test:8080"}}), "beta");
  EXPECT_EQ(upstreamOf("GET", "/anything", {{"Host", "beta.test"}}), "alpha");

  std::string metrics = proxy_->metrics();
  EXPECT_EQ(findMetric(metrics, "remora_filter_router_matched_total", {{"route", "exact"}}), 2)
      << metrics;
}

TEST_F(RouterTest, WeightedClustersSplitAndTheCanaryHeaderOverrides) {
  start(json::array({{{"name", "split"},
                      {"match", {{"prefix", "/"}}},
                      {"weighted_clusters",
                       {{{"cluster", "a"}, {"weight", 70}}, {{"cluster", "b"}, {"weight", 30}}}},
                      {"canary", {{"header", "x-canary"}, {"value", "1"}, {"cluster", "b"}}}}}));

  HttpClient client(proxy_->port());
  ASSERT_TRUE(client.connected()) << client.error();
  constexpr int kRequests = 2000;
  int beta = 0;
  for (int i = 0; i < kRequests; ++i) {
    HttpResponse r = client.request("GET", "/");
    ASSERT_TRUE(r.ok()) << "request " << i << ": " << r.error;
    ASSERT_EQ(r.status, 200);
    beta += r.header("x-upstream") == "beta";
  }
  double percent = 100.0 * beta / kRequests;
  EXPECT_NEAR(percent, 30.0, 5.0) << beta << " of " << kRequests << " went to beta";

  for (int i = 0; i < 50; ++i) {
    HttpResponse r = client.request("GET", "/", {{"x-canary", "1"}});
    ASSERT_EQ(r.header("x-upstream"), "beta") << "canary request " << i;
  }
  // Another value of the canary header is not the canary: the weights apply again.
  int alpha = 0;
  for (int i = 0; i < 100; ++i)
    alpha += client.request("GET", "/", {{"x-canary", "0"}}).header("x-upstream") == "alpha";
  EXPECT_GT(alpha, 40);
}

TEST_F(RouterTest, PrefixAndHostRewritesReachTheUpstream) {
  start(json::array({{{"name", "api"},
                      {"match", {{"prefix", "/api/v1/"}}},
                      {"cluster", "a"},
                      {"prefix_rewrite", "/"},
                      {"host_rewrite", "internal.example"}}}));

  HttpResponse r = proxy_->get("/api/v1/headers?id=7", {{"Host", "public.example"}});
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("GET /headers?id=7 HTTP/1.1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("host: internal.example"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("public.example"), std::string::npos) << r.body;
}

TEST_F(RouterTest, DirectResponsesRedirectsAndNoRoute) {
  start(json::array({
      {{"match", {{"path", "/healthz"}}}, {"direct_response", {{"status", 200}, {"body", "ok\n"}}}},
      {{"match", {{"path", "/teapot"}}},
       {"direct_response",
        {{"status", 418}, {"body", "short and stout"}, {"content_type", "text/x-tea"}}}},
      {{"match", {{"prefix", "/v1/"}}}, {"redirect", {{"status", 308}, {"path", "/v2/"}}}},
      {{"match", {{"path", "/moved"}}}, {"redirect", {{"location", "https://example.com/new"}}}},
      {{"match", {{"path", "/secure"}}},
       {"redirect", {{"scheme", "https"}, {"host", "secure.example"}, {"status", 302}}}},
      {{"match", {{"prefix", "/app/"}}}, {"cluster", "a"}},
  }));

  HttpResponse health = proxy_->get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_FALSE(health.has("x-upstream"));

  HttpResponse tea = proxy_->get("/teapot");
  EXPECT_EQ(tea.status, 418);
  EXPECT_EQ(tea.body, "short and stout");
  EXPECT_EQ(tea.header("content-type"), "text/x-tea");

  HttpResponse legacy = proxy_->get("/v1/items?id=7", {{"Host", "shop.example"}});
  EXPECT_EQ(legacy.status, 308);
  EXPECT_EQ(legacy.header("location"), "http://shop.example/v2/?id=7");

  HttpResponse moved = proxy_->get("/moved");
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.header("location"), "https://example.com/new");

  HttpResponse secure = proxy_->get("/secure?x=1");
  EXPECT_EQ(secure.status, 302);
  EXPECT_EQ(secure.header("location"), "https://secure.example/secure?x=1");

  EXPECT_EQ(upstreamOf("GET", "/app/x"), "alpha");
  HttpResponse none = proxy_->get("/elsewhere");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, "no route\n");
  EXPECT_FALSE(none.has("x-upstream"));

  // Local answers keep a keep-alive connection open, interleaved with proxied requests.
  HttpClient client(proxy_->port());
  for (int i = 0; i < 5; ++i) {
    for (const char* path : {"/healthz", "/moved", "/elsewhere", "/app/x"}) {
      HttpResponse r = client.request("GET", path);
      ASSERT_TRUE(r.ok()) << path << ": " << r.error;
      EXPECT_TRUE(r.keep_alive) << path;
    }
  }
}

TEST_F(RouterTest, PerRouteTimeoutAnswers504) {
  start(json::array({
      {{"match", {{"prefix", "/hurry/"}}},
       {"cluster", "a"},
       {"timeout", "300ms"},
       {"prefix_rewrite", "/slow/"}},
      {{"match", {{"prefix", "/"}}}, {"cluster", "a"}},
  }));

  auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = proxy_->get("/hurry/3000");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_GE(took, std::chrono::milliseconds(250));

  // Without the route's timeout the cluster's own (15 s) applies, so the same delay is fine.
  HttpResponse ok = proxy_->get("/slow/400");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.header("x-upstream"), "alpha");
}

TEST_F(RouterTest, RouteTimeoutBoundsTheWholeExchangeRetriesIncluded) {
  // Each try takes 250 ms and fails with 503; three retries would take a second.
  StubServer slow_failing([](const StubRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return StubResponse{503, {}, "down\n"};
  });
  start(json::array({{{"match", {{"prefix", "/"}}},
                      {"cluster", "slow"},
                      {"timeout", "600ms"},
                      {"retry", {{"attempts", 3}, {"on", {"5xx"}}}}}}),
        {{"slow", {slow_failing.address()}, ""}});
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = proxy_->get("/");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_GE(took, std::chrono::milliseconds(550));
  EXPECT_LT(took, std::chrono::milliseconds(900));
}

TEST_F(RouterTest, RetryOn5xxMovesToTheHealthyEndpoint) {
  // One cluster, two endpoints: alpha answers, the stub always fails with 503.
  StubServer failing([](const StubRequest&) {
    return StubResponse{503, {{"x-upstream", "failing"}}, "down\n"};
  });
  start(json::array({
            {{"match", {{"prefix", "/retry"}}},
             {"cluster", "mixed"},
             {"retry", {{"attempts", 1}, {"on", {"5xx"}}}}},
            {{"match", {{"prefix", "/once"}}}, {"cluster", "mixed"}, {"retry", {{"attempts", 0}}}},
        }),
        {{"mixed", {alpha_.address(), failing.address()}, ""}});

  for (int i = 0; i < 20; ++i) {
    HttpResponse r = proxy_->get("/retry");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    EXPECT_EQ(r.header("x-upstream"), "alpha");
  }
  // Round robin sent about half of the first tries to the failing endpoint.
  EXPECT_GE(failing.requests(), 5u);

  // Without retries those failures reach the client.
  int failed = 0;
  for (int i = 0; i < 20; ++i) failed += proxy_->get("/once").status == 503;
  EXPECT_GE(failed, 5);
  EXPECT_LE(failed, 15);
}

TEST(RouterValidateTest, RegexRe2RejectsFailsValidationNamingTheRoute) {
  PluginDir plugins;
  plugins.addFilter("router");
  json routes = json::array({{{"match", {{"prefix", "/ok"}}}, {"cluster", "app"}},
                             {{"match", {{"regex", "/items/(["}}}, {"cluster", "app"}}});
  std::string yaml =
      chainConfig(plugins, freePort(), freePort(), {{"router", {{"routes", routes}}}},
                  {{"app", {"127.0.0.1:1"}, ""}});
  std::string path = plugins.file("remora.yaml");
  std::ofstream(path) << yaml;
  Process p({REMORA_BINARY, "--validate", "--config", path});
  auto status = p.waitExit(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exitedWith(1)) << status->describe() << "\n" << p.output();
  EXPECT_NE(p.output().find("listeners[0].filters[0].config: routes[1].match.regex: invalid regex"),
            std::string::npos)
      << p.output();
}

}  // namespace
}  // namespace remora::test
