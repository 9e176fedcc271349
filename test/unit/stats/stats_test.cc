#include "stats/stats.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

namespace remora::stats {
namespace {

TEST(HistogramTest, PutsEachSampleInTheFirstBucketAtOrAboveIt) {
  Histogram h;
  h.observe(0.0001);  // below the first bound
  h.observe(0.0005);  // exactly on a bound: "le" includes it
  h.observe(0.003);   // (0.0025, 0.005]
  h.observe(10);      // the last finite bound
  h.observe(11);      // +Inf
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(3), 1u);
  EXPECT_EQ(h.bucket(Histogram::kBounds.size() - 1), 1u);
  EXPECT_EQ(h.bucket(Histogram::kBounds.size()), 1u);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_NEAR(h.sum(), 0.0001 + 0.0005 + 0.003 + 10 + 11, 1e-9);
}

TEST(HistogramTest, NegativeOrNonFiniteSamplesCountAsZero) {
  Histogram h;
  h.observe(-1);
  h.observe(std::numeric_limits<double>::quiet_NaN());
  h.observe(std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.bucket(0), 3u);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.sum(), 0);
}

TEST(StoreTest, CreatesOnFirstUseAndReturnsTheSameBlockAfter) {
  Store store(2);
  ListenerStats& a = store.listener(0, "ingress");
  a.downstream_cx_total.inc();
  EXPECT_EQ(&store.listener(0, "ingress"), &a);
  EXPECT_NE(&store.listener(1, "ingress"), &a);
  EXPECT_EQ(store.listener(0, "ingress").downstream_cx_total.value(), 1u);

  ClusterStats& c = store.cluster(1, "backend");
  EndpointStats& e = store.endpoint(1, "backend", "127.0.0.1:8080");
  EXPECT_EQ(&store.cluster(1, "backend"), &c);
  EXPECT_EQ(&store.endpoint(1, "backend", "127.0.0.1:8080"), &e);
  EXPECT_EQ(c.endpoints.at("127.0.0.1:8080").get(), &e);
}

TEST(StoreTest, ReferencesStayValidAsMoreBlocksAreAdded) {
  Store store(1);
  ListenerStats& first = store.listener(0, "a");
  EndpointStats& ep = store.endpoint(0, "c", "127.0.0.1:1");
  for (int i = 0; i < 100; ++i) {
    store.listener(0, "l" + std::to_string(i));
    store.endpoint(0, "c", "127.0.0.1:" + std::to_string(i + 2));
  }
  first.bytes_sent.inc(7);
  ep.cx_idle.add(3);
  EXPECT_EQ(store.listener(0, "a").bytes_sent.value(), 7u);
  EXPECT_EQ(store.endpoint(0, "c", "127.0.0.1:1").cx_idle.value(), 3);
}

TEST(StoreTest, EndpointCreatesItsClusterBlock) {
  Store store(1);
  store.endpoint(0, "c", "127.0.0.1:1");
  int visits = 0;
  store.forEachCluster([&](const std::string& name, size_t worker, const ClusterStats& s) {
    ++visits;
    EXPECT_EQ(name, "c");
    EXPECT_EQ(worker, 0u);
    EXPECT_EQ(s.endpoints.size(), 1u);
  });
  EXPECT_EQ(visits, 1);
}

TEST(StoreTest, ForEachVisitsEveryWorkersBlock) {
  Store store(3);
  store.listener(0, "x");
  store.listener(2, "x");
  store.listener(2, "y");
  std::set<std::pair<std::string, size_t>> seen;
  store.forEachListener([&](const std::string& name, size_t worker, const ListenerStats&) {
    seen.insert({name, worker});
  });
  EXPECT_EQ(seen, (std::set<std::pair<std::string, size_t>>{{"x", 0}, {"x", 2}, {"y", 2}}));
  EXPECT_EQ(store.workerCount(), 3u);
}

TEST(CodeClassTest, MapsStatusToClassIndex) {
  EXPECT_EQ(codeClassIndex(101), 0u);
  EXPECT_EQ(codeClassIndex(200), 1u);
  EXPECT_EQ(codeClassIndex(399), 2u);
  EXPECT_EQ(codeClassIndex(404), 3u);
  EXPECT_EQ(codeClassIndex(503), 4u);
  EXPECT_EQ(codeClassIndex(0), 4u);  // no status: counted as a server error
  EXPECT_EQ(codeClassIndex(700), 4u);
}

}  // namespace
}  // namespace remora::stats
