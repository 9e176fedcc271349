#include "stats/grpc_stats.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "stats/collector.h"

namespace remora::stats {
namespace {

TEST(GrpcStats, GivesTheFirstPairsTheirOwnSlotThenOther) {
  GrpcStats g;
  EXPECT_EQ(g.slot("pkg.Svc", "A"), 0u);
  EXPECT_EQ(g.slot("pkg.Svc", "B"), 1u);
  EXPECT_EQ(g.slot("pkg.Svc", "A"), 0u);  // same pair, same slot
  for (size_t i = 2; i < GrpcStats::kMaxMethods; ++i)
    EXPECT_EQ(g.slot("s", "m" + std::to_string(i)), i);
  EXPECT_EQ(g.methodCount(), GrpcStats::kMaxMethods);
  EXPECT_EQ(g.slot("late", "Method"), GrpcStats::kOtherSlot);
  EXPECT_EQ(g.slot("pkg.Svc", "B"), 1u);  // known pairs keep their slot past the budget
  EXPECT_EQ(g.slot("", "Method"), GrpcStats::kOtherSlot);
  EXPECT_EQ(g.service(1), "pkg.Svc");
  EXPECT_EQ(g.method(1), "B");
}

TEST(GrpcStats, CollectorFoldsWorkersByNameAndBoundsLabels) {
  Store store(2);
  // Worker 0 sees A then B, worker 1 sees B then A: slots differ, series must not.
  GrpcStats& w0 = grpcStatsOf(store.listener(0, "in"));
  GrpcStats& w1 = grpcStatsOf(store.listener(1, "in"));
  w0.inc(w0.slot("pkg.Svc", "A"), 0);
  w0.inc(w0.slot("pkg.Svc", "B"), 14);
  w1.inc(w1.slot("pkg.Svc", "B"), 14);
  w1.inc(w1.slot("pkg.Svc", "A"), 17);  // unknown
  w1.inc(GrpcStats::kOtherSlot, 8);
  EXPECT_EQ(&grpcStatsOf(store.listener(0, "in")), &w0);  // made once
  auto registry = makeRegistry(store);
  std::string text = serialize(*registry);
  EXPECT_NE(text.find("remora_grpc_requests_total{listener=\"in\",service=\"pkg.Svc\",method=\"A\","
                      "grpc_status=\"0\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("remora_grpc_requests_total{listener=\"in\",service=\"pkg.Svc\",method=\"B\","
                      "grpc_status=\"14\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("remora_grpc_requests_total{listener=\"in\",service=\"pkg.Svc\",method=\"A\","
                      "grpc_status=\"unknown\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("remora_grpc_requests_total{listener=\"in\",service=\"other\",method=\"other\","
                "grpc_status=\"8\"} 1"),
      std::string::npos)
      << text;
  // Only series that counted something are exported.
  EXPECT_EQ(text.find("grpc_status=\"3\""), std::string::npos);
}

TEST(GrpcStats, ListenersWithoutGrpcTrafficExportTheFamilyOnly) {
  Store store(1);
  store.listener(0, "in").requests[1].inc();
  auto registry = makeRegistry(store);
  std::string text = serialize(*registry);
  EXPECT_NE(text.find("# TYPE remora_grpc_requests_total counter"), std::string::npos);
  EXPECT_EQ(text.find("remora_grpc_requests_total{"), std::string::npos);
}

}  // namespace
}  // namespace remora::stats
