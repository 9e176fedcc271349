#include "admin/config_json.h"

namespace remora::admin {
namespace {

using nlohmann::json;

std::string durationString(config::Duration d) {
  return std::to_string(d.count()) + "ms";
}

json listenerJson(const config::Listener& l) {
  json routes = json::array();
  for (const auto& r : l.routes) routes.push_back({{"prefix", r.prefix}, {"cluster", r.cluster}});
  return {
      {"name", l.name},
      {"address", addressString(l.address)},
      {"limits",
       {{"max_request_headers_bytes", l.limits.max_request_headers_bytes},
        {"max_request_headers", l.limits.max_request_headers},
        {"buffer_high_watermark", l.limits.buffer_high_watermark}}},
      {"timeouts",
       {{"request_headers", durationString(l.timeouts.request_headers)},
        {"idle", durationString(l.timeouts.idle)},
        {"request", durationString(l.timeouts.request)},
        {"grpc_max", durationString(l.timeouts.grpc_max)}}},
      {"routes", std::move(routes)},
  };
}

json clusterJson(const config::Cluster& c) {
  json endpoints = json::array();
  for (const auto& e : c.endpoints) endpoints.push_back(addressString(e));
  return {
      {"name", c.name},
      {"endpoints", std::move(endpoints)},
      {"lb_policy", lbPolicyName(c.lb_policy)},
      {"connect_timeout", durationString(c.connect_timeout)},
      {"response_timeout", durationString(c.response_timeout)},
      {"max_connections_per_endpoint", c.max_connections_per_endpoint},
      {"max_pending_requests", c.max_pending_requests},
      {"max_connect_attempts", c.max_connect_attempts},
      {"idle_timeout", durationString(c.idle_timeout)},
  };
}

}  // namespace

std::string addressString(const config::SocketAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + address.host + "]" : address.host;
  return host + ":" + std::to_string(address.port);
}

const char* lbPolicyName(config::LbPolicy policy) {
  switch (policy) {
    case config::LbPolicy::kRoundRobin:
      return "round_robin";
    case config::LbPolicy::kLeastRequest:
      return "least_request";
  }
  return "unknown";
}

json toJson(const config::Config& config) {
  json listeners = json::array();
  for (const auto& l : config.listeners) listeners.push_back(listenerJson(l));
  json clusters = json::array();
  for (const auto& c : config.clusters) clusters.push_back(clusterJson(c));
  return {
      {"workers", config.workers},
      {"log_level", config.log_level},
      {"admin", {{"address", addressString(config.admin.address)}}},
      {"drain",
       {{"grace_period", durationString(config.drain.grace_period)},
        {"deadline", durationString(config.drain.deadline)}}},
      {"listeners", std::move(listeners)},
      {"clusters", std::move(clusters)},
  };
}

}  // namespace remora::admin
