#include "admin/config_json.h"

#include "config/admin_fields.h"
#include "config/cluster_fields.h"

namespace remora::admin {
namespace {

using nlohmann::json;

std::string durationString(config::Duration d) {
  return std::to_string(d.count()) + "ms";
}

json listenerJson(const config::Listener& l) {
  json routes = json::array();
  for (const auto& r : l.routes) routes.push_back({{"prefix", r.prefix}, {"cluster", r.cluster}});
  json out = {
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
      {"original_dst", l.original_dst},
  };
  // Routes are optional with a chain, and an empty list would not load back.
  if (!routes.empty()) out["routes"] = std::move(routes);
  // The chain, as toYaml() writes it, so the JSON view can be edited and pushed back
  // (PUT /config) without losing the filters.
  if (!l.filters.empty()) {
    json filters = json::array();
    for (const auto& f : l.filters)
      filters.push_back({{"name", f.name}, {"config", json::parse(f.config_json)}});
    out["filters"] = std::move(filters);
    out["filter_order"] = l.order_by_priority ? "priority" : "config";
    if (!l.filter_overrides.empty()) {
      json overrides = json::array();
      for (const auto& o : l.filter_overrides)
        overrides.push_back({{"prefix", o.prefix}, {"disable", o.disable}});
      out["filter_overrides"] = std::move(overrides);
    }
  }
  return out;
}

json clusterJson(const config::Cluster& c) {
  json endpoints = json::array();
  for (const auto& e : c.endpoints) endpoints.push_back(addressString(e));
  json out = {
      {"name", c.name},
      {"type", config::clusterTypeName(c.type)},
      {"endpoints", std::move(endpoints)},
      {"lb_policy", lbPolicyName(c.lb_policy)},
      {"connect_timeout", durationString(c.connect_timeout)},
      {"response_timeout", durationString(c.response_timeout)},
      {"max_connections_per_endpoint", c.max_connections_per_endpoint},
      {"max_pending_requests", c.max_pending_requests},
      {"max_connect_attempts", c.max_connect_attempts},
      {"idle_timeout", durationString(c.idle_timeout)},
      {"protocol", c.protocol == config::UpstreamProtocol::kHttp2 ? "http2" : "http1"},
      {"http2",
       {{"max_concurrent_streams", c.http2.max_concurrent_streams},
        {"initial_window_size", c.http2.initial_window_size},
        {"keepalive_interval", durationString(c.http2.keepalive_interval)},
        {"keepalive_timeout", durationString(c.http2.keepalive_timeout)}}},
  };
  if (c.health_check.enabled()) {
    const config::HealthCheck& h = c.health_check;
    out["health_check"] = {{"path", h.path},
                           {"interval", durationString(h.interval)},
                           {"timeout", durationString(h.timeout)},
                           {"healthy_threshold", h.healthy_threshold},
                           {"unhealthy_threshold", h.unhealthy_threshold},
                           {"expected_statuses", h.expected_statuses}};
  }
  // Discovered clusters: where the endpoints come from (the endpoints are at /clusters).
  const config::Discovery& d = c.discovery;
  if (c.type == config::ClusterType::kEtcd) {
    out["discovery"] = {{"prefix", d.prefix}};
  } else if (c.type == config::ClusterType::kDns) {
    json hosts = json::array();
    for (const auto& h : d.hosts) hosts.push_back(h.str());
    out["discovery"] = {{"hosts", std::move(hosts)}, {"refresh", durationString(d.refresh)}};
  }
  return out;
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

namespace {

// The token file's path, never the token.
json adminJson(const config::Admin& admin) {
  const config::AdminControl& c = admin.control;
  json control = json::object();
  if (c.unix_path.empty()) {
    control["address"] = addressString(c.address);
  } else {
    control["unix"] = c.unix_path;
    control["mode"] = config::formatMode(c.mode);
  }
  if (!c.token_file.empty()) control["token_file"] = c.token_file;
  if (c.allow_insecure) control["allow_insecure"] = true;
  return {{"address", addressString(admin.address)}, {"control", std::move(control)}};
}

}  // namespace

json toJson(const config::Config& config) {
  json listeners = json::array();
  for (const auto& l : config.listeners) listeners.push_back(listenerJson(l));
  json clusters = json::array();
  for (const auto& c : config.clusters) clusters.push_back(clusterJson(c));
  json out = {
      {"workers", config.workers},
      {"log_level", config.log_level},
      {"config_watch", config.config_watch},
      {"admin", adminJson(config.admin)},
      {"drain",
       {{"grace_period", durationString(config.drain.grace_period)},
        {"deadline", durationString(config.drain.deadline)}}},
      {"plugins", {{"dir", config.plugins.dir}, {"cache_dir", config.plugins.cache_dir}}},
      {"listeners", std::move(listeners)},
      {"clusters", std::move(clusters)},
  };
  if (!config.etcd.endpoints.empty()) {
    json endpoints = json::array();
    for (const auto& e : config.etcd.endpoints) endpoints.push_back(addressString(e));
    out["sources"] = {{"etcd",
                       {{"endpoints", std::move(endpoints)},
                        {"prefix", config.etcd.prefix},
                        {"instance", config.etcd.instance}}}};
  }
  if (!config.registration.service.empty()) {
    const config::Registration& r = config.registration;
    out["registration"] = {{"service", r.service},
                           {"address", addressString(r.address)},
                           {"prefix", r.prefix},
                           {"ttl", durationString(r.ttl)}};
  }
  return out;
}

}  // namespace remora::admin
