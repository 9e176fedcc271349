// FilterEntry::pickCanary's percentage: exact per 100 streams of a worker, spread out, and
// independent per worker.

#include <gtest/gtest.h>

#include "plugin/filter_chain.h"

namespace remora::plugin {
namespace {

FilterEntry entryWithCanary(uint32_t percent, size_t workers) {
  return FilterEntry(std::make_unique<FilterVariant>(nullptr, nullptr),
                     std::make_unique<FilterVariant>(nullptr, nullptr), CanaryRule{percent, "", ""},
                     config::OnError::kFailClosed, config::Quarantine{}, workers);
}

TEST(CanaryPickTest, ExactlyPercentOfEvery100Streams) {
  for (uint32_t percent : {0u, 1u, 3u, 30u, 50u, 97u, 100u}) {
    FilterEntry e = entryWithCanary(percent, 1);
    for (int round = 0; round < 3; ++round) {
      uint32_t canaries = 0;
      for (int i = 0; i < 100; ++i) canaries += e.pickCanary(0, nullptr, nullptr);
      EXPECT_EQ(canaries, percent) << "round " << round;
    }
  }
}

TEST(CanaryPickTest, SpreadOutNotBunchedAtTheStart) {
  FilterEntry e = entryWithCanary(50, 1);
  uint32_t first_half = 0;
  for (int i = 0; i < 50; ++i) first_half += e.pickCanary(0, nullptr, nullptr);
  EXPECT_GT(first_half, 15u);
  EXPECT_LT(first_half, 35u);
}

TEST(CanaryPickTest, WorkersCountOnTheirOwn) {
  FilterEntry e = entryWithCanary(10, 2);
  uint32_t w0 = 0, w1 = 0;
  for (int i = 0; i < 100; ++i) w0 += e.pickCanary(0, nullptr, nullptr);
  for (int i = 0; i < 100; ++i) w1 += e.pickCanary(1, nullptr, nullptr);
  EXPECT_EQ(w0, 10u);
  EXPECT_EQ(w1, 10u);
}

TEST(CanaryPickTest, NoCanaryNeverPicks) {
  FilterEntry e(std::make_unique<FilterVariant>(nullptr, nullptr), nullptr, CanaryRule{100, "", ""},
                config::OnError::kFailClosed, config::Quarantine{}, 1);
  EXPECT_FALSE(e.pickCanary(0, nullptr, nullptr));
}

}  // namespace
}  // namespace remora::plugin
