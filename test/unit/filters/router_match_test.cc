// Route matching and route actions (cluster choice, rewrites, redirects) on plain requests.

#include <gtest/gtest.h>

#include <remora/sdk/query.h>

#include <map>
#include <string>

#include "router/route_action.h"
#include "router/route_matcher.h"

namespace remora::router {
namespace {

// Query parsing is the SDK's; the filters match on it.
using sdk::queryParam;

struct FakeRequest : RequestView {
  std::string method_ = "GET";
  std::string target_ = "/";
  std::string authority_ = "example.com";
  std::map<std::string, std::string> headers_;  // lower-case names
  std::optional<std::string> original_dst_;

  std::string_view method() const override { return method_; }
  std::string_view target() const override { return target_; }
  std::string_view authority() const override { return authority_; }
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = headers_.find(std::string(name));
    if (it == headers_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::optional<std::string_view> originalDst() const override {
    if (!original_dst_) return std::nullopt;
    return std::string_view(*original_dst_);
  }
};

FakeRequest request(std::string method, std::string target,
                    std::map<std::string, std::string> headers = {},
                    std::string authority = "example.com") {
  FakeRequest r;
  r.method_ = std::move(method);
  r.target_ = std::move(target);
  r.headers_ = std::move(headers);
  r.authority_ = std::move(authority);
  return r;
}

std::unique_ptr<RouterConfig> config(const std::string& json) {
  std::string error;
  std::unique_ptr<RouterConfig> c = parseRouterConfig(nlohmann::json::parse(json), error);
  EXPECT_NE(c, nullptr) << error;
  return c;
}

// The name of the route `r` takes, or "none".
std::string routed(const RouterConfig& c, const FakeRequest& r) {
  const Route* route = findRoute(c, r);
  return route ? route->name : "none";
}

TEST(RouteMatchTest, FirstMatchingRouteWinsInConfigOrder) {
  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"name": "exact", "match": {"path": "/api/health"}, "cluster": "h"},
    {"name": "api-post", "match": {"prefix": "/api/", "methods": ["POST"]}, "cluster": "w"},
    {"name": "api", "match": {"prefix": "/api/"}, "cluster": "r"},
    {"name": "shadowed", "match": {"prefix": "/api/users"}, "cluster": "u"},
    {"name": "regex", "match": {"regex": "/item/[0-9]+"}, "cluster": "i"},
    {"name": "catch-all", "match": {"prefix": "/"}, "cluster": "d"}]})");
  EXPECT_EQ(routed(*c, request("GET", "/api/health")), "exact");
  EXPECT_EQ(routed(*c, request("GET", "/api/health?full=1")), "exact");
  EXPECT_EQ(routed(*c, request("GET", "/api/healthz")), "api");
  EXPECT_EQ(routed(*c, request("POST", "/api/users")), "api-post");
  EXPECT_EQ(routed(*c, request("GET", "/api/users")), "api");  // an earlier route shadows it
  EXPECT_EQ(routed(*c, request("GET", "/item/42")), "regex");
  EXPECT_EQ(routed(*c, request("GET", "/item/42/x")), "catch-all");   // regex is a full match
  EXPECT_EQ(routed(*c, request("GET", "/API/health")), "catch-all");  // paths are case-sensitive
}

TEST(RouteMatchTest, NoRouteWhenNothingMatches) {
  std::unique_ptr<RouterConfig> c =
      config(R"({"routes": [{"match": {"prefix": "/a"}, "cluster": "x"}]})");
  EXPECT_EQ(routed(*c, request("GET", "/b")), "none");
}

TEST(RouteMatchTest, HeaderConditions) {
  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"name": "all", "match": {"prefix": "/", "headers": [
      {"name": "X-Env", "exact": "prod"},
      {"name": "x-user", "regex": "u-[0-9]+"},
      {"name": "x-debug", "present": false},
      {"name": "x-trace", "present": true}]}, "cluster": "a"}]})");
  std::map<std::string, std::string> h = {{"x-env", "prod"}, {"x-user", "u-17"}, {"x-trace", ""}};
  EXPECT_EQ(routed(*c, request("GET", "/", h)), "all");
  auto without = [&](const std::string& name) {
    auto copy = h;
    copy.erase(name);
    return request("GET", "/", copy);
  };
  auto with = [&](const std::string& name, const std::string& value) {
    auto copy = h;
    copy[name] = value;
    return request("GET", "/", copy);
  };
  EXPECT_EQ(routed(*c, without("x-env")), "none");
  EXPECT_EQ(routed(*c, with("x-env", "Prod")), "none");  // values are case-sensitive
  EXPECT_EQ(routed(*c, with("x-user", "u-17x")), "none");
  EXPECT_EQ(routed(*c, with("x-debug", "1")), "none");
  EXPECT_EQ(routed(*c, without("x-trace")), "none");
}

