#include "upstream/load_balancer.h"

namespace remora::upstream {
namespace {

inline bool isTried(uint64_t tried, size_t i) {
  return i < 64 && (tried >> i) & 1;
}

class RoundRobin : public LoadBalancer {
 public:
  explicit RoundRobin(size_t n, uint64_t start) : n_(n), next_(n ? start % n : 0) {}
  int pick(uint64_t tried) override {
    for (size_t k = 0; k < n_; ++k) {
      size_t i = next_;
      next_ = (next_ + 1) % n_;
      if (!isTried(tried, i)) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  size_t n_;
  size_t next_;
};

// Least request: the power of two random choices among untried endpoints (Envoy's default),
// which avoids herding onto one endpoint; full scan when there are only a few.
class LeastRequest : public LoadBalancer {
 public:
  LeastRequest(size_t n, std::function<uint32_t(size_t)> active, std::function<uint64_t()> random)
      : n_(n), active_(std::move(active)), random_(std::move(random)) {}

  int pick(uint64_t tried) override {
    if (n_ == 0) return -1;  // a discovered cluster may have no endpoint yet
    if (n_ <= 4) return scan(tried);
    int a = randomUntried(tried);
    int b = randomUntried(tried);
    if (a < 0 || b < 0) return scan(tried);
    return active_(size_t(a)) <= active_(size_t(b)) ? a : b;
  }

 private:
  int scan(uint64_t tried) {
    int best = -1;
    uint32_t best_active = UINT32_MAX;
    size_t start = random_() % n_;  // break ties fairly
    for (size_t k = 0; k < n_; ++k) {
      size_t i = (start + k) % n_;
      if (isTried(tried, i)) continue;
      uint32_t a = active_(i);
      if (a < best_active) {
        best = static_cast<int>(i);
        best_active = a;
      }
    }
    return best;
  }
  int randomUntried(uint64_t tried) {
    for (int k = 0; k < 4; ++k) {
      size_t i = random_() % n_;
      if (!isTried(tried, i)) return static_cast<int>(i);
    }
    return -1;
  }

  size_t n_;
  std::function<uint32_t(size_t)> active_;
  std::function<uint64_t()> random_;
};

}  // namespace

std::unique_ptr<LoadBalancer> makeLoadBalancer(config::LbPolicy policy, size_t endpoints,
                                               std::function<uint32_t(size_t)> active,
                                               std::function<uint64_t()> random) {
  if (policy == config::LbPolicy::kLeastRequest)
    return std::make_unique<LeastRequest>(endpoints, std::move(active), std::move(random));
  return std::make_unique<RoundRobin>(endpoints, random());
}

}  // namespace remora::upstream
