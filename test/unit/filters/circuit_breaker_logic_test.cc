// The circuit breaker's parts on a fake clock: sliding window, breaker state machine, outcome
// classification, outlier detection and the per-worker table.

#include <gtest/gtest.h>

#include "circuit_breaker/breaker.h"
#include "circuit_breaker/breaker_config.h"
#include "circuit_breaker/breaker_events.h"
#include "circuit_breaker/cluster_state.h"
#include "circuit_breaker/outcome.h"
#include "circuit_breaker/outlier_detector.h"
#include "circuit_breaker/sliding_window.h"

namespace remora::circuit_breaker {
namespace {

TEST(SlidingWindowTest, ForgetsBucketsOlderThanTheWindow) {
  SlidingWindow w(1000);  // ten buckets of 100ms
  w.add(0, true);
  w.add(50, false);
  w.add(950, true);
  EXPECT_EQ(w.totals(999).requests, 3u);
  EXPECT_EQ(w.totals(999).failures, 2u);
  EXPECT_EQ(w.totals(1000).requests, 1u);  // bucket [0, 100) slid out
  EXPECT_EQ(w.totals(1899).requests, 1u);  // bucket [900, 1000) lasts until 1900
  EXPECT_EQ(w.totals(1900).requests, 0u);
  w.add(2000, false);  // reuses the slot of bucket 0 for bucket 20
  EXPECT_EQ(w.totals(2000).requests, 1u);
  EXPECT_EQ(w.totals(2000).failures, 0u);
  w.reset();
  EXPECT_EQ(w.totals(2000).requests, 0u);
}

class BreakerTest : public testing::Test {
 protected:
  BreakerSettings settings_;
  uint64_t now_ = 1000000;

  // Admits and records one request; returns whether it was admitted.
  bool call(Breaker& b, bool failure, std::optional<Transition>* t = nullptr) {
    std::optional<Transition> admit_t;
    Breaker::Ticket ticket = b.admit(now_, &admit_t);
    if (t) *t = admit_t;
    if (!ticket.allowed) return false;
    std::optional<Transition> rt = b.record(ticket, failure, now_);
    if (t && rt) *t = rt;
    return true;
  }
};

TEST_F(BreakerTest, OpensOnConsecutiveFailuresAndSuccessResetsTheRun) {
  settings_.consecutive_failures = 3;
  settings_.failure_ratio = 0;
  Breaker b(settings_);
  EXPECT_TRUE(call(b, true));
  EXPECT_TRUE(call(b, true));
  EXPECT_TRUE(call(b, false));  // breaks the run
  EXPECT_TRUE(call(b, true));
  EXPECT_TRUE(call(b, true));
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  std::optional<Transition> t;
  EXPECT_TRUE(call(b, true, &t));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, BreakerState::kClosed);
  EXPECT_EQ(t->to, BreakerState::kOpen);
  EXPECT_STREQ(t->reason, "consecutive_failures");
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_FALSE(call(b, false));
}

TEST_F(BreakerTest, OpensOnFailureRatioOnlyPastMinRequests) {
  settings_.consecutive_failures = 0;
  settings_.failure_ratio = 0.5;
  settings_.min_requests = 10;
  settings_.window_ms = 10000;
  Breaker b(settings_);
  // Alternating: 50% failures, but the ratio is not judged before 10 requests.
  std::optional<Transition> t;
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(call(b, i % 2 == 1, &t));
    EXPECT_FALSE(t.has_value()) << i;
  }
  EXPECT_TRUE(call(b, true, &t));  // 10th request: 5 of 10 failed
  ASSERT_TRUE(t.has_value());
  EXPECT_STREQ(t->reason, "failure_ratio");
}

