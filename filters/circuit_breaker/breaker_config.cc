#include "breaker_config.h"

#include <remora/sdk/config_reader.h>

#include <atomic>
#include <limits>

namespace remora::circuit_breaker {

using sdk::ConfigErrors;
using sdk::ConfigReader;
using sdk::Json;

namespace {

constexpr int64_t kMaxCount = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMinWindowMs = 100;  // ten buckets of at least 10ms each

std::atomic<uint64_t> next_generation{1};

uint32_t count(ConfigReader& r, std::string_view key, int64_t min, uint32_t fallback) {
  return static_cast<uint32_t>(r.integer(key, min, kMaxCount).value_or(fallback));
}

BreakerSettings parseBreaker(const Json& json, const std::string& path, ConfigErrors& errors) {
  ConfigReader r(json, path, errors);
  r.allowOnly({"consecutive_failures", "failure_ratio", "window", "min_requests", "cool_down",
               "half_open_probes"});
  BreakerSettings s;
  s.consecutive_failures = count(r, "consecutive_failures", 0, s.consecutive_failures);
  s.failure_ratio = r.number("failure_ratio", 0.0, 1.0).value_or(s.failure_ratio);
  s.window_ms = r.durationMs("window", kMinWindowMs).value_or(s.window_ms);
  s.min_requests = count(r, "min_requests", 1, s.min_requests);
  s.cool_down_ms = r.durationMs("cool_down", 1).value_or(s.cool_down_ms);
  s.half_open_probes = count(r, "half_open_probes", 1, s.half_open_probes);
  if (r.ok() && s.consecutive_failures == 0 && s.failure_ratio == 0) {
    r.failHere("consecutive_failures and failure_ratio are both 0: the breaker could never open");
  }
  return s;
}

OutlierSettings parseOutlier(const Json& json, const std::string& path, ConfigErrors& errors) {
  ConfigReader r(json, path, errors);
  r.allowOnly(
      {"consecutive_5xx", "consecutive_connect_errors", "base_ejection", "max_ejection_percent"});
  OutlierSettings s;
  s.consecutive_5xx = count(r, "consecutive_5xx", 0, s.consecutive_5xx);
  s.consecutive_connect_errors =
      count(r, "consecutive_connect_errors", 0, s.consecutive_connect_errors);
  s.base_ejection_ms = r.durationMs("base_ejection", 1).value_or(s.base_ejection_ms);
  s.max_ejection_percent = static_cast<uint32_t>(
      r.integer("max_ejection_percent", 0, 100).value_or(s.max_ejection_percent));
  if (r.ok() && s.consecutive_5xx == 0 && s.consecutive_connect_errors == 0) {
    r.failHere("consecutive_5xx and consecutive_connect_errors are both 0: nothing to detect");
  }
  return s;
}

constexpr std::string_view kGrpcNames[] = {
    "ok",        "cancelled",      "unknown",           "invalid_argument",   "deadline_exceeded",
    "not_found", "already_exists", "permission_denied", "resource_exhausted", "failed_precondition",
    "aborted",   "out_of_range",   "unimplemented",     "internal",           "unavailable",
    "data_loss", "unauthenticated"};

uint32_t parseGrpcFailures(const Json& list, const std::string& path, ConfigErrors& errors) {
  uint32_t bits = 0;  // an empty list turns gRPC failure counting off
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& item = list[i];
    int code = item.is_string() ? grpcStatusFromName(item.get<std::string>()) : -1;
    if (code <= 0) {
      errors.fail(
          sdk::indexPath(path, i),
          "must name a gRPC status other than ok (e.g. \"unavailable\"), got " + item.dump());
      return 0;
    }
    bits |= 1u << code;
  }
  return bits;
}

ClusterLimits parseCluster(const std::string& name, const Json& json, const std::string& path,
                           ConfigErrors& errors) {
  ClusterLimits c;
  c.name = name;
  ConfigReader r(json, path, errors);
  if (!r.ok()) return c;
  r.allowOnly({"max_active_requests", "max_pending_requests", "max_pending", "max_retries",
               "breaker", "outlier", "grpc_failure_statuses"});
  c.max_active_requests = count(r, "max_active_requests", 1, 0);
  if (r.ok() && !r.has("max_active_requests")) r.fail("max_active_requests", "is required");
  // max_pending_requests is Envoy's name; max_pending, the name of the first releases, still works.
  if (r.ok() && r.has("max_pending_requests") && r.has("max_pending"))
    r.fail("max_pending", "is another name for max_pending_requests: give only one");
  for (std::string_view key : {"max_pending_requests", "max_pending"})
    if (auto v = r.integer(key, 0, kMaxCount)) c.max_pending = static_cast<uint32_t>(*v);
  if (auto v = r.integer("max_retries", 0, kMaxCount)) c.max_retries = static_cast<uint32_t>(*v);
  if (const Json* b = r.object("breaker"))
    c.breaker = parseBreaker(*b, r.pathOf("breaker"), errors);
  if (const Json* o = r.object("outlier"))
    c.outlier = parseOutlier(*o, r.pathOf("outlier"), errors);
  if (const Json* g = r.array("grpc_failure_statuses"))
    c.grpc_failures = parseGrpcFailures(*g, r.pathOf("grpc_failure_statuses"), errors);
  return c;
}

}  // namespace

int grpcStatusFromName(std::string_view name) {
  for (size_t i = 0; i < std::size(kGrpcNames); ++i) {
    std::string_view n = kGrpcNames[i];
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < n.size() && same; ++k)
      same = n[k] == name[k] || (n[k] == '_' && name[k] == '-');
    if (same) return int(i);
  }
  return -1;
}

std::unique_ptr<BreakerConfig> parseBreakerConfig(const Json& json, std::string& error) {
  ConfigErrors errors;
  auto config = std::make_unique<BreakerConfig>();
  {
    ConfigReader top(json, "", errors);
    top.allowOnly({"clusters"});
    if (const Json* clusters = top.object("clusters", /*required=*/true)) {
      for (auto it = clusters->begin(); it != clusters->end() && !errors.failed(); ++it) {
        std::string path = sdk::fieldPath("clusters", it.key());
        if (it.key().empty()) {
          errors.fail("clusters", "a cluster name must not be empty");
          break;
        }
        ClusterLimits limits = parseCluster(it.key(), it.value(), path, errors);
        limits.index = config->clusters.size();
        config->clusters.emplace(it.key(), std::move(limits));
      }
    }
  }
  if (errors.failed()) {
    error = errors.first();
    return nullptr;
  }
  config->generation = next_generation.fetch_add(1, std::memory_order_relaxed);
  return config;
}

}  // namespace remora::circuit_breaker
