#include "sliding_window.h"

#include <algorithm>

namespace remora::circuit_breaker {

SlidingWindow::SlidingWindow(uint32_t window_ms)
    : window_ms_(window_ms), width_ms_(std::max<uint64_t>(1, window_ms / kBuckets)) {}

void SlidingWindow::add(uint64_t now_ms, bool failure) {
  uint64_t index = now_ms / width_ms_;
  Bucket& b = buckets_[index % kBuckets];
  if (b.index != index) b = Bucket{index, 0, 0};  // a slice older than the window: reuse it
  ++b.requests;
  if (failure) ++b.failures;
}

SlidingWindow::Totals SlidingWindow::totals(uint64_t now_ms) const {
  uint64_t current = now_ms / width_ms_;
  Totals t;
  for (const Bucket& b : buckets_) {
    if (b.index == UINT64_MAX || b.index > current || b.index + kBuckets <= current) continue;
    t.requests += b.requests;
    t.failures += b.failures;
  }
  return t;
}

void SlidingWindow::reset() {
  buckets_.fill(Bucket{});
}

nlohmann::json SlidingWindow::save() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Bucket& b : buckets_)
    if (b.index != UINT64_MAX) out.push_back({b.index, b.requests, b.failures});
  return out;
}

void SlidingWindow::load(const nlohmann::json& buckets) {
  reset();
  for (const nlohmann::json& b : buckets) {
    uint64_t index = b.at(0).get<uint64_t>();
    buckets_[index % kBuckets] = Bucket{index, b.at(1).get<uint32_t>(), b.at(2).get<uint32_t>()};
  }
}

}  // namespace remora::circuit_breaker