TEST_F(BreakerTest, FailuresOutsideTheWindowDoNotCount) {
  settings_.consecutive_failures = 0;
  settings_.failure_ratio = 0.5;
  settings_.min_requests = 4;
  settings_.window_ms = 1000;
  Breaker b(settings_);
  call(b, true);
  call(b, true);
  call(b, true);
  now_ += 2000;  // those three slid out of the window
  call(b, false);
  call(b, false);
  call(b, false);
  std::optional<Transition> t;
  call(b, true, &t);  // 1 of 4 in the window
  EXPECT_FALSE(t.has_value());
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST_F(BreakerTest, CoolDownThenProbesClose) {
  settings_.consecutive_failures = 1;
  settings_.cool_down_ms = 5000;
  settings_.half_open_probes = 2;
  Breaker b(settings_);
  call(b, true);
  ASSERT_EQ(b.state(), BreakerState::kOpen);
  now_ += 4999;
  EXPECT_FALSE(b.admit(now_, nullptr).allowed);
  now_ += 1;
  std::optional<Transition> t;
  Breaker::Ticket p1 = b.admit(now_, &t);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, BreakerState::kHalfOpen);
  EXPECT_STREQ(t->reason, "cool_down_elapsed");
  EXPECT_TRUE(p1.allowed);
  EXPECT_TRUE(p1.probe);
  Breaker::Ticket p2 = b.admit(now_, nullptr);
  EXPECT_TRUE(p2.allowed);
  EXPECT_FALSE(b.admit(now_, nullptr).allowed);  // only two probes
  EXPECT_FALSE(b.record(p1, false, now_).has_value());
  std::optional<Transition> closed = b.record(p2, false, now_);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->from, BreakerState::kHalfOpen);
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_STREQ(closed->reason, "probes_succeeded");
  EXPECT_TRUE(b.admit(now_, nullptr).allowed);
}

