#pragma once
// Load balancers over one worker's endpoint pools. Per worker, so no locks and no atomics.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "config/config.h"

namespace remora::upstream {

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Returns an endpoint index not set in `tried` (bit i = endpoint i, for i < 64), or -1.
  virtual int pick(uint64_t tried) = 0;
};

// `active(i)` reports endpoint i's requests in flight (for least-request).
std::unique_ptr<LoadBalancer> makeLoadBalancer(config::LbPolicy policy, size_t endpoints,
                                               std::function<uint32_t(size_t)> active,
                                               std::function<uint64_t()> random);

}  // namespace remora::upstream