TEST(RouteMatchTest, QueryConditionsDecodeValues) {
  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"name": "q", "match": {"prefix": "/", "query": [
      {"name": "name", "exact": "a b"}, {"name": "v", "regex": "[0-9]+"},
      {"name": "debug", "present": false}]}, "cluster": "a"}]})");
  EXPECT_EQ(routed(*c, request("GET", "/s?name=a+b&v=12")), "q");
  EXPECT_EQ(routed(*c, request("GET", "/s?v=3&name=a%20b")), "q");
  EXPECT_EQ(routed(*c, request("GET", "/s?name=a+b&v=x")), "none");
  EXPECT_EQ(routed(*c, request("GET", "/s?name=a+b&v=1&debug")), "none");
  EXPECT_EQ(routed(*c, request("GET", "/s")), "none");
  EXPECT_EQ(queryParam("a=1&b=&c", "b"), "");
  EXPECT_EQ(queryParam("a=1&b=&c", "c"), "");
  EXPECT_EQ(queryParam("a=1&a=2", "a"), "1");
  EXPECT_EQ(queryParam("a=%zz", "a"), "%zz");
  EXPECT_EQ(queryParam("a=1", "b"), std::nullopt);
}

TEST(RouteMatchTest, HostConditions) {
  EXPECT_TRUE(hostMatches("api.example.com", "API.Example.com:8080"));
  EXPECT_FALSE(hostMatches("api.example.com", "example.com"));
  EXPECT_TRUE(hostMatches("api.example.com:8080", "api.example.com:8080"));
  EXPECT_FALSE(hostMatches("api.example.com:8080", "api.example.com:9090"));
  EXPECT_TRUE(hostMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "example.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "badexample.com"));
  EXPECT_TRUE(hostMatches("[::1]", "[::1]:80"));

  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"name": "api", "match": {"prefix": "/", "host": "api.example.com"}, "cluster": "a"},
    {"name": "other", "match": {"prefix": "/"}, "cluster": "b"}]})");
  EXPECT_EQ(routed(*c, request("GET", "/", {}, "api.example.com")), "api");
  EXPECT_EQ(routed(*c, request("GET", "/", {}, "www.example.com")), "other");
}

TEST(RouteActionTest, WeightedChoiceFollowsCumulativeWeights) {
  std::vector<WeightedCluster> wc = {{"a", 70}, {"zero", 0}, {"b", 20}, {"c", 10}};
  EXPECT_EQ(pickWeighted(wc, 0), "a");
  EXPECT_EQ(pickWeighted(wc, 69), "a");
  EXPECT_EQ(pickWeighted(wc, 70), "b");
  EXPECT_EQ(pickWeighted(wc, 89), "b");
  EXPECT_EQ(pickWeighted(wc, 90), "c");
  EXPECT_EQ(pickWeighted(wc, 99), "c");
  int counts[2] = {0, 0};
  for (uint32_t roll = 0; roll < 100; ++roll) {
    ++counts[pickWeighted({{"x", 35}, {"y", 65}}, roll) == "x" ? 0 : 1];
  }
  EXPECT_EQ(counts[0], 35);
  EXPECT_EQ(counts[1], 65);
}

TEST(RouteActionTest, CanaryHeaderOverridesTheWeights) {
  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"match": {"prefix": "/"}, "weighted_clusters": [{"cluster": "a", "weight": 100}],
     "canary": {"header": "X-Canary", "value": "1", "cluster": "b"}},
    {"match": {"prefix": "/"}, "cluster": "a", "canary": {"header": "x-canary", "cluster": "b"}}]})");
  const Route& valued = c->routes[0];
  const Route& any = c->routes[1];
  EXPECT_EQ(pickCluster(valued, request("GET", "/"), 5), "a");
  EXPECT_EQ(pickCluster(valued, request("GET", "/", {{"x-canary", "1"}}), 5), "b");
  EXPECT_EQ(pickCluster(valued, request("GET", "/", {{"x-canary", "0"}}), 5), "a");
  EXPECT_EQ(pickCluster(any, request("GET", "/", {{"x-canary", "anything"}}), 5), "b");
  EXPECT_EQ(pickCluster(any, request("GET", "/"), 5), "a");
}

