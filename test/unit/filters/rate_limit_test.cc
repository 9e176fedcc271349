// The rate_limit filter through the real plugin (build/filters/rate_limit.so) and the test host,
// whose clock only moves when the test advances it.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/filter_test_host.h"

namespace remora::test {
namespace {

using namespace std::chrono_literals;

class RateLimitFilter : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(host_.ok()) << host_.error(); }

  void configure(const std::string& json) {
    std::string error;
    config_ = host_.newConfig(json, &error);
    ASSERT_NE(config_, nullptr) << error;
  }

  std::string reject(const std::string& json) {
    std::string error;
    EXPECT_EQ(host_.newConfig(json, &error), nullptr) << json;
    return error;
  }

  // Runs one request through on_request_headers; returns the stream for inspection.
  std::unique_ptr<TestStream> send(const std::string& path, const std::string& client = "10.0.0.1",
                                   const HeaderPairs& headers = {}) {
    auto s = host_.newStream(*config_);
    s->path = path;
    s->client_address = client;
    for (const auto& [n, v] : headers) s->request_headers.add(n, v);
    last_status_ = s->requestHeaders();
    return s;
  }

  // True when the request got through.
  bool allowed(const std::string& path, const std::string& client = "10.0.0.1",
               const HeaderPairs& headers = {}) {
    auto s = send(path, client, headers);
    return last_status_ == REMORA_CONTINUE && !s->local_reply;
  }

  FilterTestHost host_{FilterTestHost::pluginPath("rate_limit")};
  std::unique_ptr<PluginConfig> config_;
  remora_status_t last_status_ = REMORA_CONTINUE;
};

TEST_F(RateLimitFilter, DescriptorNamesTheFilter) {
  EXPECT_STREQ(host_.descriptor().name, "rate_limit");
  EXPECT_EQ(host_.descriptor().priority, 200);
  EXPECT_EQ(host_.descriptor().on_request_body, nullptr);
}

TEST_F(RateLimitFilter, BurstThen429WithRateLimitHeadersThenRefill) {
  configure(R"({"rules": [{"prefix": "/api", "rate": 2, "per": "1s"}]})");
  EXPECT_TRUE(allowed("/api/a"));
  EXPECT_TRUE(allowed("/api/b"));
  auto s = send("/api/c");
  EXPECT_EQ(last_status_, REMORA_REPLIED);
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->status, 429);
  EXPECT_EQ(s->local_reply->body, "rate limit exceeded\n");
  EXPECT_EQ(s->local_reply->header("retry-after"), "1");
  EXPECT_EQ(s->local_reply->header("x-ratelimit-limit"), "2");
  EXPECT_EQ(s->local_reply->header("x-ratelimit-remaining"), "0");
  EXPECT_EQ(s->local_reply->header("x-ratelimit-reset"), "1");
  EXPECT_EQ(host_.metricValue("rate_limit_allowed_total", "/api"), 2);
  EXPECT_EQ(host_.metricValue("rate_limit_limited_total", "/api"), 1);

  host_.advance(499ms);
  EXPECT_FALSE(allowed("/api/d")) << "2/s refills one token every 500 ms";
  host_.advance(1ms);
  EXPECT_TRUE(allowed("/api/e"));
  EXPECT_FALSE(allowed("/api/f"));

  // Refill is capped at the burst.
  host_.advance(1h);
  EXPECT_TRUE(allowed("/api/g"));
  EXPECT_TRUE(allowed("/api/h"));
  EXPECT_FALSE(allowed("/api/i"));
}

TEST_F(RateLimitFilter, BurstAboveRateAndSlowRates) {
  configure(R"({"rules": [{"prefix": "/", "rate": 1, "per": "1m", "burst": 3}]})");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(allowed("/x")) << i;
  auto s = send("/x");
  ASSERT_TRUE(s->local_reply);
  EXPECT_EQ(s->local_reply->header("retry-after"), "60");
  EXPECT_EQ(s->local_reply->header("x-ratelimit-reset"), "180");
  EXPECT_EQ(s->local_reply->header("x-ratelimit-limit"), "1");
}

TEST_F(RateLimitFilter, UnmatchedPathsPassAndFirstMatchingRuleWins) {
  configure(R"({"rules": [
      {"prefix": "/api/slow", "rate": 1, "name": "slow"},
      {"prefix": "/api", "rate": 100, "name": "api"}]})");
  EXPECT_TRUE(allowed("/health"));
  EXPECT_TRUE(allowed("/api/slow/1"));
  EXPECT_FALSE(allowed("/api/slow/2"));
  EXPECT_TRUE(allowed("/api/fast"));
  EXPECT_EQ(host_.metricValue("rate_limit_allowed_total", "slow"), 1);
  EXPECT_EQ(host_.metricValue("rate_limit_limited_total", "slow"), 1);
  EXPECT_EQ(host_.metricValue("rate_limit_allowed_total", "api"), 1);
}

