#pragma once
// SlidingWindow: requests and failures over the last `window` of time, kept in a ring of
// buckets so recording and summing cost a fixed, small amount whatever the traffic. One per
// cluster per worker; not thread-safe, by design.

#include <array>
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace remora::circuit_breaker {

class SlidingWindow {
 public:
  static constexpr size_t kBuckets = 10;

  explicit SlidingWindow(uint32_t window_ms);

  void add(uint64_t now_ms, bool failure);

  struct Totals {
    uint64_t requests = 0;
    uint64_t failures = 0;
  };
  // Over the buckets that still overlap the window ending at `now_ms`: the span covered is
  // between window - window/kBuckets and window.
  Totals totals(uint64_t now_ms) const;

  void reset();
  uint32_t windowMs() const { return window_ms_; }

  // State hand-off between builds: [[index, requests, failures], ...] of the used buckets.
  nlohmann::json save() const;
  void load(const nlohmann::json& buckets);

 private:
  struct Bucket {
    uint64_t index = UINT64_MAX;  // which slice of time (now / width) it holds; MAX = never used
    uint32_t requests = 0;
    uint32_t failures = 0;
  };

  uint32_t window_ms_;
  uint64_t width_ms_;
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace remora::circuit_breaker