TEST_F(BreakerTest, AFailedProbeReopensForAnotherCoolDown) {
  settings_.consecutive_failures = 1;
  settings_.cool_down_ms = 1000;
  settings_.half_open_probes = 3;
  Breaker b(settings_);
  call(b, true);
  now_ += 1000;
  Breaker::Ticket probe = b.admit(now_, nullptr);
  ASSERT_TRUE(probe.probe);
  std::optional<Transition> t = b.record(probe, true, now_ + 10);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, BreakerState::kOpen);
  EXPECT_STREQ(t->reason, "probe_failed");
  now_ += 1009;
  EXPECT_FALSE(b.admit(now_, nullptr).allowed);  // the cool-down restarted at the failure
  now_ += 1;
  EXPECT_TRUE(b.admit(now_, nullptr).allowed);
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, AbandonedProbeFreesItsSlotAndStaleOutcomesAreIgnored) {
  settings_.consecutive_failures = 2;
  settings_.cool_down_ms = 100;
  settings_.half_open_probes = 1;
  Breaker b(settings_);
  Breaker::Ticket old_ticket = b.admit(now_, nullptr);  // admitted while closed, still in flight
  call(b, true);
  call(b, true);
  ASSERT_EQ(b.state(), BreakerState::kOpen);
  now_ += 100;
  Breaker::Ticket probe = b.admit(now_, nullptr);
  ASSERT_TRUE(probe.probe);
  EXPECT_FALSE(b.admit(now_, nullptr).allowed);
  b.abandon(probe);  // e.g. the client went away: no verdict on the upstream
  Breaker::Ticket probe2 = b.admit(now_, nullptr);
  EXPECT_TRUE(probe2.allowed);
  EXPECT_FALSE(b.record(old_ticket, true, now_).has_value());  // stale: ignored
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(b.record(probe2, false, now_).has_value());
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST_F(BreakerTest, ReconfigureKeepsTheState) {
  settings_.consecutive_failures = 1;
  Breaker b(settings_);
  call(b, true);
  BreakerSettings next = settings_;
  next.window_ms = 20000;
  next.cool_down_ms = 1;
  b.reconfigure(next);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  now_ += 1;
  EXPECT_TRUE(b.admit(now_, nullptr).allowed);  // the new cool-down applies
}

TEST(OutcomeTest, ClassifiesStatusAndFlags) {
  EXPECT_EQ(classifyOutcome(200, "-", true), Outcome::kSuccess);
  EXPECT_EQ(classifyOutcome(404, "-", true), Outcome::kSuccess);
  EXPECT_EQ(classifyOutcome(500, "-", true), Outcome::kError5xx);
  EXPECT_EQ(classifyOutcome(503, "UF", true), Outcome::kConnectFailure);
  EXPECT_EQ(classifyOutcome(503, "UH", false), Outcome::kNone);  // no endpoint at all
  EXPECT_EQ(classifyOutcome(504, "UT,URX", true), Outcome::kTimeout);
  EXPECT_EQ(classifyOutcome(0, "UR", true), Outcome::kReset);
  EXPECT_EQ(classifyOutcome(502, "URX,UC", true), Outcome::kReset);
  EXPECT_EQ(classifyOutcome(0, "DC", true), Outcome::kNone);  // the client went away
  EXPECT_EQ(classifyOutcome(404, "NR", false), Outcome::kNone);
  EXPECT_EQ(classifyOutcome(200, "UFX", true), Outcome::kSuccess);  // whole tokens only
  EXPECT_FALSE(isFailure(Outcome::kSuccess));
  EXPECT_FALSE(isFailure(Outcome::kNone));
  EXPECT_TRUE(isFailure(Outcome::kReset));
}

TEST(OutlierDetectorTest, ConsecutiveErrorsPerEndpoint) {
  OutlierSettings s;
  s.consecutive_5xx = 3;
  s.consecutive_connect_errors = 2;
  OutlierDetector d;
  EXPECT_EQ(d.record(s, "a:1", Outcome::kError5xx, 0), nullptr);
  EXPECT_EQ(d.record(s, "b:1", Outcome::kError5xx, 0), nullptr);  // another endpoint
  EXPECT_EQ(d.record(s, "a:1", Outcome::kReset, 0), nullptr);
  EXPECT_STREQ(d.record(s, "a:1", Outcome::kTimeout, 0), "consecutive_5xx");
  EXPECT_EQ(d.record(s, "b:1", Outcome::kSuccess, 0), nullptr);
  EXPECT_EQ(d.record(s, "b:1", Outcome::kConnectFailure, 0), nullptr);
  EXPECT_STREQ(d.record(s, "b:1", Outcome::kConnectFailure, 0), "consecutive_connect_errors");
  EXPECT_EQ(d.record(s, "c:1", Outcome::kNone, 0), nullptr);
  EXPECT_EQ(d.tracked(), 2u);
}

TEST(OutlierDetectorTest, EjectionGrowsWithTimesEjectedAndDecays) {
  OutlierSettings s;
  s.consecutive_5xx = 1;
  s.base_ejection_ms = 30000;
  OutlierDetector d;
  uint64_t now = 0;
  ASSERT_NE(d.record(s, "a:1", Outcome::kError5xx, now), nullptr);
  OutlierDetector::Ejection e1 = d.eject(s, "a:1", now);
  EXPECT_EQ(e1.duration_ms, 30000u);
  EXPECT_EQ(e1.times, 1u);
  // Outcomes of requests still in flight while ejected are ignored.
  EXPECT_EQ(d.record(s, "a:1", Outcome::kError5xx, now + 100), nullptr);
  now += 30000;  // back in, and failing at once
  ASSERT_NE(d.record(s, "a:1", Outcome::kError5xx, now), nullptr);
  OutlierDetector::Ejection e2 = d.eject(s, "a:1", now);
  EXPECT_EQ(e2.times, 2u);
  EXPECT_EQ(e2.duration_ms, 60000u);
  now += 60000 + 30000;  // one quiet base period forgives one ejection
  ASSERT_NE(d.record(s, "a:1", Outcome::kError5xx, now), nullptr);
  OutlierDetector::Ejection e3 = d.eject(s, "a:1", now);
  EXPECT_EQ(e3.times, 2u);
  EXPECT_EQ(e3.duration_ms, 60000u);
  for (int i = 0; i < 20; ++i) d.eject(s, "a:1", now + 1);  // capped at 300s
  EXPECT_EQ(d.eject(s, "a:1", now + 1).duration_ms, OutlierDetector::kMaxEjectionMs);
}

TEST(OutlierDetectorTest, EjectionBudget) {
  EXPECT_TRUE(OutlierDetector::withinBudget(2, 0, 50));
  EXPECT_FALSE(OutlierDetector::withinBudget(2, 1, 50));
  EXPECT_FALSE(OutlierDetector::withinBudget(1, 0, 50));  // never the only endpoint at 50%
  EXPECT_TRUE(OutlierDetector::withinBudget(1, 0, 100));
  EXPECT_TRUE(OutlierDetector::withinBudget(10, 2, 30));
  EXPECT_FALSE(OutlierDetector::withinBudget(10, 3, 30));
  EXPECT_FALSE(OutlierDetector::withinBudget(0, 0, 100));
  EXPECT_FALSE(OutlierDetector::withinBudget(5, 0, 0));
}

TEST(WorkerStateTest, KeepsStateAcrossReloadsAndAppliesNewSettings) {
  WorkerState state;
  ClusterLimits limits;
  limits.name = "users";
  limits.breaker = BreakerSettings{};
  limits.breaker->consecutive_failures = 1;
  ClusterState& s1 = state.cluster(limits, 1, nullptr);
  s1.active = 4;
  Breaker::Ticket t = s1.breaker->admit(0, nullptr);
  s1.breaker->record(t, true, 0);
  ASSERT_EQ(s1.breaker->state(), BreakerState::kOpen);

  limits.breaker->cool_down_ms = 7;
  ClusterState& s2 = state.cluster(limits, 2, nullptr);
  EXPECT_EQ(&s1, &s2);
  EXPECT_EQ(s2.active, 4u);
  EXPECT_EQ(s2.breaker->state(), BreakerState::kOpen);
  EXPECT_EQ(s2.breaker->settings().cool_down_ms, 7u);

  limits.breaker.reset();
  std::optional<BreakerState> dropped;
  ClusterState& s3 = state.cluster(limits, 3, &dropped);
  EXPECT_FALSE(s3.breaker.has_value());
  EXPECT_EQ(dropped, BreakerState::kOpen);
}

TEST(BreakerEventsTest, PayloadsAreSmallJsonObjects) {
  Transition t{BreakerState::kClosed, BreakerState::kOpen, "failure_ratio"};
  EXPECT_EQ(stateEventJson("users", t),
            R"({"event":"state","cluster":"users","from":"closed","to":"open",)"
            R"("reason":"failure_ratio"})");
  EXPECT_EQ(ejectionEventJson("users", "10.0.0.7:8080", 30000, 2, "consecutive_5xx"),
            R"({"event":"ejection","cluster":"users","endpoint":"10.0.0.7:8080",)"
            R"("duration_ms":30000,"times":2,"reason":"consecutive_5xx"})");
  EXPECT_NE(stateEventJson("a\"b", t).find(R"("cluster":"a\"b")"), std::string::npos);
  EXPECT_EQ(stateLogLine("users", t), "cluster users: breaker closed -> open (failure_ratio)");
  EXPECT_EQ(ejectionLogLine("users", "10.0.0.7:8080", 30000, 2, "consecutive_5xx"),
            "cluster users: ejected 10.0.0.7:8080 for 30000ms (consecutive_5xx, ejection #2)");
}

}  // namespace
}  // namespace remora::circuit_breaker