TEST_F(RateLimitFilter, KeyedByClientAddress) {
  configure(R"({"rules": [{"prefix": "/", "rate": 1, "key": "client_address"}]})");
  EXPECT_TRUE(allowed("/", "10.0.0.1"));
  EXPECT_FALSE(allowed("/", "10.0.0.1"));
  EXPECT_TRUE(allowed("/", "10.0.0.2"));
  EXPECT_FALSE(allowed("/", "10.0.0.2"));
}

TEST_F(RateLimitFilter, KeyedByHeaderAndMissingHeaderSharesOneBucket) {
  configure(R"({"rules": [{"prefix": "/", "rate": 1, "key": "header:x-api-key"}]})");
  EXPECT_TRUE(allowed("/", "a", {{"X-Api-Key", "k1"}}));
  EXPECT_FALSE(allowed("/", "b", {{"x-api-key", "k1"}}));
  EXPECT_TRUE(allowed("/", "a", {{"x-api-key", "k2"}}));
  EXPECT_TRUE(allowed("/", "a"));
  EXPECT_FALSE(allowed("/", "b"));
}

TEST_F(RateLimitFilter, KeyTableIsBoundedAndEvictsTheLeastRecentlyUsed) {
  configure(R"({"rules": [{"prefix": "/", "rate": 1, "key": "client_address", "max_keys": 2,
                           "name": "per_client"}]})");
  EXPECT_TRUE(allowed("/", "a"));
  EXPECT_TRUE(allowed("/", "b"));
  EXPECT_FALSE(allowed("/", "a"));  // touches a: b is now the least recently used
  EXPECT_TRUE(allowed("/", "c"));   // evicts b
  EXPECT_EQ(host_.metricValue("rate_limit_evictions_total", "per_client"), 1);
  EXPECT_FALSE(allowed("/", "a")) << "a was kept";
  EXPECT_TRUE(allowed("/", "b")) << "b was forgotten and starts full again";
  EXPECT_EQ(host_.metricValue("rate_limit_evictions_total", "per_client"), 2);
}

TEST_F(RateLimitFilter, BucketsArePerWorker) {
  configure(R"({"rules": [{"prefix": "/", "rate": 1}]})");
  EXPECT_TRUE(allowed("/"));
  EXPECT_FALSE(allowed("/"));
  bool other_worker = false;
  std::thread([&] { other_worker = allowed("/"); }).join();
  EXPECT_TRUE(other_worker) << "another worker has its own bucket";
  // A new config (snapshot) starts with fresh buckets.
  configure(R"({"rules": [{"prefix": "/", "rate": 1}]})");
  EXPECT_TRUE(allowed("/"));
}

TEST_F(RateLimitFilter, OptionalHeadersOnAllowedResponses) {
  configure(R"({"rules": [{"prefix": "/", "rate": 10}], "response_headers": true})");
  auto s = send("/");
  EXPECT_EQ(s->respond(200), REMORA_CONTINUE);
  EXPECT_EQ(s->response_headers.get("x-ratelimit-limit"), "10");
  EXPECT_EQ(s->response_headers.get("x-ratelimit-remaining"), "9");
  EXPECT_EQ(s->response_headers.get("x-ratelimit-reset"), "1");

  configure(R"({"rules": [{"prefix": "/", "rate": 10}]})");
  auto quiet = send("/");
  quiet->respond(200);
  EXPECT_FALSE(quiet->response_headers.has("x-ratelimit-limit"));
}

TEST_F(RateLimitFilter, RejectionsNameTheField) {
  EXPECT_EQ(reject("{}"), "rules: must be a non-empty list of rules, got nothing");
  EXPECT_EQ(reject(R"({"rules": []})"), "rules: must be a non-empty list of rules, got []");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "api", "rate": 1}]})"),
            "rules[0].prefix: must be a path prefix starting with '/', got \"api\"");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 0}]})"),
            "rules[0].rate: must be a number > 0, got 0");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/"}]})"),
            "rules[0].rate: must be a number > 0, got nothing");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1, "per": "soon"}]})"),
            "rules[0].per: must be a duration like \"1s\" or \"250ms\", got \"soon\"");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1, "per": "0s"}]})"),
            "rules[0].per: must be > 0, got \"0s\"");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1, "burst": 0.5}]})"),
            "rules[0].burst: must be a number >= 1, got 0.5");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1, "key": "header:"}]})"),
            "rules[0].key: must be \"none\", \"client_address\" or \"header:<name>\", got "
            "\"header:\"");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1, "max_keys": 0}]})"),
            "rules[0].max_keys: must be an integer >= 1, got 0");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1}, {"prefix": "/", "rate": 2}]})"),
            "rules[1].name: duplicate rule name '/' (set distinct names)");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1, "limit": 2}]})"),
            "rules[0].limit: unknown field");
  EXPECT_EQ(reject(R"({"rules": [{"prefix": "/", "rate": 1}], "response_headers": "yes"})"),
            "response_headers: must be true or false, got \"yes\"");
}

}  // namespace
}  // namespace remora::test
