#include "breaker.h"

#include <atomic>

namespace remora::circuit_breaker {

const char* stateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

namespace {
// Each breaker numbers its state periods from its own base, so a ticket issued by a breaker that
// a reload replaced never matches the new one.
std::atomic<uint64_t> next_epoch_base{0};
}  // namespace

Breaker::Breaker(const BreakerSettings& settings)
    : settings_(settings),
      epoch_(next_epoch_base.fetch_add(uint64_t{1} << 32, std::memory_order_relaxed) + 1),
      window_(settings.window_ms) {}

Breaker::Ticket Breaker::admit(uint64_t now_ms, std::optional<Transition>* transition) {
  if (state_ == BreakerState::kOpen) {
    if (now_ms < opened_at_ms_ + settings_.cool_down_ms) return Ticket{false, false, epoch_};
    Transition t = moveTo(BreakerState::kHalfOpen, "cool_down_elapsed", now_ms);
    if (transition) *transition = t;
  }
  if (state_ == BreakerState::kHalfOpen) {
    if (probes_admitted_ >= settings_.half_open_probes) return Ticket{false, false, epoch_};
    ++probes_admitted_;
    return Ticket{true, true, epoch_};
  }
  return Ticket{true, false, epoch_};
}

std::optional<Transition> Breaker::record(const Ticket& ticket, bool failure, uint64_t now_ms) {
  if (!ticket.allowed || ticket.epoch != epoch_) return std::nullopt;
  switch (state_) {
    case BreakerState::kClosed:
      return recordClosed(failure, now_ms);
    case BreakerState::kHalfOpen:
      if (failure) return moveTo(BreakerState::kOpen, "probe_failed", now_ms);
      if (++probes_succeeded_ >= settings_.half_open_probes) {
        return moveTo(BreakerState::kClosed, "probes_succeeded", now_ms);
      }
      return std::nullopt;
    case BreakerState::kOpen:
      return std::nullopt;  // unreachable: nothing is admitted in an open epoch
  }
  return std::nullopt;
}

std::optional<Transition> Breaker::recordClosed(bool failure, uint64_t now_ms) {
  window_.add(now_ms, failure);
  if (!failure) {
    consecutive_failures_ = 0;
    return std::nullopt;
  }
  ++consecutive_failures_;
  if (settings_.consecutive_failures > 0 &&
      consecutive_failures_ >= settings_.consecutive_failures) {
    return moveTo(BreakerState::kOpen, "consecutive_failures", now_ms);
  }
  if (settings_.failure_ratio > 0) {
    SlidingWindow::Totals t = window_.totals(now_ms);
    if (t.requests >= settings_.min_requests &&
        static_cast<double>(t.failures) >=
            settings_.failure_ratio * static_cast<double>(t.requests)) {
      return moveTo(BreakerState::kOpen, "failure_ratio", now_ms);
    }
  }
  return std::nullopt;
}

void Breaker::abandon(const Ticket& ticket) {
  if (ticket.probe && ticket.epoch == epoch_ && probes_admitted_ > 0) --probes_admitted_;
}

void Breaker::reconfigure(const BreakerSettings& settings) {
  if (settings.window_ms != settings_.window_ms) window_ = SlidingWindow(settings.window_ms);
  settings_ = settings;
}

nlohmann::json Breaker::save() const {
  return {{"state", static_cast<int>(state_)},
          {"opened_at_ms", opened_at_ms_},
          {"consecutive_failures", consecutive_failures_},
          {"probes_succeeded", probes_succeeded_},
          {"window_ms", window_.windowMs()},
          {"window", window_.save()}};
}

void Breaker::load(const nlohmann::json& s) {
  int state = s.at("state").get<int>();
  if (state < 0 || state > 2) return;
  state_ = static_cast<BreakerState>(state);
  ++epoch_;
  opened_at_ms_ = s.at("opened_at_ms").get<uint64_t>();
  consecutive_failures_ = s.at("consecutive_failures").get<uint32_t>();
  probes_admitted_ = 0;
  probes_succeeded_ = s.at("probes_succeeded").get<uint32_t>();
  if (s.at("window_ms").get<uint32_t>() == window_.windowMs()) window_.load(s.at("window"));
}

Transition Breaker::moveTo(BreakerState to, const char* reason, uint64_t now_ms) {
  Transition t{state_, to, reason};
  state_ = to;
  ++epoch_;
  consecutive_failures_ = 0;
  probes_admitted_ = 0;
  probes_succeeded_ = 0;
  if (to == BreakerState::kOpen) opened_at_ms_ = now_ms;
  // A fresh start in every state: the failures that opened the breaker must not reopen it the
  // moment it closes again.
  window_.reset();
  return t;
}

}  // namespace remora::circuit_breaker