TEST(RouteActionTest, PrefixRewriteKeepsTheRestAndTheQuery) {
  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"match": {"prefix": "/api"}, "cluster": "a", "prefix_rewrite": "/v2"},
    {"match": {"prefix": "/old/"}, "cluster": "a", "prefix_rewrite": "/"},
    {"match": {"path": "/status"}, "cluster": "a", "prefix_rewrite": "/internal/health"},
    {"match": {"prefix": "/strip"}, "cluster": "a", "prefix_rewrite": ""},
    {"match": {"prefix": "/"}, "cluster": "a"}]})");
  EXPECT_EQ(rewriteTarget(c->routes[0], "/api/users?id=7"), "/v2/users?id=7");
  EXPECT_EQ(rewriteTarget(c->routes[0], "/api"), "/v2");
  EXPECT_EQ(rewriteTarget(c->routes[1], "/old/x/y"), "/x/y");
  EXPECT_EQ(rewriteTarget(c->routes[2], "/status?full=1"), "/internal/health?full=1");
  EXPECT_EQ(rewriteTarget(c->routes[3], "/strip"), "/");
  EXPECT_EQ(rewriteTarget(c->routes[3], "/strip?a=1"), "/?a=1");
  EXPECT_EQ(rewriteTarget(c->routes[4], "/x"), "");  // no rewrite: target unchanged
}

TEST(RouteActionTest, RedirectLocations) {
  FakeRequest r = request("GET", "/docs/page?lang=en", {}, "old.example.com");
  Redirect to_url{301, "https://new.example.com/", "", "", ""};
  EXPECT_EQ(redirectLocation(to_url, r), "https://new.example.com/");
  Redirect to_https{308, "", "https", "", ""};
  EXPECT_EQ(redirectLocation(to_https, r), "https://old.example.com/docs/page?lang=en");
  Redirect to_host{302, "", "", "new.example.com", ""};
  EXPECT_EQ(redirectLocation(to_host, r), "http://new.example.com/docs/page?lang=en");
  Redirect to_path{301, "", "", "", "/manual"};
  EXPECT_EQ(redirectLocation(to_path, r), "http://old.example.com/manual?lang=en");
  Redirect to_path_query{301, "", "", "", "/manual?v=2"};
  EXPECT_EQ(redirectLocation(to_path_query, r), "http://old.example.com/manual?v=2");
}

// Transparent interception: routes on the connection's original destination.
TEST(RouteMatchTest, OriginalDstConditions) {
  std::unique_ptr<RouterConfig> c = config(R"({"routes": [
    {"name": "exact", "match": {"prefix": "/", "original_dst": "10.0.0.7:8080"}, "cluster": "a"},
    {"name": "host", "match": {"prefix": "/", "original_dst": "10.0.0.8"}, "cluster": "b"},
    {"name": "port", "match": {"prefix": "/", "original_dst": "*:5432"}, "cluster": "c"},
    {"name": "v6", "match": {"prefix": "/", "original_dst": "[fd00:0::7]:80"}, "cluster": "d"},
    {"name": "rest", "match": {"prefix": "/"}, "cluster": "e"}]})");
  auto to = [](std::optional<std::string> dst) {
    FakeRequest r = request("GET", "/");
    r.original_dst_ = std::move(dst);
    return r;
  };
  EXPECT_EQ(routed(*c, to("10.0.0.7:8080")), "exact");
  EXPECT_EQ(routed(*c, to("10.0.0.7:8081")), "rest");
  EXPECT_EQ(routed(*c, to("10.0.0.8:1")), "host");
  EXPECT_EQ(routed(*c, to("10.9.9.9:5432")), "port");
  EXPECT_EQ(routed(*c, to("[fd00::7]:80")), "v6");  // the pattern was canonicalized
  EXPECT_EQ(routed(*c, to(std::nullopt)), "rest");  // not a redirected connection
}

}  // namespace
}  // namespace remora::router
