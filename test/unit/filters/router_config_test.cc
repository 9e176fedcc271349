// The router's config parser: what it accepts, and the exact message for what it refuses.

#include <gtest/gtest.h>

#include <string>

#include <remora_filter.h>

#include "router/route_config.h"

namespace remora::router {
namespace {

std::unique_ptr<RouterConfig> parseOk(const std::string& json) {
  std::string error;
  std::unique_ptr<RouterConfig> config = parseRouterConfig(nlohmann::json::parse(json), error);
  EXPECT_NE(config, nullptr) << error;
  EXPECT_EQ(error, "");
  return config;
}

std::string errorOf(const std::string& json) {
  std::string error;
  EXPECT_EQ(parseRouterConfig(nlohmann::json::parse(json), error), nullptr);
  return error;
}

TEST(RouterConfigTest, ParsesAFullRoute) {
  std::unique_ptr<RouterConfig> c = parseOk(R"({"routes": [{
    "name": "api",
    "match": {"prefix": "/api/", "methods": ["get", "POST"],
              "headers": [{"name": "X-Env", "exact": "prod"}, {"name": "x-debug", "present": false}],
              "query": [{"name": "v", "regex": "[0-9]+"}], "host": "API.example.com"},
    "weighted_clusters": [{"cluster": "a", "weight": 90}, {"cluster": "b", "weight": 10}],
    "canary": {"header": "X-Canary", "value": "1", "cluster": "c"},
    "timeout": "2s",
    "retry": {"attempts": 2, "on": ["5xx", "connect_failure"], "per_try_timeout": "500ms",
              "non_idempotent": true},
    "prefix_rewrite": "/v2/", "host_rewrite": "internal.api"}]})");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->routes.size(), 1u);
  const Route& r = c->routes[0];
  EXPECT_EQ(r.name, "api");
  EXPECT_EQ(r.match.path_kind, RouteMatch::PathKind::kPrefix);
  EXPECT_EQ(r.match.path, "/api/");
  EXPECT_EQ(r.match.methods, (std::vector<std::string>{"GET", "POST"}));
  ASSERT_EQ(r.match.headers.size(), 2u);
  EXPECT_EQ(r.match.headers[0].name, "x-env");
  EXPECT_EQ(r.match.headers[0].kind, ValueMatcher::Kind::kExact);
  EXPECT_EQ(r.match.headers[1].kind, ValueMatcher::Kind::kPresent);
  EXPECT_FALSE(r.match.headers[1].present);
  ASSERT_EQ(r.match.query.size(), 1u);
  EXPECT_NE(r.match.query[0].regex, nullptr);
  EXPECT_EQ(r.match.host, "api.example.com");
  EXPECT_EQ(r.action, Route::Action::kWeighted);
  ASSERT_EQ(r.weighted_clusters.size(), 2u);
  EXPECT_EQ(r.weighted_clusters[1].cluster, "b");
  EXPECT_EQ(r.weighted_clusters[1].weight, 10u);
  ASSERT_TRUE(r.canary.has_value());
  EXPECT_EQ(r.canary->header, "x-canary");
  EXPECT_EQ(r.canary->value, "1");
  EXPECT_EQ(r.timeout_ms, 2000u);
  EXPECT_EQ(r.retry.attempts, 2u);
  EXPECT_EQ(r.retry.on, REMORA_RETRY_5XX | REMORA_RETRY_CONNECT_FAILURE);
  EXPECT_EQ(r.retry.per_try_timeout_ms, 500u);
  EXPECT_TRUE(r.retry.non_idempotent);
  EXPECT_EQ(r.prefix_rewrite, "/v2/");
  EXPECT_EQ(r.host_rewrite, "internal.api");
}

