#pragma once
// OutlierDetector: per-endpoint consecutive-error counting for one cluster on one worker, and the
// ejection length (base × times ejected). The caller checks the cluster-wide ejection budget and
// asks the host to eject; this class only keeps the counts, so it is tested with a fake clock.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "breaker_config.h"
#include "outcome.h"

namespace remora::circuit_breaker {

class OutlierDetector {
 public:
  // The longest ejection, unless base_ejection alone is longer (Envoy's default cap too).
  static constexpr uint32_t kMaxEjectionMs = 300000;

  // Counts one finished request to `address`. Returns the threshold just reached
  // ("consecutive_5xx" or "consecutive_connect_errors"), or nullptr. Outcomes for an endpoint
  // this worker has ejected are ignored until the ejection ends: they are requests that were
  // already in flight.
  const char* record(const OutlierSettings& settings, std::string_view address, Outcome outcome,
                     uint64_t now_ms);

  struct Ejection {
    uint32_t duration_ms = 0;
    uint32_t times = 0;  // how many times it has been ejected, after decay
  };
  // Marks `address` ejected from `now_ms`. Each quiet base_ejection period since its last
  // ejection ended forgives one earlier ejection, so an endpoint that recovered is not punished
  // for its past forever.
  Ejection eject(const OutlierSettings& settings, std::string_view address, uint64_t now_ms);

  // True if ejecting one more of `endpoints`, `ejected` of them out already, keeps the cluster
  // at or under `max_percent` ejected.
  static bool withinBudget(size_t endpoints, size_t ejected, uint32_t max_percent);

  size_t tracked() const { return endpoints_.size(); }

  // State hand-off to another build: every tracked endpoint's counts and ejection.
  nlohmann::json save() const;
  void load(const nlohmann::json& endpoints);

 private:
  struct Endpoint {
    uint32_t consecutive_5xx = 0;
    uint32_t consecutive_connect_errors = 0;
    uint32_t times_ejected = 0;
    uint64_t ejected_until_ms = 0;
    uint64_t last_seen_ms = 0;
  };
  Endpoint& endpoint(std::string_view address, uint64_t now_ms);
  void prune(uint64_t now_ms);

  std::unordered_map<std::string, Endpoint, StringHash, std::equal_to<>> endpoints_;
  uint32_t records_since_prune_ = 0;
};

}  // namespace remora::circuit_breaker
