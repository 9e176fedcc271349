#pragma once
// The circuit_breaker filter's config: per-cluster limits, breaker and outlier settings, parsed
// once at config time into immutable structs shared read-only by every worker.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace remora::circuit_breaker {

// When to stop calling a cluster, and how to test it again. A trigger set to 0 is off.
struct BreakerSettings {
  uint32_t consecutive_failures = 5;
  double failure_ratio = 0.5;  // failures / requests over the window
  uint32_t window_ms = 10000;
  uint32_t min_requests = 20;  // the ratio is only judged over at least this many requests
  uint32_t cool_down_ms = 5000;
  uint32_t half_open_probes = 3;

  bool operator==(const BreakerSettings&) const = default;
};

// When to take one endpoint out of load balancing. A trigger set to 0 is off.
struct OutlierSettings {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_connect_errors = 0;
  uint32_t base_ejection_ms = 30000;
  uint32_t max_ejection_percent = 50;

  bool operator==(const OutlierSettings&) const = default;
};

// Bits for grpc-status 4 (deadline_exceeded), 13 (internal) and 14 (unavailable).
inline constexpr uint32_t kDefaultGrpcFailures = (1u << 4) | (1u << 13) | (1u << 14);

// The grpc-status named `name` ("unavailable", "deadline_exceeded" or "deadline-exceeded"), or
// -1.
int grpcStatusFromName(std::string_view name);

struct ClusterLimits {
  std::string name;
  size_t index = 0;  // position among the config's clusters, e.g. for per-cluster metric handles
  uint32_t max_active_requests = 0;
  // Envoy's pending and retry thresholds, per worker. The kernel enforces them for the filter
  // (set_upstream_limits): it refuses a stream that would wait behind max_pending others for a
  // connection, and skips a retry while max_retries streams are retrying. Unset: no bound.
  std::optional<uint32_t> max_pending;  // config key max_pending_requests (or max_pending)
  std::optional<uint32_t> max_retries;
  std::optional<BreakerSettings> breaker;
  std::optional<OutlierSettings> outlier;
  // gRPC statuses counted as failures by the breaker and the outlier detector (bit n = status
  // n). Default: DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE.
  uint32_t grpc_failures = kDefaultGrpcFailures;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

struct BreakerConfig {
  // Identifies this parse, so per-worker state notices a reload and picks up new settings.
  uint64_t generation = 0;
  std::unordered_map<std::string, ClusterLimits, StringHash, std::equal_to<>> clusters;

  // The limits of `cluster`, or nullptr when the filter does not govern it.
  const ClusterLimits* find(std::string_view cluster) const {
    auto it = clusters.find(cluster);
    return it == clusters.end() ? nullptr : &it->second;
  }
};

// Parses and validates the config block. On error returns nullptr and sets `error` to
// "<json path>: <what is wrong>", e.g. "clusters.users.breaker.window: must be at least 100ms".
std::unique_ptr<BreakerConfig> parseBreakerConfig(const nlohmann::json& json, std::string& error);

}  // namespace remora::circuit_breaker