namespace remora::circuit_breaker {
namespace {

TEST(OutcomeTest, ClassifiesGrpcStatuses) {
  EXPECT_EQ(classifyGrpcStatus("14", kDefaultGrpcFailures), Outcome::kGrpcFailure);
  EXPECT_EQ(classifyGrpcStatus("13", kDefaultGrpcFailures), Outcome::kGrpcFailure);
  EXPECT_EQ(classifyGrpcStatus("4", kDefaultGrpcFailures), Outcome::kGrpcFailure);
  EXPECT_EQ(classifyGrpcStatus("0", kDefaultGrpcFailures), Outcome::kSuccess);
  EXPECT_EQ(classifyGrpcStatus("5", kDefaultGrpcFailures), Outcome::kSuccess);  // NOT_FOUND
  EXPECT_EQ(classifyGrpcStatus("8", 1u << 8), Outcome::kGrpcFailure);
  EXPECT_EQ(classifyGrpcStatus("99", ~0u), Outcome::kSuccess);
  EXPECT_EQ(classifyGrpcStatus("x", ~0u), Outcome::kSuccess);
  EXPECT_EQ(classifyGrpcStatus("", ~0u), Outcome::kSuccess);
  EXPECT_TRUE(isFailure(Outcome::kGrpcFailure));
  EXPECT_STREQ(outcomeName(Outcome::kGrpcFailure), "grpc_failure");
}

TEST(OutlierDetectorTest, CountsGrpcFailuresAsFiveHundreds) {
  OutlierDetector d;
  OutlierSettings s;
  s.consecutive_5xx = 2;
  EXPECT_EQ(d.record(s, "a:1", Outcome::kGrpcFailure, 1), nullptr);
  EXPECT_STREQ(d.record(s, "a:1", Outcome::kGrpcFailure, 2), "consecutive_5xx");
}

}  // namespace
}  // namespace remora::circuit_breaker
