// WorkerCluster's choice of endpoint: health-check verdicts and outlier ejection both take an
// endpoint out, and when every endpoint is out all are used; original_dst clusters keep one pool
// per destination.

#include "upstream/worker_cluster.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <set>
#include <string>

#include "event/dispatcher.h"
#include "stats/stats.h"

namespace remora::upstream {
namespace {

config::Cluster threeEndpoints() {
  config::Cluster c;
  c.name = "app";
  c.endpoints = {{"127.0.0.1", 1001}, {"127.0.0.1", 1002}, {"127.0.0.1", 1003}};
  return c;
}

// The endpoints `choose` returns over `n` fresh picks.
std::set<std::string> picked(WorkerCluster& cluster, int n) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) {
    uint64_t tried = 0;
    EndpointPool* p = cluster.choose(tried);
    if (p) out.insert(p->name());
  }
  return out;
}

TEST(WorkerClusterTest, UnhealthyAndEjectedEndpointsAreSkipped) {
  Dispatcher d;
  stats::Store store(1);
  WorkerCluster cluster(threeEndpoints(), d, store, 0);
  EXPECT_EQ(picked(cluster, 9).size(), 3u);

  cluster.setHealthy("127.0.0.1:1002", false);
  EXPECT_EQ(picked(cluster, 9), (std::set<std::string>{"127.0.0.1:1001", "127.0.0.1:1003"}));

  cluster.eject("127.0.0.1:1001", 60000);
  EXPECT_EQ(picked(cluster, 9), (std::set<std::string>{"127.0.0.1:1003"}));

  // Everything out: balancing over all beats refusing all traffic.
  cluster.setHealthy("127.0.0.1:1003", false);
  EXPECT_EQ(picked(cluster, 9).size(), 3u);

  cluster.setHealthy("127.0.0.1:1002", true);
  cluster.setHealthy("127.0.0.1:1003", true);
  EXPECT_EQ(picked(cluster, 9), (std::set<std::string>{"127.0.0.1:1002", "127.0.0.1:1003"}));
}

sockaddr_storage v4(const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  inet_pton(AF_INET, ip, &sa->sin_addr);
  return ss;
}

TEST(WorkerClusterTest, OriginalDstPoolPerDestination) {
  Dispatcher d;
  stats::Store store(1);
  config::Cluster c;
  c.name = "passthrough";
  c.type = config::ClusterType::kOriginalDst;
  WorkerCluster cluster(c, d, store, 0);
  ASSERT_TRUE(cluster.originalDst());

  uint64_t tried = 0;
  EndpointPool* a =
      cluster.chooseOriginalDst("10.0.0.1:80", v4("10.0.0.1", 80), sizeof(sockaddr_in), tried);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name(), "10.0.0.1:80");
  EXPECT_EQ(reinterpret_cast<const sockaddr_in&>(a->sockaddr()).sin_port, htons(80));
  // One destination per request: once tried there is nothing else.
  EXPECT_EQ(
      cluster.chooseOriginalDst("10.0.0.1:80", v4("10.0.0.1", 80), sizeof(sockaddr_in), tried),
      nullptr);

  tried = 0;
  EXPECT_EQ(
      cluster.chooseOriginalDst("10.0.0.1:80", v4("10.0.0.1", 80), sizeof(sockaddr_in), tried), a);
  tried = 0;
  EndpointPool* b =
      cluster.chooseOriginalDst("10.0.0.2:80", v4("10.0.0.2", 80), sizeof(sockaddr_in), tried);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(cluster.originalDstPoolCount(), 2u);
  // Every destination shares one bounded metric series.
  store.forEachCluster([](const std::string& name, size_t, const stats::ClusterStats& s) {
    if (name != "passthrough") return;
    ASSERT_EQ(s.endpoints.size(), 1u);
    EXPECT_EQ(s.endpoints.begin()->first, "original_dst");
  });
}

}  // namespace
}  // namespace remora::upstream
