// The rate_limit plugin (build/filters/rate_limit.so) in the real binary: a burst beyond the
// bucket answers 429 with retry-after and x-ratelimit-* headers, header keys get their own
// buckets, tokens come back at the configured rate.

#include <gtest/gtest.h>

#include <thread>

#include "common/filter_env.h"
#include "common/harness.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

class RateLimitTest : public ::testing::Test {
 protected:
  RateLimitTest() {
    plugins_.addFilter("rate_limit");
    plugins_.addFilter("router");
    json rate_limit = {
        {"rules",
         {{{"name", "burst"}, {"prefix", "/limited"}, {"rate", 1}, {"per", "1m"}, {"burst", 3}},
          {{"name", "keyed"},
           {"prefix", "/keyed"},
           {"rate", 1},
           {"per", "1m"},
           {"burst", 2},
           {"key", "header:x-api-key"}},
          {{"name", "refill"}, {"prefix", "/refill"}, {"rate", 10}, {"per", "1s"}, {"burst", 1}}}},
        {"response_headers", true}};
    json router = {{"routes", {{{"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
    proxy_ = std::make_unique<FilterProxy>(
        plugins_, std::vector<FilterSpec>{{"rate_limit", rate_limit}, {"router", router}},
        std::vector<ClusterSpec>{{"app", {app_.address()}, ""}});
  }

  int status(const std::string& path,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    return proxy_->get(path, std::move(headers)).status;
  }

  PluginDir plugins_;
  DemoUpstream app_{"app"};
  std::unique_ptr<FilterProxy> proxy_;
};

TEST_F(RateLimitTest, BurstExceededAnswers429WithRetryAfterAndLimitHeaders) {
  for (int i = 0; i < 3; ++i) {
    HttpResponse ok = proxy_->get("/limited");
    ASSERT_EQ(ok.status, 200) << "request " << i;
    EXPECT_EQ(ok.header("x-upstream"), "app");
    EXPECT_EQ(ok.header("x-ratelimit-limit"), "1");
    EXPECT_EQ(ok.header("x-ratelimit-remaining"), std::to_string(2 - i));
  }
  HttpResponse limited = proxy_->get("/limited/more");
  ASSERT_TRUE(limited.ok()) << limited.error;
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body, "rate limit exceeded\n");
  EXPECT_FALSE(limited.has("x-upstream"));  // never reached the upstream
  // One token per minute: the next one is about 60 s away (less the time this test took).
  int retry_after = std::stoi(limited.header("retry-after"));
  EXPECT_GE(retry_after, 50);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(limited.header("x-ratelimit-limit"), "1");
  EXPECT_EQ(limited.header("x-ratelimit-remaining"), "0");
  EXPECT_GE(std::stoi(limited.header("x-ratelimit-reset")), retry_after);

  // Paths no rule matches are not limited.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(status("/free"), 200);

  std::string metrics = proxy_->metrics();
  EXPECT_EQ(findMetric(metrics, "remora_filter_rate_limit_allowed_total", {{"rule", "burst"}}), 3)
      << metrics;
  EXPECT_EQ(findMetric(metrics, "remora_filter_rate_limit_limited_total", {{"rule", "burst"}}), 1)
      << metrics;
}

TEST_F(RateLimitTest, HeaderKeysHaveSeparateBuckets) {
  EXPECT_EQ(status("/keyed", {{"x-api-key", "alice"}}), 200);
  EXPECT_EQ(status("/keyed", {{"x-api-key", "alice"}}), 200);
  EXPECT_EQ(status("/keyed", {{"x-api-key", "alice"}}), 429);

  // Bob's bucket is untouched by Alice's requests.
  EXPECT_EQ(status("/keyed", {{"x-api-key", "bob"}}), 200);
  EXPECT_EQ(status("/keyed", {{"x-api-key", "bob"}}), 200);
  EXPECT_EQ(status("/keyed", {{"x-api-key", "bob"}}), 429);

  // Requests without the header share one bucket of their own.
  EXPECT_EQ(status("/keyed"), 200);
  EXPECT_EQ(status("/keyed"), 200);
  EXPECT_EQ(status("/keyed"), 429);
  EXPECT_EQ(status("/keyed", {{"x-api-key", "alice"}}), 429);
}

TEST_F(RateLimitTest, TokensComeBackAtTheConfiguredRate) {
  EXPECT_EQ(status("/refill"), 200);
  HttpResponse limited = proxy_->get("/refill");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "1");  // at least 1 s, even for a 100 ms refill
  // Ten tokens per second: one is back within ~100 ms.
  EXPECT_TRUE(eventually([&] { return status("/refill") == 200; }, std::chrono::seconds(2)));
}

}  // namespace
}  // namespace remora::test
