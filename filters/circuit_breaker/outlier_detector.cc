#include "outlier_detector.h"

#include <algorithm>

namespace remora::circuit_breaker {

namespace {

constexpr uint32_t kPruneEvery = 1024;
constexpr uint64_t kForgetAfterMs = 3600 * 1000;  // endpoints unseen this long are dropped

}  // namespace

OutlierDetector::Endpoint& OutlierDetector::endpoint(std::string_view address, uint64_t now_ms) {
  auto it = endpoints_.find(address);
  if (it == endpoints_.end()) it = endpoints_.emplace(std::string(address), Endpoint{}).first;
  it->second.last_seen_ms = now_ms;
  return it->second;
}

const char* OutlierDetector::record(const OutlierSettings& settings, std::string_view address,
                                    Outcome outcome, uint64_t now_ms) {
  if (outcome == Outcome::kNone || address.empty()) return nullptr;
  if (++records_since_prune_ >= kPruneEvery) prune(now_ms);
  Endpoint& e = endpoint(address, now_ms);
  if (now_ms < e.ejected_until_ms) return nullptr;
  if (outcome == Outcome::kSuccess) {
    e.consecutive_5xx = 0;
    e.consecutive_connect_errors = 0;
    return nullptr;
  }
  // Every failure counts as a 5xx (a reset or a timeout is what a client would see as 502/504);
  // only a failed connect counts as a connect error, and anything else breaks that run.
  ++e.consecutive_5xx;
  if (outcome == Outcome::kConnectFailure) {
    ++e.consecutive_connect_errors;
  } else {
    e.consecutive_connect_errors = 0;
  }
  if (settings.consecutive_connect_errors > 0 &&
      e.consecutive_connect_errors >= settings.consecutive_connect_errors) {
    return "consecutive_connect_errors";
  }
  if (settings.consecutive_5xx > 0 && e.consecutive_5xx >= settings.consecutive_5xx) {
    return "consecutive_5xx";
  }
  return nullptr;
}

OutlierDetector::Ejection OutlierDetector::eject(const OutlierSettings& settings,
                                                 std::string_view address, uint64_t now_ms) {
  Endpoint& e = endpoint(address, now_ms);
  uint64_t base = std::max<uint64_t>(1, settings.base_ejection_ms);
  if (e.times_ejected > 0 && now_ms > e.ejected_until_ms) {
    uint64_t forgiven = (now_ms - e.ejected_until_ms) / base;
    e.times_ejected -= static_cast<uint32_t>(std::min<uint64_t>(e.times_ejected, forgiven));
  }
  ++e.times_ejected;
  uint64_t cap = std::max<uint64_t>(base, kMaxEjectionMs);
  uint64_t duration = std::min<uint64_t>(base * e.times_ejected, cap);
  e.ejected_until_ms = now_ms + duration;
  e.consecutive_5xx = 0;
  e.consecutive_connect_errors = 0;
  return Ejection{static_cast<uint32_t>(duration), e.times_ejected};
}

bool OutlierDetector::withinBudget(size_t endpoints, size_t ejected, uint32_t max_percent) {
  if (endpoints == 0) return false;
  return (ejected + 1) * 100 <= static_cast<size_t>(max_percent) * endpoints;
}

void OutlierDetector::prune(uint64_t now_ms) {
  records_since_prune_ = 0;
  std::erase_if(endpoints_, [now_ms](const auto& kv) {
    const Endpoint& e = kv.second;
    return now_ms >= e.ejected_until_ms && now_ms - e.last_seen_ms > kForgetAfterMs;
  });
}

nlohmann::json OutlierDetector::save() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [address, e] : endpoints_) {
    out[address] = {e.consecutive_5xx, e.consecutive_connect_errors, e.times_ejected,
                    e.ejected_until_ms, e.last_seen_ms};
  }
  return out;
}

void OutlierDetector::load(const nlohmann::json& endpoints) {
  for (const auto& [address, e] : endpoints.items()) {
    endpoints_[address] =
        Endpoint{e.at(0).get<uint32_t>(), e.at(1).get<uint32_t>(), e.at(2).get<uint32_t>(),
                 e.at(3).get<uint64_t>(), e.at(4).get<uint64_t>()};
  }
}

}  // namespace remora::circuit_breaker
