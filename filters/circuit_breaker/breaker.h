#pragma once
// Breaker: one cluster's circuit breaker on one worker.
//
//   closed ──(N consecutive failures, or failure ratio over the window)──▶ open
//   open ──(cool_down elapsed, noticed at the next request)──▶ half-open
//   half-open ──(half_open_probes successes)──▶ closed
//   half-open ──(any probe fails)──▶ open
//
// Time is passed in (monotonic milliseconds), so the state machine needs no timers and tests
// drive it with a fake clock. Not thread-safe: each worker has its own, so no locks.

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "breaker_config.h"
#include "sliding_window.h"

namespace remora::circuit_breaker {

enum class BreakerState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

const char* stateName(BreakerState s);

struct Transition {
  BreakerState from;
  BreakerState to;
  const char* reason;  // "consecutive_failures", "failure_ratio", "cool_down_elapsed",
                       // "probe_failed", "probes_succeeded"
};

class Breaker {
 public:
  explicit Breaker(const BreakerSettings& settings);

  // What admit() decided for one request; handed back to record() or abandon().
  struct Ticket {
    bool allowed = false;
    bool probe = false;  // admitted as a half-open probe
    uint64_t epoch = 0;  // the state period it was admitted in
  };

  // Decides whether a request may go upstream now. May move open → half-open, reported in
  // `transition`.
  Ticket admit(uint64_t now_ms, std::optional<Transition>* transition);

  // The outcome of an admitted request. Outcomes from an earlier state period (admitted before
  // the last transition) are ignored: they describe the cluster as it was then.
  std::optional<Transition> record(const Ticket& ticket, bool failure, uint64_t now_ms);

  // An admitted request that ended with no outcome to judge: frees its probe slot, if any.
  void abandon(const Ticket& ticket);

  // New settings after a reload; the state is kept (an open breaker stays open), the window is
  // restarted only if its length changed.
  void reconfigure(const BreakerSettings& settings);

  BreakerState state() const { return state_; }
  const BreakerSettings& settings() const { return settings_; }

  // State hand-off to a breaker of another build: state, open time, failure counts and window.
  // Requests admitted by the old breaker report to it, not here, so probe slots start free.
  nlohmann::json save() const;
  void load(const nlohmann::json& state);

 private:
  Transition moveTo(BreakerState to, const char* reason, uint64_t now_ms);
  std::optional<Transition> recordClosed(bool failure, uint64_t now_ms);

  BreakerSettings settings_;
  BreakerState state_ = BreakerState::kClosed;
  uint64_t epoch_;
  uint64_t opened_at_ms_ = 0;
  uint32_t consecutive_failures_ = 0;
  uint32_t probes_admitted_ = 0;
  uint32_t probes_succeeded_ = 0;
  SlidingWindow window_;
};

}  // namespace remora::circuit_breaker