TEST(RouterConfigTest, DefaultsNameRetryAndResponses) {
  std::unique_ptr<RouterConfig> c = parseOk(R"({"routes": [
    {"match": {"path": "/a"}, "cluster": "x", "retry": {}},
    {"match": {"prefix": "/"}, "direct_response": {"body": "hi"}},
    {"match": {"regex": "/old/.*"}, "redirect": {"scheme": "https"}}]})");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->routes[0].name, "routes[0]");
  EXPECT_EQ(c->routes[0].retry.attempts, 1u);
  EXPECT_EQ(c->routes[0].retry.on,
            REMORA_RETRY_5XX | REMORA_RETRY_RESET | REMORA_RETRY_CONNECT_FAILURE);
  EXPECT_EQ(c->routes[1].direct_response.status, 200);
  EXPECT_EQ(c->routes[1].direct_response.content_type, "text/plain");
  EXPECT_EQ(c->routes[2].redirect.status, 301);
}

TEST(RouterConfigTest, RejectsARegexRe2CannotCompile) {
  EXPECT_EQ(errorOf(R"({"routes": [
    {"match": {"prefix": "/"}, "cluster": "a"},
    {"match": {"prefix": "/"}, "cluster": "a"},
    {"match": {"prefix": "/"}, "cluster": "a"},
    {"match": {"regex": "("}, "cluster": "a"}]})"),
            R"(routes[3].match.regex: invalid regex "(": missing ))");
  EXPECT_EQ(errorOf(R"({"routes": [{"match": {"prefix": "/",
      "headers": [{"name": "x", "regex": "a**"}]}, "cluster": "a"}]})"),
            R"(routes[0].match.headers[0].regex: invalid regex "a**": bad repetition operator)");
  EXPECT_EQ(
      errorOf(R"({"routes": [{"match": {"prefix": "/",
      "query": [{"name": "x", "regex": "[z-a]"}]}, "cluster": "a"}]})"),
      R"(routes[0].match.query[0].regex: invalid regex "[z-a]": invalid character class range)");
}

struct BadConfig {
  const char* json;
  const char* error;
};

class RouterConfigErrorTest : public testing::TestWithParam<BadConfig> {};

