#pragma once
// The router filter on the SDK: picks a route at request headers and hands the decision to the
// kernel (set_route), or answers itself (direct response, redirect, 404 "no route").
//
// Chain position: last on the request side (priority 1000), since later filters could not change
// where the request goes anyway. Filters that need the chosen cluster (circuit_breaker) run after
// it and read the stream metadata "remora.cluster", which the kernel sets from the route.

#include <remora/sdk/filter.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "route_config.h"

namespace remora::router {

// The config object the kernel holds per config push: the parsed routes plus metric handles.
// Immutable after create() except the once-only log flags, which are atomics.
class RouterPluginConfig {
 public:
  static std::unique_ptr<RouterPluginConfig> create(const nlohmann::json& json,
                                                    sdk::ConfigContext& ctx, std::string& error);

  std::unique_ptr<RouterConfig> routes;
  std::vector<sdk::Counter> matched;  // per route, label route=<name>
  sdk::Counter no_route;
  sdk::Counter refused;  // set_route refused by the kernel (unknown cluster)
  // One warning per config for refused routes; the counter tells how many followed.
  mutable std::atomic<bool> refusal_logged{false};
};

class RouterFilter : public sdk::Filter {
 public:
  explicit RouterFilter(const RouterPluginConfig& config) : config_(config) {}

  sdk::Status onRequestHeaders(bool end_stream) override;

 private:
  sdk::Status forward(const Route& route);
  sdk::Status reply(int status, std::string_view body, sdk::HeaderList headers);

  const RouterPluginConfig& config_;
};

}  // namespace remora::router
