// Load balancing over real upstreams, told apart by the x-upstream header each one sets.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include "common/harness.h"

namespace remora::test {
namespace {

using std::chrono::seconds;

TEST(LoadBalancing, RoundRobinAlternates) {
  ProxySpec spec;
  spec.upstreams = 2;
  spec.cluster_yaml = "lb_policy: round_robin";
  ProxyUnderTest proxy(spec);
  HttpClient client(proxy.port());
  std::map<std::string, int> seen;
  std::string previous;
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = client.request("GET", "/");
    ASSERT_EQ(r.status, 200) << r.error;
    std::string up = r.header("x-upstream");
    EXPECT_NE(up, previous) << "request " << i << " went to " << up << " again";
    previous = up;
    ++seen[up];
  }
  EXPECT_EQ(seen["up0"], 5);
  EXPECT_EQ(seen["up1"], 5);
  // Each endpoint keeps its own pooled connection: two upstream connections in all.
  EXPECT_EQ(UpstreamStats(proxy.upstream(0).port()).read().connections, 1u);
  EXPECT_EQ(UpstreamStats(proxy.upstream(1).port()).read().connections, 1u);
}

TEST(LoadBalancing, LeastRequestAvoidsTheBusyEndpoint) {
  ProxySpec spec;
  spec.upstreams = 2;
  spec.cluster_yaml = "lb_policy: least_request";
  ProxyUnderTest proxy(spec);
  UpstreamStats stats0(proxy.upstream(0).port());
  UpstreamStats stats1(proxy.upstream(1).port());
  HttpClient slow(proxy.port());
  ASSERT_TRUE(slow.send(requestText("GET", "/slow/1500")));
  ASSERT_TRUE(
      waitUntil([&] { return stats0.read().requests + stats1.read().requests == 1; }, seconds(5)));
  const std::string busy = stats0.read().requests == 1 ? "up0" : "up1";
  const std::string idle = busy == "up0" ? "up1" : "up0";
  // While one request is in flight there, every new one goes to the other endpoint.
  HttpClient quick(proxy.port());
  for (int i = 0; i < 8; ++i) {
    HttpResponse r = quick.request("GET", "/");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("x-upstream"), idle) << "request " << i;
  }
  HttpResponse r = slow.readResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-upstream"), busy);
}

}  // namespace
}  // namespace remora::test