TEST_P(RouterConfigErrorTest, NamesTheExactField) {
  EXPECT_EQ(errorOf(GetParam().json), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, RouterConfigErrorTest,
    testing::Values(
        BadConfig{"[]", "config: must be an object, got an array"},
        BadConfig{"{}", "routes: is required"},
        BadConfig{R"({"routes": [], "extra": 1})", "extra: unknown field"},
        BadConfig{R"({"routes": [7]})", "routes[0]: must be an object, got a number"},
        BadConfig{R"({"routes": [{"cluster": "a"}]})", "routes[0].match: is required"},
        BadConfig{R"({"routes": [{"match": {}, "cluster": "a"}]})",
                  "routes[0].match: exactly one of prefix, path, regex is required"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/", "path": "/a"}, "cluster": "a"}]})",
                  "routes[0].match: exactly one of prefix, path, regex is required"},
        BadConfig{R"({"routes": [{"match": {"prefix": "api"}, "cluster": "a"}]})",
                  "routes[0].match.prefix: must start with '/'"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/", "prefx": 1}, "cluster": "a"}]})",
                  "routes[0].match.prefx: unknown field"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/", "methods": ["GET", "B D"]}, "cluster": "a"}]})",
            "routes[0].match.methods[1]: must be an HTTP method such as \"GET\""},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/", "headers": [{"name": "x"}]}, "cluster": "a"}]})",
            "routes[0].match.headers[0]: exactly one of exact, regex, present is required"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/", "headers": [{"exact": "1"}]}, "cluster": "a"}]})",
            "routes[0].match.headers[0].name: is required"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/", "query": [{"name": "q", "present": "yes"}]}, "cluster": "a"}]})",
            "routes[0].match.query[0].present: must be a boolean, got a string"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/"}}]})",
                  "routes[0]: exactly one of cluster, weighted_clusters, direct_response, redirect "
                  "is required"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "redirect": {"host": "b"}}]})",
            "routes[0]: exactly one of cluster, weighted_clusters, direct_response, redirect is "
            "required"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/"}, "cluster": ""}]})",
                  "routes[0].cluster: must not be empty"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "weighted_clusters": [{"cluster": "a", "weight": 60}, {"cluster": "b", "weight": 30}]}]})",
            "routes[0].weighted_clusters: weights must sum to 100, got 90"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "weighted_clusters": [{"cluster": "a", "weight": 101}]}]})",
            "routes[0].weighted_clusters[0].weight: must be between 0 and 100, got 101"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "weighted_clusters": [{"cluster": "a", "weight": 50}, {"cluster": "a", "weight": 50}]}]})",
            "routes[0].weighted_clusters[1].cluster: \"a\" is listed twice"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "timeout": "2 s"}]})",
                  "routes[0].timeout: must be a duration like \"1s\" or \"250ms\", got \"2 s\""},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "retry": {"attempts": -1}}]})",
            "routes[0].retry.attempts: must be between 0 and 10, got -1"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "retry": {"on": ["5xx", "timeout"]}}]})",
            "routes[0].retry.on[1]: must be one of \"5xx\", \"reset\", \"connect_failure\", "
            "\"cancelled\", \"deadline-exceeded\", \"internal\", \"resource-exhausted\", "
            "\"unavailable\", got \"timeout\""},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "timeout": "1s", "retry": {"per_try_timeout": "2s"}}]})",
            "routes[0].retry.per_try_timeout: must not exceed the route's timeout (1000ms)"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "canary": {"header": "x-canary"}}]})",
            "routes[0].canary.cluster: is required"},
        BadConfig{
            R"({"routes": [{"match": {"regex": "/.*"}, "cluster": "a", "prefix_rewrite": "/v2"}]})",
            "routes[0].prefix_rewrite: needs a prefix or path match"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "cluster": "a", "host_rewrite": "a\r\nb"}]})",
            "routes[0].host_rewrite: must be a host name, got \"a\r\nb\""},
        BadConfig{R"({"routes": [{"match": {"prefix": "/"}, "direct_response": {"status": 99}}]})",
                  "routes[0].direct_response.status: must be between 200 and 599, got 99"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "direct_response": {}, "timeout": "1s"}]})",
            "routes[0].timeout: only applies to a route with cluster or weighted_clusters"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/"}, "redirect": {}}]})",
                  "routes[0].redirect: one of location, scheme, host, path is required"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "redirect": {"location": "http://x/", "host": "y"}}]})",
            "routes[0].redirect: location cannot be combined with scheme, host or path"},
        BadConfig{
            R"({"routes": [{"match": {"prefix": "/"}, "redirect": {"host": "y", "status": 304}}]})",
            "routes[0].redirect.status: must be one of 301, 302, 303, 307, 308, got 304"},
        BadConfig{R"({"routes": [{"match": {"prefix": "/"}, "redirect": {"scheme": "ftp"}}]})",
                  "routes[0].redirect.scheme: must be \"http\" or \"https\", got \"ftp\""},
        BadConfig{
            R"({"routes": [{"name": "a", "match": {"prefix": "/"}, "cluster": "a"}, {"name": "a", "match": {"prefix": "/"}, "cluster": "b"}]})",
            "routes[1].name: \"a\" names another route too"}));

TEST(RouterConfigTest, RejectsABadOriginalDst) {
  const std::string expected =
      "routes[0].match.original_dst: must be \"ip:port\", \"ip\" or \"*:port\" (IPv6 in "
      "brackets), e.g. \"10.0.0.7:8080\"";
  for (const char* bad : {"host.example:80", "*", "10.0.0.7:", "10.0.0.7:0", "10.0.0.7:70000",
                          "fd00::7", "[fd00::7", "[fd00::7]80"}) {
    EXPECT_EQ(errorOf(std::string(R"({"routes": [{"match": {"prefix": "/", "original_dst": ")") +
                      bad + R"("}, "cluster": "c"}]})"),
              expected)
        << bad;
  }
}

}  // namespace
}  // namespace remora::router
